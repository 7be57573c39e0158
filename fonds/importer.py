"""`fonds import`: local files, folders and BEIR-style JSONL corpora into the catalog.

Each file or record is stored by sha256 and recorded in its own transaction: importing the
same files twice records nothing new, and a killed import can simply be run again.
"""

from __future__ import annotations

import json
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tqdm import tqdm

from fonds import media
from fonds.catalog import Catalog
from fonds.errors import disk_full
from fonds.files import FileStore, FileTooLarge
from fonds.models import Observation, Outcome, RunKind
from fonds.settings import Settings
from fonds.taxonomy import departement_code

CORPUS_SUFFIXES = {".jsonl", ".ndjson"}
SOURCE = "import"


@dataclass(frozen=True)
class ImportReport:
    run_id: int
    counts: dict[str, int]
    errors: tuple[str, ...]


@dataclass(frozen=True)
class _Item:
    path: Path
    is_corpus: bool


def _accept(path: Path, items: list[_Item], counts: Counter[str]) -> None:
    suffix = path.suffix.lower()
    if suffix in CORPUS_SUFFIXES or suffix in media.BY_SUFFIX:
        items.append(_Item(path, suffix in CORPUS_SUFFIXES))
    else:
        counts["ignored"] += 1


def _walk_dir(root: Path, items: list[_Item], errors: list[str],
              counts: Counter[str]) -> None:
    """Regular files under root, in name order. A symlink is followed only when it stays
    inside root (one leading out could archive /etc/passwd); FIFOs, sockets, devices and
    dangling links are counted as skipped, never opened (a FIFO would block)."""
    real_root = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        linked = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
        for name in sorted(files + linked):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode):
                target = path.resolve()
                if not target.exists():
                    errors.append(f"{path} : lien symbolique cassé, ignoré")
                    counts["skipped"] += 1
                    continue
                if not target.is_relative_to(real_root):
                    errors.append(f"{path} : lien symbolique vers {target}, hors du dossier "
                                  "importé : refusé")
                    counts["refused"] += 1
                    continue
                if target.is_dir():
                    counts["skipped"] += 1  # its files are imported from where they are
                    continue
                info = target.stat()
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                errors.append(f"{path} : ni fichier ni dossier (tube, socket ou "
                              "périphérique), ignoré")
                counts["skipped"] += 1
                continue
            _accept(path, items, counts)


def _walk(paths: Sequence[Path], errors: list[str], counts: Counter[str]) -> list[_Item]:
    items: list[_Item] = []
    for path in paths:
        if not path.exists():
            errors.append(f"{path} : chemin introuvable")
            counts["failed"] += 1
        elif path.is_dir():
            _walk_dir(path, items, errors, counts)
        elif not path.is_file():
            errors.append(f"{path} : ni fichier ni dossier (tube, socket ou périphérique)")
            counts["failed"] += 1
        else:
            suffix = path.suffix.lower()
            if suffix in CORPUS_SUFFIXES or suffix in media.BY_SUFFIX:
                items.append(_Item(path, suffix in CORPUS_SUFFIXES))
            else:
                errors.append(
                    f"{path} : type de fichier non pris en charge ({suffix or 'sans extension'})"
                    " ; attendus : PDF, HTML, Word, OpenDocument, texte, JSONL"
                )
                counts["failed"] += 1
    return items


def _file_url(path: Path) -> str:
    """file:// URL of the name given (symlinks not followed: the name is what users know)."""
    return Path(os.path.abspath(path)).as_uri()


def _file_observation(path: Path, store: FileStore) -> Observation:
    url = _file_url(path)
    meta = {"file_name": path.name}
    try:
        with path.open("rb") as handle:
            actual = media.sniff(handle.read(4096))
        stored = store.put_file(path, ext=media.EXTENSIONS[actual])
    except FileTooLarge as exc:
        return Observation(url=url, source=SOURCE, error=str(exc), meta=meta)
    except OSError as exc:
        if disk_full(exc) or str(exc.filename or "").startswith(str(store.root)):
            raise  # the data dir is full or read-only: not this document's fault
        return Observation(url=url, source=SOURCE, error=f"illisible ({exc.strerror})", meta=meta)
    if stored.size == 0:
        error: str | None = "fichier vide"
    else:
        error = media.mismatch(media.BY_SUFFIX[path.suffix.lower()], actual)
    return Observation(
        url=url, sha256=stored.sha256, file_path=stored.relative_path, media_type=actual,
        size=stored.size, source=SOURCE, error=error, meta=meta,
    )


