"""Near-duplicate documents: sketches of their word shingles, and the fold groups.

The same guide is often published by several bodies as different bytes (another
compression, a cover page, a page added): the sha256 dedupe cannot see it. A document's
signature is a bottom-k MinHash sketch of the 5-word shingles of its passages (case,
accents and spacing do not count); two documents fold when one holds nearly all the other's
shingles (a cover page or an annex added), within a bounded size ratio (an excerpt or a
longer edition is another document).

Pure functions: the engines keep the signatures with their documents and call
`FoldIndex.assign` when a document is indexed; `fonds reindex` recomputes every group.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

SHINGLE_WORDS = 5
# A bottom-k sketch: the K smallest shingle hashes (one hash function, so computing it is
# one pass over the shingles, not K). Two sketches estimate the Jaccard similarity from the
# K smallest hashes of their union (Broder 1997).
K = 128
# Candidates share one of their LSH_KEYS smallest hashes: a copy holds ≥ 95 % of the
# smaller text, so its smallest hashes are almost all the other's smallest too.
LSH_KEYS = 16
# Below this many shingles a text is too short to tell a copy from a shared template
# (a title, a form's labels): such documents never fold.
MIN_SHINGLES = 40
# Calibrated on the 36 PDFs of ../shared/corpus/pdfs with a text layer: each re-saved by
# pypdf with another producer and a page added, or with a new cover page, has containment
# ≥ 0.987 with its original (72 of 72 fold); of the 630 pairs of distinct PDFs none folds:
# the closest are a mandate and its Arabic translation (0.72) and a legal annex inside a
# kit 2.5 times its size (0.64); the two Défenseur des droits decisions built on one
# template 0.00; two yearly minutes of one association 0.09. Distinct service-public.fr
# fiches sharing their procedure paragraphs (../shared/eval/service-public) reach 0.88.
CONTAINMENT_THRESHOLD = 0.95
MAX_SIZE_RATIO = 2.0  # the larger set at most twice the smaller: not an excerpt of it
COMPARED_PER_GROUP = 4  # copies of a group compared with a new document



_MIX = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)  # splitmix64's finalizer: shingle → hash
_ROLL = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier combining a window's word hashes
_P = 0x100000001B3  # odd: the byte polynomial of a word's hash, and its inverse mod 2**64
_P_INVERSE = pow(_P, -1, 2**64)
_COMBINING = re.compile("[\u0300-\u036f]")
# Non-ASCII characters that separate words as spaces do (ASCII punctuation already does).
_SEPARATORS = re.compile("[\u00a0\u202f\u2009\u2007\u00ab\u00bb\u2018\u2019\u201c\u201d"
                         "\u2026\u2013\u2014\u2022\u00b7\u00ad\ufeff]")
_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[np.r_[ord("0"):ord("9") + 1, ord("a"):ord("z") + 1, 0x80:256]] = True
_EMPTY = np.zeros(0, dtype=np.uint64)


@dataclass(frozen=True)
class Signature:
    """The K smallest shingle hashes, ascending (64-bit, packed big-endian: compact enough
    to keep one per document in memory), and the number of distinct shingles."""

    mins: bytes
    size: int

    @property
    def usable(self) -> bool:
        return self.size >= MIN_SHINGLES and len(self.mins) == 8 * min(self.size, K)

    @property
    def values(self) -> np.ndarray:
        return np.frombuffer(self.mins, dtype=">u8") if self.mins else _EMPTY

    def encode(self) -> str:
        """A text form for an index field: the size, then the hashes in hex."""
        return f"{self.size}:{self.mins.hex()}"

    @classmethod
    def decode(cls, text: object) -> Signature | None:
        """The signature an index stored, or None for anything else (damaged, older)."""
        if isinstance(text, bytes):
            text = text.decode("ascii", errors="replace")
        if not isinstance(text, str) or ":" not in text:
            return None
        size, _, digits = text.partition(":")
        if not size.isdigit() or len(digits) != 16 * min(int(size), K):
            return None
        try:
            mins = bytes.fromhex(digits)
        except ValueError:
            return None
        values = np.frombuffer(mins, dtype=">u8")
        if len(values) > 1 and not bool(np.all(values[1:] > values[:-1])):
            return None  # not a sketch: the hashes are distinct and ascending
        return cls(mins, int(size))

    def lsh_keys(self) -> tuple[int, ...]:
        """LSH keys: two signatures sharing one are candidates."""
        if not self.usable:
            return ()
        return tuple(int(v) for v in self.values[:LSH_KEYS])

    def bands(self) -> tuple[str, ...]:
        """The LSH keys as text (a Meilisearch filterable attribute)."""
        return tuple(f"{key:016x}" for key in self.lsh_keys())


def _word_hashes(text: str) -> np.ndarray:
    """A 64-bit hash of each word of a text, in order, computed on its bytes with numpy
    (a per-word Python loop cost as much as the rest of an ingest's index step). Words are
    runs of ASCII letters and digits or non-ASCII characters, after lower-casing and
    removing accents; everything else separates them."""
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower()))
    data = np.frombuffer(_SEPARATORS.sub(" ", folded).encode("utf-8"), dtype=np.uint8)
    if not len(data):
        return np.zeros(0, dtype=np.uint64)
    inside = _WORD_BYTE[data]
    edges = np.diff(np.concatenate(([False], inside, [False])).astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    with np.errstate(over="ignore"):  # hashing wraps modulo 2**64 on purpose
        # Polynomial hash of each word: prefix sums of (byte + 1) · P^i, shifted back to
        # the word's first byte by P⁻¹^i (P is odd, so invertible modulo 2**64).
        powers, inverse = _powers(len(data))
        prefix = np.concatenate((np.zeros(1, dtype=np.uint64),
                                 np.cumsum((data.astype(np.uint64) + np.uint64(1)) * powers)))
        hashes: np.ndarray = (prefix[ends] - prefix[starts]) * inverse[starts]
        return hashes


_POWERS: list[tuple[np.ndarray, np.ndarray]] = []  # P^i and P⁻¹^i, grown on demand


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P^1..P^n and P⁻¹^1..P⁻¹^n (mod 2**64), computed once for the longest text seen."""
    if not _POWERS or len(_POWERS[0][0]) < n:
        size = max(n, 2 * len(_POWERS[0][0]) if _POWERS else 1 << 16)
        with np.errstate(over="ignore"):
            _POWERS[:] = [(np.cumprod(np.full(size, _P, dtype=np.uint64)),
                           np.cumprod(np.full(size, _P_INVERSE, dtype=np.uint64)))]
    powers, inverse = _POWERS[0]
    return powers[:n], inverse[:n]


def shingles(texts: Iterable[str]) -> np.ndarray:
    """Distinct 64-bit hashes of the SHINGLE_WORDS-word windows of the texts, read as one
    text (case, accents and spacing do not count)."""
    hashed = _word_hashes(" ".join(texts))
    if len(hashed) < SHINGLE_WORDS:
        return np.zeros(0, dtype=np.uint64)
    n = len(hashed) - SHINGLE_WORDS + 1
    window = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):  # hashing wraps modulo 2**64 on purpose
        for i in range(SHINGLE_WORDS):
            window = window * _ROLL + hashed[i:i + n]
    return np.unique(window)


