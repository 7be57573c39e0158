"""Near-duplicate documents: MinHash signatures over word shingles, and the fold groups.

The same guide is often published by several bodies as different bytes (another
compression, a cover page, a page added): the sha256 dedupe cannot see it. A document's
signature is the MinHash of the 5-word shingles of its passages (folded words: case,
accents and spacing do not count); two documents fold when their shingle sets are nearly
the same or one nearly contains the other (a cover page or an annex added), within a
bounded size ratio (an excerpt or a longer edition is another document).

Pure functions: the engines keep the signatures with their documents and call `assign` when
a document is indexed; `fonds reindex` recomputes every group in one pass.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from fonds import french

SHINGLE_WORDS = 5
PERMUTATIONS = 128
# LSH: candidates share one band of 2 minimums. A copy with a page added can have a Jaccard
# similarity as low as 0.36 (containment 0.8, twice the size): found with probability 0.99.
BANDS, ROWS = 32, 2
# Below this many shingles a text is too short to tell a copy from a shared template
# (a title, a form's labels): such documents never fold.
MIN_SHINGLES = 40
# Calibrated on the 36 PDFs of ../shared/corpus/pdfs with a text layer: each re-saved by
# pypdf with another producer and a page added, or with a new cover page, has containment
# ≥ 0.99 with its original (72 of 72 fold); of the 630 pairs of distinct PDFs none folds:
# the closest, 0.73, is a legal annex inside a kit 2.6 times its size; the two Défenseur
# des droits decisions built on one template 0.02; two yearly minutes of one association
# 0.05; a mandate and its translation 0.62. Distinct service-public.fr fiches sharing their
# procedure paragraphs (../shared/eval/service-public) reach 0.80-0.91: they stay apart.
CONTAINMENT_THRESHOLD = 0.95
MAX_SIZE_RATIO = 2.0  # the larger set at most twice the smaller: not an excerpt of it



def _constants(name: str) -> np.ndarray:
    """PERMUTATIONS fixed 64-bit numbers: signatures are stored and compared later, so the
    hash functions must not depend on a random generator's version."""
    return np.array([int.from_bytes(hashlib.blake2b(f"{name}{i}".encode(), digest_size=8)
                                    .digest(), "big") for i in range(PERMUTATIONS)],
                    dtype=np.uint64)


_XOR = _constants("fonds-fold-xor-")
_MUL = _constants("fonds-fold-mul-") | np.uint64(1)  # odd: multiplication is a bijection
_ROLL = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier combining a window's word hashes
_CHUNK = 4096  # shingles hashed per numpy step (bounds memory on long reports)
_EMPTY = np.zeros(0, dtype=np.uint32)


@dataclass(frozen=True)
class Signature:
    """MinHash minimums (PERMUTATIONS 32-bit values, packed big-endian: compact enough to
    keep one per document in memory) and the number of distinct shingles."""

    mins: bytes
    size: int

    @property
    def usable(self) -> bool:
        return self.size >= MIN_SHINGLES and len(self.mins) == 4 * PERMUTATIONS

    @property
    def values(self) -> np.ndarray:
        return np.frombuffer(self.mins, dtype=">u4") if self.mins else _EMPTY

    def encode(self) -> str:
        """A text form for an index field: the size, then the minimums in hex."""
        return f"{self.size}:{self.mins.hex()}"

    @classmethod
    def decode(cls, text: object) -> Signature | None:
        """The signature an index stored, or None for anything else (damaged, older)."""
        if isinstance(text, bytes):
            text = text.decode("ascii", errors="replace")
        if not isinstance(text, str) or ":" not in text:
            return None
        size, _, digits = text.partition(":")
        if not size.isdigit() or len(digits) != 8 * PERMUTATIONS:
            return None
        try:
            return cls(bytes.fromhex(digits), int(size))
        except ValueError:
            return None

    def bands(self) -> tuple[str, ...]:
        """LSH band keys: two signatures sharing one are candidates."""
        if not self.usable:
            return ()
        step = 4 * ROWS
        return tuple(f"{b:02d}{self.mins[b * step:(b + 1) * step].hex()}"
                     for b in range(BANDS))


def shingles(texts: Iterable[str]) -> np.ndarray:
    """Distinct 64-bit hashes of the SHINGLE_WORDS-word windows of the texts, read as one
    text (words folded: case and accents do not count, nor spacing)."""
    words = [w for text in texts for w in french.words(text)]
    if len(words) < SHINGLE_WORDS:
        return np.zeros(0, dtype=np.uint64)
    hashed = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), dtype=np.uint64,
                         count=len(words))
    n = len(words) - SHINGLE_WORDS + 1
    window = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):  # hashing wraps modulo 2**64 on purpose
        for i in range(SHINGLE_WORDS):
            window = window * _ROLL + hashed[i:i + n]
    return np.unique(window)


def signature(texts: Iterable[str]) -> Signature:
    """The MinHash signature of a document's passage texts."""
    hashed = shingles(texts)
    if not len(hashed):
        return Signature(b"", 0)
    mins = np.full(PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):  # multiply-shift hashing wraps modulo 2**64 on purpose
        for start in range(0, len(hashed), _CHUNK):
            block = hashed[start:start + _CHUNK, None]
            mins = np.minimum(mins, ((block ^ _XOR) * _MUL).min(axis=0))
    return Signature((mins >> np.uint64(32)).astype(">u4").tobytes(), len(hashed))


def resemblance(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    if not a.mins or len(a.mins) != len(b.mins):
        return 0.0
    return float(np.mean(a.values == b.values))


def containment(a: Signature, b: Signature) -> float:
    """Estimated share of the smaller set found in the larger one."""
    j = resemblance(a, b)
    smaller = min(a.size, b.size)
    if not smaller:
        return 0.0
    return min(j * (a.size + b.size) / (1 + j) / smaller, 1.0)


def same_document(a: Signature, b: Signature) -> bool:
    """Whether two documents are copies of one publication."""
    if not (a.usable and b.usable):
        return False
    if max(a.size, b.size) > MAX_SIZE_RATIO * min(a.size, b.size):
        return False
    return containment(a, b) >= CONTAINMENT_THRESHOLD


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
        self._bands: dict[str, set[str]] = {}
        for doc_id, (sig, group) in known.items():
            self.add(doc_id, sig, group)

    def add(self, doc_id: str, sig: Signature | None, group: str) -> None:
        self.remove(doc_id)
        self.groups[doc_id] = group
        if sig is None:
            return
        self.signatures[doc_id] = sig
        for band in sig.bands():
            self._bands.setdefault(band, set()).add(doc_id)

    def remove(self, doc_id: str) -> None:
        sig = self.signatures.pop(doc_id, None)
        self.groups.pop(doc_id, None)
        if sig is not None:
            for band in sig.bands():
                members = self._bands.get(band)
                if members is not None:
                    members.discard(doc_id)
                    if not members:
                        del self._bands[band]

    def assign(self, doc_id: str, sig: Signature) -> str:
        """The group of a document being indexed: that of the most similar copy already
        indexed, else a new one it founds. Recorded here."""
        candidates = {d for band in sig.bands() for d in self._bands.get(band, ())}
        candidates.discard(doc_id)
        best: tuple[float, str] | None = None
        for other in sorted(candidates):
            theirs = self.signatures[other]
            if same_document(sig, theirs):
                score = containment(sig, theirs)
                if best is None or score > best[0]:
                    best = (score, other)
        group = self.groups[best[1]] if best is not None else new_group(doc_id, sig)
        self.add(doc_id, sig, group)
        return group
