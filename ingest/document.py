"""One document through the ingest steps: extract (in the worker) → clean → title →
enrich → chunk. Never raises for a bad file: a failure is a Processed with its reason and
whether its cause may go away."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fonds.engines.base import Passage
from fonds.models import (
    DocStatus,
    Document,
    ExtractionStatus,
    FailureKind,
    Link,
    PassageRecord,
)
from fonds.values import clean_labels, parse_date
from ingest import chunk as chunking
from ingest import clean, enrich, titles
from ingest.embed_cache import text_hash
from ingest.extract import MIN_PAGE_CHARS, Extracted, ExtractionError
from ingest.worker import ExtractionWorker

# The embedder's token count of a text as embedded, and its window (max tokens).
TokenCounter = tuple[Callable[[str], int], int]


@dataclass(frozen=True)
class Processed:
    """One document after extraction, cleaning, enrichment and chunking."""

    doc: Document
    passages: tuple[PassageRecord, ...]
    fields: dict[str, Any]  # for Catalog.save_ingest
    failed: bool = False

    @property
    def index_fields(self) -> dict[str, Any]:
        """What the index shows; values re-checked here too, as a catalog written by an
        older version may hold any of them."""
        f, d = self.fields, self.doc
        return {
            "title": f.get("auto_title") or d.display_title,
            "doc_type": d.doc_type or f.get("auto_doc_type") or "document",
            "themes": clean_labels([*d.themes, *f.get("auto_themes", ())]),
            "departements": clean_labels([*d.departements, *f.get("auto_departements", ())]),
            "date": parse_date(d.published) or parse_date(f.get("auto_published")),
        }


def _failed(doc: Document, error: str, kind: FailureKind) -> Processed:
    return Processed(doc, (), {
        "extraction_status": ExtractionStatus.FAILED, "status": DocStatus.FAILED,
        "error": error or "cause inconnue", "notes": (), "failure_kind": kind,
        "failed_attempts": doc.failed_attempts + 1}, failed=True)


def process(doc: Document, data_dir: Any, worker: ExtractionWorker,
            links: Sequence[Link] = (), cap: TokenCounter | None = None) -> Processed:
    """Extract, clean, enrich, chunk one document. Never raises for a bad file; raises
    EnvironmentProblem when this machine cannot extract it (the run stops)."""
    extracted = extract_document(doc, data_dir, worker)
    if isinstance(extracted, Processed):
        return extracted
    return build(doc, extracted, links, cap)


def extract_document(doc: Document, data_dir: Any, worker: ExtractionWorker
                     ) -> Extracted | Processed:
    """The extraction step alone (what may run ahead of the others): its result, or the
    failed document with its reason."""
    if not doc.file_path or not doc.media_type:
        return _failed(doc, "aucun fichier enregistré", FailureKind.DOCUMENT)
    path = (data_dir / doc.file_path).resolve()  # the worker runs in another directory
    if not path.exists():  # a storage problem: may be restored
        return _failed(doc, "fichier absent du stockage", FailureKind.TRANSIENT)
    try:
        return worker.extract(path, doc.media_type)
    except ExtractionError as exc:
        kind = FailureKind.TRANSIENT if exc.transient else FailureKind.DOCUMENT
        return _failed(doc, str(exc), kind)


def file_name_of(doc: Document) -> str:
    name = doc.meta.get("file_name") or doc.meta.get("corpus_id")
    return str(name or doc.canonical_url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1])


def build(doc: Document, extracted: Extracted, links: Sequence[Link] = (),
          cap: TokenCounter | None = None) -> Processed:
    """`cap`: the embedder's token count and window; passages are cut to fit it."""
    notes = list(extracted.notes)
    notes += [str(n) for n in doc.meta.get("rejected", ()) or ()]  # type: ignore[union-attr]
    usable = [p for p in extracted.pages if not p.garbage]
    garbage = len(extracted.pages) - len(usable)
    if garbage:
        notes.append(f"{garbage} page(s) au texte illisible (encodage des polices)")
    cleaned = clean.clean_pages([p.text for p in usable])
    pages = [(p.number, text) for p, text in zip(usable, cleaned, strict=True)]
    with_text = [(n, t) for n, t in pages if len(t) >= MIN_PAGE_CHARS]
    empty = len(extracted.pages) - len(with_text)
    full_text = "\n\n".join(t for _, t in with_text)
    first_page = with_text[0][1] if with_text else ""
    file_name = file_name_of(doc)
    referrers = doc.meta.get("referrers") or ()
    link_texts = [str(r.get("text") or "") for r in referrers if isinstance(r, dict)
                  ] if isinstance(referrers, list) else []
    title = titles.choose_title(
        media_type=doc.media_type, source_title=doc.title, file_title=extracted.title,
        headings=extracted.headings, first_page=first_page, links=links,
        link_texts=link_texts, file_name=file_name)
    # A file takes the themes of every article linking it, and its date when it has none.
    linked = [t for link in links for c in link.themes
              if (t := enrich.theme_for_category(c))]
    article_date = next((d for link in links if (d := parse_date(link.article_date))), None)
    found = enrich.enrich(
        title=title.text if title.own else "", first_page=first_page, text=full_text,
        media_type=doc.media_type, given_themes=tuple(dict.fromkeys([*doc.themes, *linked])),
        given_departements=doc.departements, published=doc.published,
        file_date=extracted.date, article_date=article_date)

    if not with_text:
        status = ExtractionStatus.NO_TEXT
        notes.append("texte non extractible : document scanné ou sans texte, "
                     "trouvable par son titre")
    elif empty:
        status = ExtractionStatus.PARTIAL
        if empty > garbage:
            notes.append(f"{empty - garbage} page(s) sans texte")
    else:
        status = ExtractionStatus.OK

    token_cap = None if cap is None else chunking.TokenCap(
        lambda heading, text: cap[0](embedding_text(title.text, heading, text)), cap[1])
    chunks = chunking.chunk(with_text, token_cap) if with_text else []
    if not chunks:  # findable by its title and metadata only
        chunks = [chunking.Chunk(0, None, "", title.text)]
    ocr_pages = {p.number for p in extracted.pages if p.ocr}
    passages = tuple(
        PassageRecord(id=f"{doc.id}-{c.position}", doc_id=doc.id, position=c.position,
                      page=c.page, heading=c.heading, text=c.text,
                      text_hash=text_hash(embedding_text(title.text, c.heading, c.text)),
                      ocr=c.page in ocr_pages, page_breaks=c.page_breaks)
        for c in chunks)
    fields = {
        "extraction_status": status, "error": None, "status": DocStatus.ACTIVE,
        "failure_kind": None, "failed_attempts": 0,
        "pages": extracted.page_count, "language": found.language, "notes": tuple(notes),
        "auto_title": title.text, "auto_themes": found.themes,
        "auto_departements": found.departements, "auto_doc_type": found.doc_type,
        "auto_published": found.published,
    }
    return Processed(doc, passages, fields)


def embedding_text(title: str, heading: str, text: str) -> str:
    """What is embedded: the passage with its document title and heading as context."""
    context = title if not heading or heading == title else f"{title} — {heading}"
    return f"{context}\n{text}"


def to_passages(processed: Processed, vectors: np.ndarray | None) -> list[Passage]:
    f = processed.index_fields
    out = []
    for i, p in enumerate(processed.passages):
        out.append(Passage(
            doc_id=p.doc_id, passage_id=p.id, position=p.position, page=p.page,
            title=f["title"], text=p.text, url=processed.doc.canonical_url,
            source=processed.doc.source or "", doc_type=f["doc_type"], themes=f["themes"],
            departements=f["departements"], date=f["date"], heading=p.heading,
            page_breaks=p.page_breaks, vector=None if vectors is None else vectors[i]))
    return out


