"""Peers for `fonds bench search`: the same archive and query mix, in the same run, through
what fonds is measured against. Absolute times on a shared two-core machine move by 30 %
from run to run; the ratio fonds/peer measured side by side does not.

- tantivy_raw: fonds's own tantivy index queried directly (one BooleanQuery of the stemmed
  terms and the filters, top 10): the floor under fonds's keyword path, so that what fonds
  adds (typos, tiers, grouping, facets, snippets) is visible;
- fts5: SQLite FTS5 (stdlib), `unicode61 remove_diacritics 2`, bm25 order, filters in SQL;
- bm25s: the bm25s library, French stop words (no filters: it has none);
- lancedb: LanceDB's keyword (FTS) and hybrid (FTS + vectors, RRF) search, flat vectors;
- numpy_exact: brute-force cosine over a float32 matrix, top 10;
- usearch_hnsw: an HNSW index (usearch, float16), top 10, with its recall@10;
and `ann`: the ANN index the engine uses beyond ann.ANN_MIN_ROWS, its recall@10 against
numpy_exact on the same query vectors. A peer whose library is not installed is skipped
with a line saying so (`pip install fonds[bench]` installs them).
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from fonds import french
from fonds.engines import ann
from fonds.engines.base import Filters
from fonds.engines.embedded.schema import PASSAGE
from fonds.engines.embedded.storage import Generation

Query = tuple[str, Filters, np.ndarray]
Run = Callable[[str, Filters, np.ndarray], Any]
BATCH = 25_000
K = 10


class Unavailable(Exception):
    """A peer that cannot run here (library not installed): skipped with this reason."""


@dataclass(frozen=True)
class Archive:
    """What the peers index: the synthetic archive, regenerated slice by slice."""

    passages: int
    cache: Path  # peers' own indexes, kept beside fonds's between runs
    generation: Path  # fonds's live generation (tantivy_raw reads its index)
    make: Callable[[int, int], list[Any]]  # synthetic_passages(start, size)

    def slices(self) -> Iterator[list[Any]]:
        for start in range(0, self.passages, BATCH):
            yield self.make(start, min(BATCH, self.passages - start))

    def matrix(self) -> np.ndarray:
        out = np.empty((self.passages, 384), dtype=np.float32)
        row = 0
        for batch in self.slices():
            out[row:row + len(batch)] = np.stack([p.vector for p in batch])
            row += len(batch)
        return out


@contextmanager
def _quiet() -> Iterator[None]:
    """A peer library's own deprecation warnings are not fonds's to fix (tests make
    warnings errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _terms(text: str) -> list[str]:
    return [w for w in french.words(text) if w not in french.stop_words()]


# -- keyword peers -------------------------------------------------------------------------

def tantivy_raw(archive: Archive) -> dict[str, Run]:
    gen = Generation(archive.generation, create=False)
    schema, searcher = gen.schema, gen.index.searcher()
    analyzer = french.stemmed_analyzer()
    occur = tantivy.Occur

    def run(text: str, filters: Filters, vector: np.ndarray) -> Any:
        stems = dict.fromkeys(analyzer.analyze(text))
        if not stems:
            return []
        clauses = [(occur.Must, tantivy.Query.term_query(schema, "kind", PASSAGE)),
                   (occur.Must, tantivy.Query.boolean_query(
                       [(occur.Should, tantivy.Query.term_query(schema, "text", s))
                        for s in stems]))]
        for field, values in (("themes", filters.themes), ("departements", filters.departements)):
            clauses += [(occur.Must, tantivy.Query.term_query(schema, field, v)) for v in values]
        if filters.year_from is not None or filters.year_to is not None:
            clauses.append((occur.Must, tantivy.Query.range_query(
                schema, "year", tantivy.FieldType.Integer, filters.year_from or 0,
                filters.year_to or 9999)))
        return searcher.search(tantivy.Query.boolean_query(clauses), limit=K).hits

    return {"keyword": run}


def fts5(archive: Archive) -> dict[str, Run]:
    path = archive.cache / "fts5.sqlite"
    db = sqlite3.connect(path, check_same_thread=False)
    built = db.execute("SELECT name FROM sqlite_master WHERE name = 'done'").fetchone()
    if not built:
        db.executescript("DROP TABLE IF EXISTS p; CREATE VIRTUAL TABLE p USING fts5("
                         "title, text, themes UNINDEXED, departements UNINDEXED, "
                         "year UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')")
        for batch in archive.slices():
            db.executemany("INSERT INTO p VALUES (?, ?, ?, ?, ?)", [
                (p.title, p.text, "|".join(p.themes), "|".join(p.departements), p.year)
                for p in batch])
        db.execute("CREATE TABLE done (x)")  # the build finished: reuse it next run
        db.commit()

    def run(text: str, filters: Filters, vector: np.ndarray) -> Any:
        words = _terms(text)
        if not words:
            return []
        # Each word quoted (FTS5 syntax stays out of user text), the last one as a prefix.
        match = " OR ".join(f'"{w}"' for w in words[:-1])
        last = f'"{words[-1]}"' + ("" if text.endswith(" ") else "*")
        match = f"{match} OR {last}" if match else last
        sql = "SELECT rowid FROM p WHERE p MATCH ?"
        params: list[object] = [match]
        for column, values in (("themes", filters.themes),
                               ("departements", filters.departements)):
            for v in values:
                sql += f" AND instr('|' || {column} || '|', ?)"
                params.append(f"|{v}|")
        if filters.year_from is not None:
            sql = sql + " AND year >= ?"
            params.append(filters.year_from)
        if filters.year_to is not None:
            sql = sql + " AND year <= ?"
            params.append(filters.year_to)
        return db.execute(sql + f" ORDER BY rank LIMIT {K}", params).fetchall()

    return {"keyword": run}


def bm25s_peer(archive: Archive) -> dict[str, Run]:
    try:
        import bm25s
    except ImportError:
        raise Unavailable("bm25s n'est pas installé (pip install bm25s)") from None
    stop = sorted(french.stop_words())
    retriever = bm25s.BM25()
    texts = [p.text for batch in archive.slices() for p in batch]
    retriever.index(bm25s.tokenize(texts, stopwords=stop, show_progress=False),
                    show_progress=False)
    del texts

    def run(text: str, filters: Filters, vector: np.ndarray) -> Any:
        tokens = bm25s.tokenize([text], stopwords=stop, show_progress=False)
        if not tokens.vocab:
            return []
        return retriever.retrieve(tokens, k=K, show_progress=False)

    return {"keyword": run}


def lancedb_peer(archive: Archive) -> dict[str, Run]:
    try:
        import lancedb
        import pyarrow as pa
    except ImportError:
        raise Unavailable("lancedb n'est pas installé (pip install lancedb)") from None
    db = lancedb.connect(str(archive.cache / "lancedb"))
    if "p" in db.list_tables().tables and db.open_table("p").count_rows() == archive.passages:
        table = db.open_table("p")
    else:
        table = None
        for batch in archive.slices():
            data = pa.table({"id": [p.passage_id for p in batch],
                             "text": [p.text for p in batch],
                             "vector": pa.FixedSizeListArray.from_arrays(
                                 pa.array(np.stack([p.vector for p in batch]).ravel()), 384)})
            if table is None:
                table = db.create_table("p", data=data, mode="overwrite")
            else:
                table.add(data)
    assert table is not None
    if not table.list_indices():
        with _quiet():  # create_fts_index is deprecated for create_index(config=FTS())
            table.create_fts_index("text", replace=True, language="French")

    def keyword(text: str, filters: Filters, vector: np.ndarray) -> Any:
        with _quiet():
            return table.search(text, query_type="fts").limit(K).to_list()

    def hybrid(text: str, filters: Filters, vector: np.ndarray) -> Any:
        with _quiet():
            return (table.search(query_type="hybrid").vector(vector).text(text).limit(K)
                    .to_list())

    return {"keyword": keyword, "hybrid": hybrid}


# -- vector peers --------------------------------------------------------------------------

def _top(scores: np.ndarray, k: int = K) -> np.ndarray:
    rows = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
    return rows[np.argsort(-scores[rows])]


def recall_at_k(found: list[np.ndarray], exact: list[np.ndarray], k: int = K) -> float:
    """Share of the exact top k found by the approximate search, over all queries."""
    hits = sum(len(set(f[:k].tolist()) & set(e[:k].tolist())) for f, e in zip(found, exact,
                                                                                strict=True))
    return round(hits / max(1, sum(min(k, len(e)) for e in exact)), 4)


# -- the run -------------------------------------------------------------------------------

KEYWORD_PEERS: dict[str, Callable[[Archive], dict[str, Run]]] = {
    "tantivy_raw": tantivy_raw, "fts5": fts5, "bm25s": bm25s_peer, "lancedb": lancedb_peer}


def timed(run: Run, queries: list[Query]) -> list[float]:
    for text, filters, vector in queries[:30]:  # warm-up, as fonds gets
        run(text, filters, vector)
    times = []
    for text, filters, vector in queries:
        started = time.perf_counter()
        run(text, filters, vector)
        times.append((time.perf_counter() - started) * 1000)
    return times


def run_peers(archive: Archive, queries: list[Query], percentiles: Callable[[list[float]],
              dict[str, float]], progress: Callable[[str], None]) -> dict[str, Any]:
    archive.cache.mkdir(parents=True, exist_ok=True)
    peers: dict[str, dict[str, dict[str, float]]] = {}
    skipped: dict[str, str] = {}
    build_s: dict[str, float] = {}
    for name, setup in KEYWORD_PEERS.items():
        progress(f"pair {name}…")
        started = time.perf_counter()
        try:
            runs = setup(archive)
        except Unavailable as exc:
            skipped[name] = str(exc)
            progress(f"pair {name} ignoré : {exc}")
            continue
        build_s[name] = round(time.perf_counter() - started, 1)
        peers[name] = {mode: percentiles(timed(run, queries)) for mode, run in runs.items()}

    progress("pairs vecteurs…")
    matrix = archive.matrix()
    vectors = [q[2] for q in queries]
    exact = [_top(matrix @ v) for v in vectors]
    peers["numpy_exact"] = {"semantic": percentiles(timed(
        lambda t, f, v: _top(matrix @ v), queries))}
    out: dict[str, Any] = {"peers": peers, "peer_build_s": build_s, "skipped": skipped}
    if ann.available() and archive.passages >= ann.TRAIN_PER_LIST:
        with tempfile.TemporaryDirectory(dir=archive.cache) as tmp:
            started = time.perf_counter()
            ann.build(matrix, Path(tmp) / "bench.ann")
            built = round(time.perf_counter() - started, 1)
            index = ann.AnnIndex(Path(tmp) / "bench.ann", len(matrix))
            found = [index.search(v, K)[0] for v in vectors]
            peers["fonds_ann"] = {"semantic": percentiles(timed(
                lambda t, f, v: index.search(v, K), queries))}
            out["ann"] = {"library": "faiss-cpu", "index": f"IVF{index.ivf.nlist},SQfp16",
                          "nprobe": ann.NPROBE, "candidates": ann.CANDIDATES,
                          "min_rows": ann.ANN_MIN_ROWS, "build_s": built,
                          "recall@10": recall_at_k(found, exact),
                          "engine_uses_ann": archive.passages >= ann.ANN_MIN_ROWS}
            del index
    else:
        skipped["fonds_ann"] = "faiss-cpu n'est pas installé"
    try:
        from usearch.index import Index
    except ImportError:
        skipped["usearch_hnsw"] = "usearch n'est pas installé (pip install usearch)"
    else:
        started = time.perf_counter()
        hnsw = Index(ndim=matrix.shape[1], metric="ip", dtype="f16", connectivity=16,
                     expansion_add=40, expansion_search=64)
        hnsw.add(np.arange(len(matrix)), matrix, threads=1)
        build_s["usearch_hnsw"] = round(time.perf_counter() - started, 1)
        found = [np.asarray(hnsw.search(v, K).keys) for v in vectors]
        peers["usearch_hnsw"] = {"semantic": percentiles(timed(
            lambda t, f, v: hnsw.search(v, K), queries))}
        out["usearch_hnsw"] = {"recall@10": recall_at_k(found, exact),
                               "connectivity": 16, "expansion_search": 64}
    return out


def ratios(fonds: dict[str, dict[str, float]], peers: dict[str, dict[str, dict[str, float]]]
           ) -> dict[str, dict[str, float]]:
    """fonds p95 / peer p95, for each mode both measured."""
    return {name: {mode: round(fonds[mode]["p95"] / p["p95"], 2)
                   for mode, p in modes.items() if mode in fonds and p["p95"] > 0}
            for name, modes in peers.items()}