def _corpus_records(
    path: Path, errors: list[str]
) -> Iterator[tuple[int, dict[str, object] | None]]:
    """(line number, record) for each non-blank line; record None when the line is bad
    (its error, with its line number, is in errors). A bad line never stops the others."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        errors.append(f"{path} : illisible ({exc.strerror})")
        yield 0, None
        return
    seen: dict[str, int] = {}
    with handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte order mark
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(f"{path}:{number} : encodage invalide (UTF-8 attendu, octet "
                              f"{exc.start + 1})")
                yield number, None
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "trop imbriqué"
                errors.append(f"{path}:{number} : ligne JSON invalide ({reason})")
                yield number, None
                continue
            key = record.get("_id") if isinstance(record, dict) else None
            if isinstance(key, bool) or not isinstance(key, str | int) or not str(key).strip():
                errors.append(f"{path}:{number} : objet JSON avec « _id » (texte ou nombre) "
                              "attendu")
                yield number, None
                continue
            doc_key = str(key).strip()
            if doc_key in seen:
                errors.append(f"{path}:{number} : « _id » {doc_key[:80]!r} déjà vu ligne "
                              f"{seen[doc_key]} : ignoré")
                yield number, None
                continue
            seen[doc_key] = number
            if not str(record.get("text") or "").strip() and not str(
                record.get("title") or ""
            ).strip():
                errors.append(f"{path}:{number} : ni « title » ni « text »")
                yield number, None
                continue
            yield number, record


def _record_observation(path: Path, record: dict[str, object], store: FileStore) -> Observation:
    doc_key = str(record["_id"]).strip()
    url = f"{_file_url(path)}#{quote(doc_key, safe='')}"
    data = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
    stored = store.put_bytes(data, media.EXTENSIONS[media.RECORD])

    def text_field(name: str) -> str | None:
        value = record.get(name)  # a scalar only: a list or an object is not a title
        if value is None or isinstance(value, bool | list | dict):
            return None
        return str(value).strip() or None

    def list_field(name: str) -> tuple[str, ...]:
        value = record.get(name)
        if isinstance(value, str):
            value = [value]
        return tuple(str(v) for v in value if isinstance(v, str | int)
                     and not isinstance(v, bool)) if isinstance(value, list) else ()

    return Observation(
        url=url, sha256=stored.sha256, file_path=stored.relative_path, media_type=media.RECORD,
        size=stored.size, title=text_field("title"), source=text_field("source") or SOURCE,
        doc_type=text_field("doc_type"), themes=list_field("themes"),
        departements=tuple(dict.fromkeys(
            code for v in list_field("departements") if (code := departement_code(v)))),
        published=text_field("date") or text_field("published"),
        meta={"corpus": path.name, "corpus_id": doc_key},
    )


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 1


def import_paths(
    paths: Sequence[Path],
    settings: Settings,
    catalog: Catalog,
    on_error: Callable[[str], None] = lambda message: None,
    progress: bool | None = None,
) -> ImportReport:
    """Import files, folders and JSONL corpora; record the run and return its report."""
    store = FileStore(settings.data_dir, settings.max_file_mb * 2**20)
    counts: Counter[str] = Counter({k: 0 for k in ("new", "changed", "unchanged", "failed")})
    errors: list[str] = []
    run_id = catalog.start_run(RunKind.IMPORT)

    def report(new_errors_from: int) -> None:
        for message in errors[new_errors_from:]:
            on_error(message)

    items = _walk(paths, errors, counts)
    report(0)
    total = sum(_count_lines(i.path) if i.is_corpus else 1 for i in items)
    disable = None if progress is None else not progress
    with tqdm(total=total, desc="Import", unit="doc", disable=disable, leave=False) as bar:
        for item in items:
            before = len(errors)
            if item.is_corpus:
                for number, record in _corpus_records(item.path, errors):
                    if record is None:
                        counts["failed"] += 1
                    else:
                        try:
                            obs = _record_observation(item.path, record, store)
                        except FileTooLarge as exc:
                            errors.append(f"{item.path}:{number} : {exc}")
                            counts["failed"] += 1
                        else:
                            outcome, _ = catalog.record(obs)
                            counts[str(outcome)] += 1
                    bar.update(1)
            else:
                obs = _file_observation(item.path, store)
                outcome, _ = catalog.record(obs)
                counts[str(outcome)] += 1
                if outcome is Outcome.FAILED:
                    errors.append(f"{item.path} : {obs.error}")
                else:
                    counts["bytes"] += obs.size or 0
                bar.update(1)
            report(before)
    catalog.finish_run(run_id, dict(counts), errors)
    return ImportReport(run_id, dict(counts), tuple(errors))
