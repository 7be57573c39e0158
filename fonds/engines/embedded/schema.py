"""The tantivy schema of the embedded engine and the entries written into it.

Two kinds of entries: one per passage (ranked, shown) and one per document holding all its
words, so that totals and facet counts are counted on documents directly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import tantivy

from fonds import fold
from fonds.engines.base import DocFields, Passage

SCHEMA_VERSION = 3  # 2: page breaks stored with each passage; 3: near-duplicate groups
KEYWORD_FIELDS = ("doc_id", "source", "doc_type", "themes", "departements")
PASSAGE, DOC = "passage", "doc"  # the two kinds of entries


def build_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("kind", stored=False, tokenizer_name="raw")
    b.add_text_field("passage_id", stored=True, tokenizer_name="raw")
    for name in KEYWORD_FIELDS:
        b.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    for name in ("title", "heading", "text"):
        b.add_text_field(name, stored=True, tokenizer_name="fr")
    # Whole unstemmed words of title, heading and text, for typo and prefix matching only.
    b.add_text_field("exact", stored=False, tokenizer_name="fr_exact", index_option="basic")
    b.add_integer_field("doc_ord", stored=False, indexed=False, fast=True)
    b.add_text_field("doc_text", stored=False, tokenizer_name="fr")
    b.add_text_field("doc_exact", stored=False, tokenizer_name="fr_exact", index_option="basic")
    b.add_text_field("url", stored=True, tokenizer_name="raw")
    b.add_text_field("date", stored=True, tokenizer_name="raw")
    b.add_integer_field("year", stored=True, indexed=True, fast=True)
    b.add_integer_field("date_key", stored=False, indexed=False, fast=True)
    b.add_integer_field("page", stored=True)
    b.add_text_field("page_breaks", stored=True, index_option="basic", tokenizer_name="raw")
    b.add_integer_field("position", stored=True, indexed=True, fast=True)
    # Document entries: the near-duplicate group and the MinHash signature it came from.
    b.add_text_field("fold", stored=True, tokenizer_name="raw")
    b.add_bytes_field("fold_sig", stored=True)
    return b.build()


@dataclass(frozen=True)
class DocInfo(DocFields):
    """Document-level fields, the same on every passage; read once per commit."""

    year: int | None
    fold_sig: bytes = field(default=b"", kw_only=True, compare=False, repr=False)

    def facet_values(self, facet: str) -> tuple[str, ...]:
        if facet in ("themes", "departements"):
            values: tuple[str, ...] = getattr(self, facet)
            return values
        if facet == "year":
            return (str(self.year),) if self.year else ()
        value: str = getattr(self, facet)
        return (value,) if value else ()

    @classmethod
    def from_stored(cls, doc: dict[str, list[Any]]) -> DocInfo:
        return cls(
            doc_id=first(doc, "doc_id"), title=first(doc, "title", ""),
            url=first(doc, "url", ""), source=first(doc, "source", ""),
            doc_type=first(doc, "doc_type", ""), themes=tuple(doc.get("themes", [])),
            departements=tuple(doc.get("departements", [])), date=first(doc, "date"),
            year=first(doc, "year"), fold=first(doc, "fold", ""),
            fold_sig=first(doc, "fold_sig", b""),
        )


def doc_ord(doc_id: str) -> int:
    """A number for a document id, for fast fields (52 bits: exact through JSON floats)."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") >> 12


def first(doc: dict[str, list[Any]], name: str, default: Any = None) -> Any:
    values = doc.get(name) or []
    return values[0] if values else default


def _common(p: Passage, **fields: Any) -> tantivy.Document:
    """The document-level fields every entry of a document carries."""
    doc = tantivy.Document(doc_id=p.doc_id, source=p.source, doc_type=p.doc_type,
                           title=p.title, url=p.url, date_key=p.date_key,
                           doc_ord=doc_ord(p.doc_id), **fields)
    for theme in p.themes:
        doc.add_text("themes", theme)
    for code in p.departements:
        doc.add_text("departements", code)
    if p.date:
        doc.add_text("date", p.date)
    if p.year is not None:
        doc.add_integer("year", p.year)
    return doc


def passage_entry(p: Passage) -> tantivy.Document:
    doc = _common(p, kind=PASSAGE, passage_id=p.passage_id, heading=p.heading, text=p.text,
                  exact=f"{p.title}\n{p.heading}\n{p.text}", position=p.position)
    if p.page is not None:
        doc.add_integer("page", p.page)
    if p.page_breaks:
        doc.add_text("page_breaks", json.dumps([list(b) for b in p.page_breaks]))
    return doc


def doc_entry(passages: list[Passage], folds: fold.FoldIndex | None = None
              ) -> tantivy.Document:
    """The document's entry; with `folds`, its near-duplicate group is assigned (and
    recorded there) from its passages' signature."""
    ordered = sorted(passages, key=lambda p: p.position)
    headings = dict.fromkeys(p.heading for p in ordered if p.heading)
    words = "\n".join([ordered[0].title, *headings, *(p.text for p in ordered)])
    entry = _common(ordered[0], kind=DOC, doc_text=words, doc_exact=words)
    if folds is not None:
        sig = fold.signature(p.text for p in ordered)
        entry.add_text("fold", folds.assign(ordered[0].doc_id, sig))
        entry.add_bytes("fold_sig", sig.encode().encode("ascii"))
    return entry


def fold_index(docs: Mapping[str, DocInfo]) -> fold.FoldIndex:
    """The groups and signatures of an index's documents, for the next upserts."""
    return fold.FoldIndex({d: (fold.Signature.decode(info.fold_sig), info.group)
                           for d, info in docs.items()})
