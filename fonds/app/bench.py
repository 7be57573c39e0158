"""`fonds bench`: speed figures, measured the same way every time, with where and when.

Never asserted in tests: results go to benchmarks/results/ with the machine, date and
git revision, and the README quotes them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import platform
import random
import resource
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from fonds.engines import open_engine
from fonds.engines.base import Filters, Mode, Passage, SearchRequest
from fonds.settings import Settings, load_settings

# Words of the field, weighted by rank (Zipf), make text with a realistic term distribution.
_TEXT = """
la politique de la ville conduit une action en faveur des quartiers prioritaires et de leurs
habitants les conseils citoyens participent au pilotage du contrat de ville avec les élus
les services de l'état les bailleurs sociaux et les associations du quartier la santé
l'emploi l'insertion professionnelle l'éducation la réussite éducative la jeunesse la
culture le sport la sécurité la prévention de la délinquance la tranquillité publique le
logement social le renouvellement urbain la rénovation des immeubles le cadre de vie la
gestion urbaine de proximité l'égalité entre les femmes et les hommes la lutte contre les
discriminations l'accès aux droits l'inclusion numérique les conseillers numériques France
Services Aidants Connect la médiation numérique les tiers-lieux les fabriques de
territoire l'économie sociale et solidaire la participation des habitants la démocratie
participative les rencontres départementales la formation des conseillers citoyens le
centre de ressources l'observatoire national la géographie prioritaire les crédits
spécifiques le programme de réussite éducative les cités éducatives le contrat local de
santé l'atelier santé ville la mission locale Pôle emploi France Travail la maison France
services la préfecture le délégué du préfet la direction départementale de l'emploi du
travail et des solidarités la caisse d'allocations familiales le centre communal d'action
sociale l'établissement public de coopération intercommunale la commune la métropole
Montpellier Nîmes Béziers Perpignan Toulouse Lodève Narbonne Carcassonne Alès Sète
l'évaluation le bilan le rapport annuel la synthèse l'état des lieux le guide pratique la
fiche méthodologique la circulaire le décret l'arrêté l'appel à projets l'appel à
manifestation d'intérêt le diagnostic partagé les enjeux les objectifs les actions les
indicateurs les moyens les acteurs les partenaires les financements la subvention
"""
THEMES = ["participation des habitants", "conseils citoyens", "inclusion numérique",
          "discriminations", "santé", "emploi et insertion", "éducation",
          "logement et cadre de vie", "égalité femmes-hommes", "tiers-lieux", "jeunesse",
          "sécurité et prévention", "culture", "politique de la ville", "accès aux droits"]
DEPARTEMENTS = ["34", "30", "11", "66", "31", "13", "75", "93", "69", "59", "2A", "974"]
TYPES = ["guide", "rapport", "circulaire", "synthèse", "fiche pratique", "compte rendu"]
PASSAGES_PER_DOC = 20
WORDS_PER_PASSAGE = 180
DIM = 384


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Percentiles:
        q = np.percentile(np.array(samples_ms), [50, 95, 99])
        return cls(*(round(float(x), 2) for x in q))

    def as_json(self) -> dict[str, float]:
        return {"p50": self.p50, "p95": self.p95, "p99": self.p99}


def environment() -> dict[str, Any]:
    try:
        revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                  text=True, cwd=Path(__file__).parent, check=False
                                  ).stdout.strip() or None
    except OSError:
        revision = None
    return {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "revision": revision}


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[list[str], list[float]]:  # words, cumulative weights
    """French words with their real frequencies (wordfreq), the field's words boosted:
    postings as long or as short as in a real archive, not a few hundred words everywhere."""
    from wordfreq import top_n_list, word_frequency

    words = top_n_list("fr", 30_000)
    weights = [word_frequency(w, "fr") for w in words]
    field = list(dict.fromkeys(w for w in _TEXT.replace("l'", "l' ").split() if len(w) > 3))
    known = {w: i for i, w in enumerate(words)}
    for w in field:
        if w in known:
            weights[known[w]] *= 20
        else:
            words.append(w)
            weights.append(2e-5)
    return words, list(itertools.accumulate(weights))


@lru_cache(maxsize=1)
def _field_words() -> list[str]:
    return list(dict.fromkeys(w for w in _TEXT.replace("l'", "l' ").split() if len(w) > 3))


def synthetic_passages(start: int, size: int) -> list[Passage]:
    """Passages [start, start + size) of the synthetic archive; each depends only on its
    index, so an archive of any size is generated slice by slice in flat memory."""
    words, weights = _vocabulary()
    lexicon = np.array(words, dtype=object)
    cumulative = np.array(weights)
    passages = []
    vectors = _slice_vectors(start, size)
    for i in range(start, start + size):
        doc = i // PASSAGES_PER_DOC
        vector = vectors[i - start]
        draws = np.random.default_rng(i).random(WORDS_PER_PASSAGE) * cumulative[-1]
        text = " ".join(lexicon[np.searchsorted(cumulative, draws, side="right")])
        passages.append(Passage(
            passage_id=f"doc{doc:06d}-{i % PASSAGES_PER_DOC}",
            position=i % PASSAGES_PER_DOC, page=1 + (i % PASSAGES_PER_DOC) // 2,
            text=text, vector=vector, **_doc_fields(doc)))
    return passages


@lru_cache(maxsize=64)
def _doc_fields(doc: int) -> dict[str, Any]:
    """The fields every passage of a document shares (seeding a Random costs ~20 µs)."""
    return {"doc_id": f"doc{doc:06d}", "title": _title(doc),
            "url": f"https://exemple.fr/doc{doc}.pdf",
            "source": _doc_rng(doc).choice(["vt", "anct", "ddd"]),
            "doc_type": _doc_rng(doc, 1).choice(TYPES),
            "themes": tuple(_doc_rng(doc, 2).sample(THEMES, 2)),
            "departements": (_doc_rng(doc, 3).choice(DEPARTEMENTS),),
            "date": f"{_doc_rng(doc, 4).randint(2012, 2025)}-"
                    f"{_doc_rng(doc, 5).randint(1, 12):02d}-01"}


# Vectors with the structure of real embeddings (topics, documents, passages), not uniform
# noise: in 384 dimensions random vectors have no near neighbours, and an ANN index cannot
# be judged on them. A passage is its document's themes, the document, and its own noise.
THEME_WEIGHT, DOC_WEIGHT, PASSAGE_WEIGHT = 1.0, 0.7, 0.5


@lru_cache(maxsize=1)
def _theme_vectors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2024)
    return {t: _unit(rng.standard_normal(DIM)) for t in THEMES}


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.float32(np.linalg.norm(v))


def _doc_vector(doc: int) -> np.ndarray:
    themes = _theme_vectors()
    mix = np.sum([themes[t] for t in _doc_rng(doc, 2).sample(THEMES, 2)], axis=0) / np.sqrt(2)
    vector: np.ndarray = THEME_WEIGHT * mix + DOC_WEIGHT * _unit(
        np.random.default_rng(doc * 7 + 1).standard_normal(DIM))
    return vector


def _slice_vectors(start: int, size: int) -> np.ndarray:
    """Vectors of passages [start, start + size): a document's noise is drawn at once."""
    out = np.empty((size, DIM), dtype=np.float32)
    for doc in range(start // PASSAGES_PER_DOC, (start + size - 1) // PASSAGES_PER_DOC + 1):
        noise = np.random.default_rng(doc * 7 + 3).standard_normal((PASSAGES_PER_DOC, DIM))
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        rows = _doc_vector(doc) + PASSAGE_WEIGHT * noise
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        first = doc * PASSAGES_PER_DOC
        lo, hi = max(start, first), min(start + size, first + PASSAGES_PER_DOC)
        out[lo - start:hi - start] = rows[lo - first:hi - first]
    return out


def query_vectors(count: int, documents: int, seed: int = 3) -> list[np.ndarray]:
    """Questions near some document of the archive (its themes, the document, more noise
    than a passage): their neighbours are a few documents, as a real question's are."""
    rng = np.random.default_rng(seed)
    return [_unit(_doc_vector(int(rng.integers(documents)))
                  + 0.8 * _unit(rng.standard_normal(DIM))) for _ in range(count)]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def query_mix(count: int, seed: int = 11) -> list[tuple[str, Filters]]:
    """1-4 words, a third with a typo, a third with filters; ends with a space or not."""
    rng = random.Random(seed)
    field = _field_words()
    mix = []
    for i in range(count):
        terms = rng.sample(field, rng.randint(1, 4))
        if i % 3 == 1:
            terms[-1] = _typo(terms[-1], rng)
        filters = Filters()
        if i % 3 == 2:
            filters = Filters(themes=(rng.choice(THEMES),)) if i % 2 else Filters(
                departements=(rng.choice(DEPARTEMENTS),), year_from=2018)
        mix.append((" ".join(terms) + ("" if i % 4 == 0 else " "), filters))
    return mix


def _dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def peak_rss_mb() -> float:
    """The process's peak resident memory since it started, or since reset_peak_rss()."""
    try:  # Linux: VmHWM, which reset_peak_rss() can lower
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def reset_peak_rss() -> None:
    """Start the peak-memory count again (Linux), so a search's peak excludes the build's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def scratch_settings(passages: int, cache_dir: Path, base: Settings) -> Settings:
    return replace(base, data_dir=cache_dir / f"search-{passages}-{base.engine}",
                   meili_index=f"{base.meili_index}_bench_{passages}")


def build_archive(passages: int, scratch: Settings,
                  progress: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """The synthetic archive in the scratch data dir, built unless already there; its build
    figures (time and peak memory, recorded with it so that a rerun reports them)."""
    engine = open_engine(scratch)
    build_file = scratch.data_dir / "build.json"
    if build_file.is_file() and engine.count() == passages:
        recorded: dict[str, Any] = json.loads(build_file.read_text())
        return recorded
    progress(f"construction d'une archive synthétique de {passages} passages…")
    reset_peak_rss()
    started = time.perf_counter()
    batch = 25_000  # a commit (and a reader refresh) per batch
    with engine.rebuild() as fresh:
        fresh.ensure_index(DIM)
        for start in range(0, passages, batch):
            fresh.upsert(synthetic_passages(start, min(batch, passages - start)))
            progress(f"  {min(start + batch, passages)} / {passages} passages indexés "
                     f"({time.perf_counter() - started:.0f} s)")
    built = {"build_s": round(time.perf_counter() - started, 1),
             "build_peak_rss_mb": peak_rss_mb()}
    build_file.write_text(json.dumps(built))
    return built


def bench_search(passages: int, cache_dir: Path, embed_query: Callable[[str], np.ndarray]
                 | None, progress: Callable[[str], None] = lambda m: None,
                 settings: Settings | None = None, peers: bool = True) -> dict[str, Any]:
    """Search latency on a synthetic archive, built once per size and engine, through the
    engine protocol (the configured engine: embedded, or a Meilisearch server)."""
    scratch = scratch_settings(passages, cache_dir, settings or load_settings(env={}))
    built = build_archive(passages, scratch, progress)
    reset_peak_rss()  # the search's own peak: opening the archive and querying it
    engine = open_engine(scratch)
    index_dir = scratch.index_dir
    mix = query_mix(300)
    vectors = query_vectors(len(mix), passages // PASSAGES_PER_DOC)

    def run(mode: Mode, items: list[tuple[str, Filters]], vecs: list[np.ndarray]) -> list[float]:
        times = []
        for (text, filters), vector in zip(items, vecs, strict=True):
            request = SearchRequest(text, filters, mode=mode, limit=10)
            started = time.perf_counter()
            engine.search(request, vector if mode is not Mode.KEYWORD else None)
            times.append((time.perf_counter() - started) * 1000)
        return times

    progress("mesure des requêtes…")
    run(Mode.KEYWORD, mix[:30], vectors[:30])  # warm-up: caches, page cache
    latency = {"keyword": Percentiles.of(run(Mode.KEYWORD, mix, vectors)).as_json(),
               "hybrid": Percentiles.of(run(Mode.HYBRID, mix, vectors)).as_json(),
               "semantic": Percentiles.of(run(Mode.SEMANTIC, mix, vectors)).as_json()}
    if scratch.engine == "embedded":
        # The same queries with no word's documents kept from an earlier query (the mask
        # cache, fonds/engines/embedded/matches.py): what a first query costs.
        from fonds.engines.embedded import matches

        matches.use_cache(False)
        for mode in (Mode.KEYWORD, Mode.HYBRID):
            latency[f"{mode.value}_uncached"] = Percentiles.of(run(mode, mix, vectors)).as_json()
        matches.use_cache(True)
    if embed_query is not None:
        embed_query("échauffement")
        times = []
        for text, _ in mix[:100]:
            started = time.perf_counter()
            embed_query(text)
            times.append((time.perf_counter() - started) * 1000)
        latency["embed_query"] = Percentiles.of(times).as_json()

    # Two searchers at once, as two UI sessions would be.
    done = [0, 0]
    stop = time.perf_counter() + 5

    def worker(slot: int) -> None:
        i = slot
        while time.perf_counter() < stop:
            text, filters = mix[i % len(mix)]
            engine.search(SearchRequest(text, filters, mode=Mode.HYBRID),
                          vectors[i % len(vectors)])
            done[slot] += 1
            i += 2

    threads = [threading.Thread(target=worker, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = {
        "passages": passages, "documents": passages // PASSAGES_PER_DOC,
        "build_s": built["build_s"], "build_peak_rss_mb": built.get("build_peak_rss_mb"),
        "index_mb": _dir_mb(index_dir), "latency_ms": latency,
        "throughput_qps_2_searchers": round(sum(done) / 5, 1),
        "peak_rss_mb": peak_rss_mb(),  # fonds alone: the peers run after it
        "engine_uses_ann": engine_uses_ann(engine), "environment": environment(),
    }
    if peers:
        from fonds.app import bench_peers
        from fonds.engines.embedded.storage import IndexDir

        live = IndexDir(index_dir).current()
        archive = bench_peers.Archive(passages, scratch.data_dir / "peers", index_dir / str(live),
                                      synthetic_passages)
        found = bench_peers.run_peers(
            archive, [(t, f, v) for (t, f), v in zip(mix, vectors, strict=True)],
            lambda times: Percentiles.of(times).as_json(), progress)
        report["ratios"] = bench_peers.ratios(latency, found["peers"])
        report.update(found)
    return report


def engine_uses_ann(engine: Any) -> bool:
    """Whether the embedded engine's semantic half went through its ANN index."""
    reader = getattr(engine, "_reader", None)
    gen = reader() if reader else None
    return bool(gen is not None and gen.vectors.uses_ann())


def _doc_rng(doc: int, salt: int = 0) -> random.Random:
    return random.Random(doc * 31 + salt)


def _title(doc: int) -> str:
    words, weights = _vocabulary()
    return " ".join(_doc_rng(doc, 9).choices(words, cum_weights=weights, k=6)).capitalize()


def format_search(report: dict[str, Any]) -> str:
    built = report.get("build_peak_rss_mb")
    lines = [f"Archive synthétique : {report['passages']} passages, "
             f"{report['documents']} documents ; construction {report['build_s']} s"
             + (f" (mémoire max {built} Mo)" if built else "")
             + f", index {report['index_mb']} Mo, mémoire max de la recherche "
             f"{report['peak_rss_mb']} Mo",
             f"{'mode':<20}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"]
    for mode, p in report["latency_ms"].items():
        label = mode.replace("_uncached", " sans cache")  # the word-mask cache off
        lines.append(f"{label:<20}{p['p50']:>10}{p['p95']:>10}{p['p99']:>10}")
    lines.append(f"2 recherches en parallèle : {report['throughput_qps_2_searchers']} req/s "
                 "(mixte)")
    if report.get("peers"):
        lines.append("Pairs (même archive, mêmes requêtes) : p95 ms, et fonds p95 / pair p95")
        for name, modes in report["peers"].items():
            for mode, p in modes.items():
                ratio = report["ratios"].get(name, {}).get(mode)
                lines.append(f"  {name:<14}{mode:<10}{p['p95']:>8}"
                             + (f"   ×{ratio}" if ratio is not None else ""))
    if "ann" in report:
        lines.append(f"ANN {report['ann']['index']} : rappel@10 {report['ann']['recall@10']} "
                     "contre la recherche exacte")
    for name, reason in report.get("skipped", {}).items():
        lines.append(f"  {name} ignoré : {reason}")
    return "\n".join(lines)