def signature(texts: Iterable[str]) -> Signature:
    """The bottom-k sketch of a document's passage texts."""
    hashed = shingles(texts)
    if not len(hashed):
        return Signature(b"", 0)
    with np.errstate(over="ignore"):  # hashing wraps modulo 2**64 on purpose
        mixed = hashed ^ (hashed >> np.uint64(30))
        mixed = mixed * np.uint64(_MIX[0])
        mixed ^= mixed >> np.uint64(27)
        mixed = mixed * np.uint64(_MIX[1])
        mixed ^= mixed >> np.uint64(31)
    # (Each step is a bijection of 64-bit numbers: distinct shingles keep distinct hashes.)
    smallest = np.sort(mixed if len(mixed) <= K else np.partition(mixed, K - 1)[:K])
    return Signature(smallest.astype(">u8").tobytes(), len(mixed))


def resemblance(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets: the share of the K smallest
    hashes of their union found in both."""
    va, vb = a.values, b.values
    if not len(va) or not len(vb):
        return 0.0
    # The K smallest of the union are the K smallest of both sets together, and each
    # sketch holds every hash of its set down there: membership in both is exact.
    merged = np.sort(np.concatenate((va, vb)))
    union = merged[np.concatenate(([True], merged[1:] != merged[:-1]))][:K]
    found = vb[np.minimum(np.searchsorted(vb, va), len(vb) - 1)] == va
    both = int(np.count_nonzero(found & (va <= union[-1])))
    return both / len(union)


def containment(a: Signature, b: Signature) -> float:
    """Estimated share of the smaller set found in the larger one."""
    j = resemblance(a, b)
    smaller = min(a.size, b.size)
    if not smaller:
        return 0.0
    return min(j * (a.size + b.size) / (1 + j) / smaller, 1.0)


def same_document(a: Signature, b: Signature) -> bool:
    """Whether two documents are copies of one publication."""
    return copy_score(a, b) is not None


def copy_score(a: Signature, b: Signature) -> float | None:
    """The containment of two copies of one publication; None when they are not."""
    if not (a.usable and b.usable):
        return None
    if max(a.size, b.size) > MAX_SIZE_RATIO * min(a.size, b.size):
        return None
    score = containment(a, b)
    return score if score >= CONTAINMENT_THRESHOLD else None


def new_group(doc_id: str, sig: Signature) -> str:
    """The key of a group founded by a document: its id and its text's signature, so that a
    founder whose text changes does not keep the copies it no longer resembles."""
    digest = hashlib.blake2b(sig.mins, digest_size=4).hexdigest()
    return f"{doc_id}~{digest}"


class FoldIndex:
    """Signatures and groups of an index's documents, with LSH bands for candidates: what an
    engine consults when it indexes a document (in memory; rebuilt from the index)."""

    def __init__(self, known: Mapping[str, tuple[Signature | None, str]] = {}) -> None:
        self.signatures: dict[str, Signature] = {}
        self.groups: dict[str, str] = {}
        self._bands: dict[int, set[str]] = {}
        for doc_id, (sig, group) in known.items():
            self.add(doc_id, sig, group)

    def add(self, doc_id: str, sig: Signature | None, group: str) -> None:
        self.remove(doc_id)
        self.groups[doc_id] = group
        if sig is None:
            return
        self.signatures[doc_id] = sig
        for key in sig.lsh_keys():
            self._bands.setdefault(key, set()).add(doc_id)

    def remove(self, doc_id: str) -> None:
        sig = self.signatures.pop(doc_id, None)
        self.groups.pop(doc_id, None)
        if sig is not None:
            for key in sig.lsh_keys():
                members = self._bands.get(key)
                if members is not None:
                    members.discard(doc_id)
                    if not members:
                        del self._bands[key]

    def assign(self, doc_id: str, sig: Signature) -> str:
        """The group of a document being indexed: that of the most similar copy already
        indexed, else a new one it founds. Recorded here."""
        candidates = {d for key in sig.lsh_keys() for d in self._bands.get(key, ())}
        candidates.discard(doc_id)
        best: tuple[float, str] | None = None
        tried: dict[str, int] = {}  # per group: a few copies tell, not all of them
        for other in sorted(candidates):
            group = self.groups[other]
            if tried.get(group, 0) >= COMPARED_PER_GROUP:
                continue
            tried[group] = tried.get(group, 0) + 1
            score = copy_score(sig, self.signatures[other])
            if score is not None and (best is None or score > best[0]):
                best = (score, other)
        group = self.groups[best[1]] if best is not None else new_group(doc_id, sig)
        self.add(doc_id, sig, group)
        return group
