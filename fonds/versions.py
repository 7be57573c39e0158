"""Versions of a document and what changed between them, sentence by sentence.

Every content a document's URLs have served is a version (fonds/catalog_versions.py
keeps them). When the ingest replaces a document's passages with those of a new
version, the catalog compares the two texts here and stores the result with the new
version: « Ce qui a changé » reads it, nothing is recomputed per view.

The comparison is by sentence, in reading order, over the whole text (passages overlap
by a sentence and their boundaries move when text is added: comparing passage to
passage would call unchanged sentences changed). Each sentence keeps its page.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fonds.models import PassageRecord
from fonds.text import one_line

# Where a sentence ends: the pattern ingest/chunk.py splits paragraphs with (the core
# imports no stage, so it is repeated here; a drift only moves where sentences split).
_SENTENCE_END = re.compile(r"(?<=[.!?…])[»\")]*\s+(?=[«\"(\-—–•]?\s*[A-ZÀ-ÝÉÈ0-9])")
_LIST_ITEM = re.compile(r"\s+(?=[•▪►✓]\s)")
MAX_CARRIED = 600  # characters of a sentence a passage carries over (40 words at most)
MAX_SENTENCE = 1000  # characters of a sentence kept in a stored diff
MAX_CHANGES = 400  # changes kept in a stored diff (the counts count them all)
SIMILAR = 0.6  # two sentences this alike are one sentence changed, not one out, one in
MAX_PAIRING = 4000  # a replaced block larger than this (old × new) is not paired up
DIFF_ANCHOR = "ce-qui-a-change"
MAX_VERSION = 1_000_000


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class Sentence:
    text: str
    page: int | None


@dataclass(frozen=True)
class Change:
    """One sentence added, removed, or changed (then both texts), with its pages."""

    kind: ChangeKind
    before: str = ""
    after: str = ""
    page_before: int | None = None
    page_after: int | None = None

    @property
    def page(self) -> int | None:
        """The page a reader looks at: in the new version, unless the sentence left."""
        return self.page_before if self.kind is ChangeKind.REMOVED else self.page_after

    def as_json(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "before": self.before, "after": self.after,
                "page_before": self.page_before, "page_after": self.page_after}


@dataclass(frozen=True)
class Diff:
    """What changed from the version `base` (its sha256) to the next one compared."""

    base: str
    added: int
    removed: int
    changed: int
    changes: tuple[Change, ...]
    truncated: bool = False  # more changes than MAX_CHANGES: the counts count them all

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, Any]:
        return {"base": self.base, "added": self.added, "removed": self.removed,
                "changed": self.changed, "truncated": self.truncated,
                "changes": [c.as_json() for c in self.changes]}

    def dumps(self) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False)


@dataclass(frozen=True)
class Version:
    """One content a document's URLs served: number 1 is the first seen."""

    doc_id: str
    number: int
    sha256: str
    size: int | None
    pages: int | None
    file_path: str | None
    media_type: str | None
    first_seen: str
    last_seen: str
    diff: Diff | None  # against the version whose text the ingest replaced; None: none
    diff_error: str | None = None  # why there is no comparison, when one was expected


def sentences(passages: Sequence[PassageRecord]) -> list[Sentence]:
    """A document's sentences in reading order, each with its page. The text is read page
    by page, passages joined: where passages begin must not change the sentences (the
    sentence a passage carries over from the previous one, ingest/chunk.py, is read
    once), and a page ends a sentence (a line without a full stop at the foot of a page
    is not joined to the next page's first: inserting a page would change both). A list
    item is a sentence of its own."""
    pages: list[tuple[int | None, list[str]]] = []
    previous = ""
    for passage in sorted(passages, key=lambda p: p.position):
        text = passage.text
        skip = _carried(previous, text)
        previous = text
        starts = [(skip, passage.page_at(skip)), *((o, page) for o, page in passage.page_breaks
                                                   if skip < o < len(text))]
        for (offset, page), (end, _) in zip(starts, [*starts[1:], (len(text), None)],
                                            strict=True):
            if pages and pages[-1][0] == page:
                pages[-1][1].append(text[offset:end])
            else:
                pages.append((page, [text[offset:end]]))
    return [Sentence(t, page) for page, parts in pages
            for piece in _SENTENCE_END.split(" ".join(parts))
            for item in _LIST_ITEM.split(piece) if (t := one_line(item).strip())]


def _carried(previous: str, text: str) -> int:
    """How many characters at the start of `text` repeat the end of `previous`, whole
    words, with the space after them; 0 if none. The chunker carries a passage's last
    sentence into the next when it is short; a passage that did not, yet begins with the
    words the previous one ends with, loses one repeated word here: a smaller harm than a
    carried sentence read twice, which moves with every new passage boundary. The longest
    match: a sentence may begin and end with the same words (« 10 … 10 » in a contents
    page)."""
    best = 0
    for k in range(1, min(len(text), MAX_CARRIED)):
        if text[k] == " " and previous.endswith(text[:k]) and (
                len(previous) == k or previous[-k - 1] == " "):
            best = k
    return best + 1 if best else 0


def compare(old: Sequence[PassageRecord], new: Sequence[PassageRecord], base: str) -> Diff:
    """The sentences added, removed and changed from `old` to `new` (`base` names the
    old version)."""
    before, after = sentences(old), sentences(new)
    matcher = difflib.SequenceMatcher(None, [s.text for s in before],
                                      [s.text for s in after], autojunk=False)
    changes: list[Change] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        changes.extend(_block(before[i1:i2], after[j1:j2]))
    counts = {kind: sum(c.kind is kind for c in changes) for kind in ChangeKind}
    kept = [_capped(c) for c in changes[:MAX_CHANGES]]
    return Diff(base, counts[ChangeKind.ADDED], counts[ChangeKind.REMOVED],
                counts[ChangeKind.CHANGED], tuple(kept), truncated=len(changes) > MAX_CHANGES)


def _block(old: list[Sentence], new: list[Sentence]) -> list[Change]:
    """A replaced run of sentences: each old one paired, in order, with the first new one
    alike enough (changed); the others were removed or added."""
    if not old or not new or len(old) * len(new) > MAX_PAIRING:
        return ([Change(ChangeKind.REMOVED, before=s.text, page_before=s.page) for s in old]
                + [Change(ChangeKind.ADDED, after=s.text, page_after=s.page) for s in new])
    out: list[Change] = []
    j = 0
    for sentence in old:
        match = next((k for k in range(j, len(new)) if _alike(sentence.text, new[k].text)),
                     None)
        if match is None:
            out.append(Change(ChangeKind.REMOVED, before=sentence.text,
                              page_before=sentence.page))
            continue
        out.extend(Change(ChangeKind.ADDED, after=s.text, page_after=s.page)
                   for s in new[j:match])
        out.append(Change(ChangeKind.CHANGED, sentence.text, new[match].text, sentence.page,
                          new[match].page))
        j = match + 1
    out.extend(Change(ChangeKind.ADDED, after=s.text, page_after=s.page) for s in new[j:])
    return out


def _alike(a: str, b: str) -> bool:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR \
        and matcher.ratio() >= SIMILAR


def _capped(change: Change) -> Change:
    def cap(text: str) -> str:
        return text if len(text) <= MAX_SENTENCE else text[:MAX_SENTENCE - 1] + "…"
    return Change(change.kind, cap(change.before), cap(change.after), change.page_before,
                  change.page_after)


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """A changed sentence as (kind, words) runs: "same", "removed", "added"; what the
    page marks inside « avant » and « après »."""
    a, b = before.split(), after.split()
    runs: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b,
                                                       autojunk=False).get_opcodes():
        if tag == "equal":
            runs.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            runs.append(("added", " ".join(b[j1:j2])))
    return runs


# -- the stored form: read back at the edge (a damaged cell is a reason, not a crash) --------

def _page(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and \
        0 < value < 1_000_000 else None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else 0


def load_diff(cell: str | None) -> tuple[Diff | None, str | None]:
    """A stored diff, or (None, why) when the cell is damaged; (None, None) when empty."""
    if not cell:
        return None, None
    try:
        data = json.loads(cell)
    except json.JSONDecodeError:
        return None, "comparaison enregistrée illisible"
    if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
        return None, "comparaison enregistrée illisible"
    if isinstance(data.get("unavailable"), str):
        return None, one_line(data["unavailable"])[:300]
    changes = []
    for item in data["changes"]:
        if not isinstance(item, dict) or item.get("kind") not in set(ChangeKind):
            continue
        changes.append(Change(ChangeKind(item["kind"]),
                              one_line(item.get("before") or "")[:MAX_SENTENCE],
                              one_line(item.get("after") or "")[:MAX_SENTENCE],
                              _page(item.get("page_before")), _page(item.get("page_after"))))
    base = data.get("base")
    base = base if isinstance(base, str) else ""
    return Diff(base, _count(data.get("added")), _count(data.get("removed")),
                _count(data.get("changed")), tuple(changes),
                bool(data.get("truncated"))), None


def unavailable(reason: str) -> str:
    """The stored form of « no comparison », with its reason (shown on the page)."""
    return json.dumps({"unavailable": reason, "changes": []}, ensure_ascii=False)


def summary_fr(added: int, removed: int, changed: int) -> str:
    """« 2 phrases ajoutées, 1 retirée, 3 modifiées »; what a diff counts, in French."""
    parts = [f"{n} {one if n == 1 else many}" for n, one, many in (
        (added, "ajoutée", "ajoutées"), (removed, "retirée", "retirées"),
        (changed, "modifiée", "modifiées")) if n]
    if not parts:
        return "aucune phrase ne change (même texte extrait)"
    count, rest = parts[0].split(" ", 1)
    parts[0] = f"{count} {'phrase' if count == '1' else 'phrases'} {rest}"
    return ", ".join(parts)


def version_number(value: object) -> int | None:
    """A version number from outside (a URL's ?version=): 1 to MAX_VERSION, else None;
    never clamped (version 0 or 10**9 is no version) nor handed to int() unchecked."""
    text = value.strip() if isinstance(value, str) else ""
    if not re.fullmatch(r"\d{1,7}", text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_VERSION else None


def diff_link(doc_id: str, number: int) -> str:
    """The UI's address of a version's « Ce qui a changé » (relative, unescaped)."""
    return f"?vue=document&doc={doc_id}&version={number}#{DIFF_ANCHOR}"
