from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as settings_profile
from hypothesis import strategies as st

from fonds.catalog import Catalog
from fonds.models import DocStatus
from tests.conftest import ROOT, Fonds, child_env


def status(fonds: Fonds) -> dict:
    result = fonds("status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_shared_pdfs_twice_gives_40_not_80(fonds: Fonds, corpus_pdfs: Path) -> None:
    first = fonds("import", str(corpus_pdfs))
    assert first.exit_code == 0, first.output
    assert "nouveaux 40" in first.output
    report = status(fonds)
    assert report["documents"] == {"total": 40, "active": 40, "gone": 0, "failed": 0}

    second = fonds("import", str(corpus_pdfs))
    assert second.exit_code == 0
    assert "nouveaux 0" in second.output and "inchangés 40" in second.output
    report = status(fonds)
    assert report["documents"]["total"] == 40
    assert [r["kind"] for r in report["runs"]] == ["import", "import"]
    assert report["runs"][0]["counts"]["unchanged"] == 40
    files = list((fonds.data_dir / "files").iterdir())
    assert len(files) == 40 and all(f.suffix == ".pdf" for f in files)


def test_local_url_is_a_file_url_ending_in_the_name(
    fonds: Fonds, corpus_pdfs: Path, data_dir: Path
) -> None:
    pdf = corpus_pdfs / "cada_avis-20172386.pdf"
    assert fonds("import", str(pdf)).exit_code == 0
    with Catalog(data_dir / "catalog.sqlite") as catalog:
        (doc,) = catalog.documents()
    # the path as given, made absolute: a linked ../shared keeps its own name
    assert doc.canonical_url == pdf.absolute().as_uri()
    assert doc.canonical_url.endswith("/cada_avis-20172386.pdf")
    assert doc.media_type == "application/pdf" and doc.size == pdf.stat().st_size


def test_same_file_under_two_names_is_one_document(
    fonds: Fonds, corpus_pdfs: Path, tmp_path: Path, data_dir: Path
) -> None:
    copy = tmp_path / "copie.pdf"
    copy.write_bytes((corpus_pdfs / "cada_avis-20172386.pdf").read_bytes())
    result = fonds("import", str(corpus_pdfs / "cada_avis-20172386.pdf"), str(copy))
    assert "nouveaux 1" in result.output and "inchangés 1" in result.output
    with Catalog(data_dir / "catalog.sqlite") as catalog:
        (doc,) = catalog.documents()
    assert len(doc.urls) == 2


def test_bad_inputs_are_reported_and_the_rest_continues(
    fonds: Fonds, tmp_path: Path, data_dir: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "note.txt").write_text("Compte rendu du conseil citoyen de Lodève.", "utf-8")
    (folder / "erreur.pdf").write_text("<!DOCTYPE html><html><body>404</body></html>")
    (folder / "vide.pdf").write_bytes(b"")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "x.pdf").write_bytes(b"%PDF-1.4 hidden")
    # Reading /proc/self/mem at offset 0 fails with EIO: a real unreadable file, even as root.
    # Named on the command line, a symlink is followed (the user chose it); inside an
    # imported folder, one leading out of it is refused (test_symlinks_leaving_...).
    (tmp_path / "illisible.pdf").symlink_to("/proc/self/mem")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        '{"_id": "a1", "title": "Guide", "text": "Le guide des conseils citoyens."}\n'
        "\n"
        "{pas du json\n"
        '["une", "liste"]\n'
        '{"_id": "a2", "text": "Deuxième document."}\n',
        encoding="utf-8",
    )
    result = fonds("import", str(folder), str(corpus), str(tmp_path / "absent.pdf"),
                   str(tmp_path / "illisible.pdf"))
    assert result.exit_code == 1
    out = result.output
    assert f"{tmp_path / 'absent.pdf'} : chemin introuvable" in out
    assert f"{corpus}:3 : ligne JSON invalide" in out
    assert f"{corpus}:4 : objet JSON avec « _id » (texte ou nombre) attendu" in out
    assert "erreur.pdf : contenu HTML au lieu de PDF" in out
    assert "vide.pdf : fichier vide" in out
    assert "illisible.pdf : illisible (Input/output error)" in out
    assert "Import terminé : nouveaux 3" in out and "ignorés 1" in out

    with Catalog(data_dir / "catalog.sqlite") as catalog:
        docs = {Path(d.canonical_url).name: d for d in catalog.documents()}
        (run,) = catalog.runs()
    # Nothing silently dropped: the files that exist are all in the catalog, with a status.
    assert set(docs) == {"note.txt", "erreur.pdf", "vide.pdf", "illisible.pdf",
                         "corpus.jsonl#a1", "corpus.jsonl#a2"}
    assert docs["erreur.pdf"].status is DocStatus.FAILED
    assert docs["erreur.pdf"].media_type == "text/html"
    assert docs["note.txt"].status is DocStatus.ACTIVE
    assert docs["corpus.jsonl#a1"].title == "Guide"
    assert run.counts == {"new": 3, "changed": 0, "unchanged": 0, "failed": 6, "ignored": 1,
                          "bytes": run.counts["bytes"]}
    assert len(run.errors) == 6


def test_jsonl_records_keep_their_text(fonds: Fonds, tmp_path: Path, data_dir: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"_id": "F1", "title": "", "text": "Médiation familiale"},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    fonds("import", str(corpus))
    with Catalog(data_dir / "catalog.sqlite") as catalog:
        (doc,) = catalog.documents()
    stored = json.loads((data_dir / doc.file_path).read_text(encoding="utf-8"))
    assert stored["text"] == "Médiation familiale"
    assert doc.title is None and doc.meta["corpus_id"] == "F1"
    assert fonds("import", str(corpus)).output.count("inchangés 1") == 1


def test_unsupported_single_file_is_a_clear_error(fonds: Fonds, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    result = fonds("import", str(photo))
    assert result.exit_code == 1
    assert "type de fichier non pris en charge (.jpg)" in result.output
    assert "Traceback" not in result.output


def test_file_over_the_size_cap_is_recorded_as_failed(
    data_dir: Path, tmp_path: Path
) -> None:
    big = tmp_path / "gros.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (2 * 2**20))
    from click.testing import CliRunner

    from fonds.app.cli import cli

    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "import", str(big)], env={"FONDS_MAX_FILE_MB": "1"}
    )
    assert "gros.pdf : fichier trop volumineux (plus de 1 Mo)" in result.output
    assert not [p for p in (data_dir / "files").iterdir()]  # no half-written file left


@pytest.mark.slow
def test_sigkill_mid_import_then_rerun_completes(tmp_path: Path) -> None:
    corpus = tmp_path / "big.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for i in range(6000):
            out.write(json.dumps({"_id": f"d{i}", "title": f"Fiche {i}",
                                  "text": f"Texte du document numéro {i}. " * 20}) + "\n")
    data_dir = tmp_path / "data"
    env = child_env()
    command = [sys.executable, "-m", "fonds", "--data-dir", str(data_dir), "import", str(corpus)]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    catalog_path = data_dir / "catalog.sqlite"
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline and seen < 500:
        time.sleep(0.05)
        if catalog_path.exists():
            try:
                with Catalog(catalog_path) as catalog:
                    seen = catalog.status_counts()["total"]
            except Exception:  # the schema may be mid-creation
                seen = 0
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 500 <= seen < 6000, f"the import was not caught mid-way ({seen} documents)"

    with Catalog(catalog_path) as catalog:  # opens after the kill
        partial = catalog.status_counts()["total"]
        assert partial < 6000
        assert catalog.runs()[0].finished is None
    rerun = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    with Catalog(catalog_path) as catalog:
        assert catalog.status_counts() == {"total": 6000, "active": 6000, "gone": 0, "failed": 0}
        assert catalog.runs()[0].counts["new"] == 6000 - partial
        assert catalog.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not list((data_dir / "files").glob(".incoming-*"))


# -- nothing lost (issue 15 §2, §3, §13) ------------------------------------------------------


def _import(settings, *paths: Path):
    from fonds.importer import import_paths

    with Catalog(settings.catalog_path) as catalog:
        report = import_paths(list(paths), settings, catalog, progress=False)
        docs = catalog.documents()
    return report, docs


def test_a_changed_copy_moves_and_leaves_the_other_alone(settings, tmp_path: Path) -> None:
    from tests import pdfs

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = pdfs.text_pdf(["Rapport annuel des conseils citoyens de Lodève."])
    for folder in ("a", "b"):
        (tmp_path / folder / "x.pdf").write_bytes(first)
    _, docs = _import(settings, tmp_path / "a", tmp_path / "b")
    assert len(docs) == 1 and len(docs[0].urls) == 2
    (tmp_path / "b" / "x.pdf").write_bytes(pdfs.text_pdf(["Un tout autre rapport."]))
    report, docs = _import(settings, tmp_path / "a", tmp_path / "b")
    assert len(docs) == 2
    by_url = {u: d for d in docs for u in d.urls}
    a, b = ((tmp_path / f / "x.pdf").resolve().as_uri() for f in ("a", "b"))
    assert by_url[a] is not by_url[b]
    assert by_url[a].sha256 != by_url[b].sha256 and by_url[a].urls == (a,)
    assert (settings.data_dir / by_url[a].file_path).read_bytes() == first
    assert by_url[a].canonical_url == a and by_url[b].canonical_url.startswith(b)
    # the same the other way round: the first URL changes
    (tmp_path / "a" / "x.pdf").write_bytes(pdfs.text_pdf(["Un tout autre rapport."]))
    _, docs = _import(settings, tmp_path / "a", tmp_path / "b")
    by_url = {u: d for d in docs for u in d.urls}
    assert by_url[a].id == by_url[b].id  # same bytes again: one document
    assert len({d.sha256 for d in docs}) == len(docs)  # one content, one document


def test_jsonl_every_line_ends_as_a_document_or_a_located_error(
    settings, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    lines = [json.dumps({"_id": f"d{i}", "title": f"Fiche {i}", "text": f"Texte {i}."})
             .encode() for i in range(1, 3001)]
    lines[0] = b"\xef\xbb\xbf" + lines[0]  # a UTF-8 byte order mark
    lines[1999] = lines[1999].replace(b"Texte", b"Te\xffxte")  # one bad byte, line 2000
    lines[2099] = json.dumps({"_id": None, "text": "x"}).encode()
    lines[2199] = json.dumps({"_id": "d5", "text": "en double"}).encode()
    lines[2299] = json.dumps({"_id": "gros", "text": "x" * (2 * 2**20)}).encode()
    corpus.write_bytes(b"\n".join(lines) + b"\n")
    report, docs = _import(dataclasses.replace(settings, max_file_mb=1), corpus)
    assert report.counts["new"] == 2996 and report.counts["failed"] == 4
    assert len(docs) == 2996
    errors = "\n".join(report.errors)
    for number in (2000, 2100, 2200, 2300):
        assert f"{corpus}:{number} : " in errors, number
    assert "déjà vu ligne 5" in errors and "trop volumineux" in errors
    assert any(d.title == "Fiche 1" for d in docs)  # the BOM line
    assert any(d.title == "Fiche 3000" for d in docs)  # after the bad byte, it went on


def test_symlinks_leaving_the_folder_are_refused_and_special_files_skipped(
    settings, tmp_path: Path
) -> None:
    import socket

    from tests import pdfs

    folder = tmp_path / "in"
    (folder / "sous").mkdir(parents=True)
    (folder / "bon.pdf").write_bytes(pdfs.text_pdf(["Guide des conseils citoyens."]))
    (folder / "sous" / "lien-interne.pdf").symlink_to(folder / "bon.pdf")
    (folder / "passwd.pdf").symlink_to("/etc/passwd")
    (folder / "dehors").symlink_to("/etc")
    (folder / "casse.pdf").symlink_to(folder / "absent.pdf")
    os.mkfifo(folder / "tube.pdf")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "prise.pdf"))
    try:
        report, docs = _import(settings, folder)
    finally:
        server.close()
    assert report.counts["refused"] == 2 and report.counts["skipped"] == 3
    assert len(docs) == 1 and len(docs[0].urls) == 2  # the link inside: same document
    errors = "\n".join(report.errors)
    assert "passwd.pdf : lien symbolique vers /etc/passwd" in errors
    for name in ("casse.pdf", "tube.pdf", "prise.pdf"):
        assert f"{folder / name} : " in errors
    stored = [p.read_bytes() for p in (settings.data_dir / "files").iterdir()]
    assert not any(b"root:" in data for data in stored)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
_LINE = st.one_of(
    st.builds(lambda i, t, x: json.dumps({"_id": i, "title": t, "text": x}).encode(),
              st.text(min_size=1, max_size=12) | st.integers(), st.text(max_size=40),
              st.text(max_size=80)),
    st.builds(lambda v: json.dumps(v).encode(), _JSON),
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")),
    st.builds(lambda extra: json.dumps({"_id": "x", "text": "t", "date": extra,
                                        "themes": extra}).encode(), _JSON))


@settings_profile(max_examples=40, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, min_size=1, max_size=25))
@example(lines=[b"\xef\xbb\xbf"])  # a file of only a byte order mark
def test_jsonl_generated_lines_all_accounted_for(lines: list[bytes], tmp_path: Path) -> None:
    from fonds.importer import import_paths
    from fonds.settings import load_settings

    work = Path(tempfile.mkdtemp(dir=tmp_path))
    corpus = work / "c.jsonl"
    corpus.write_bytes(b"\n".join(lines) + b"\n")
    config = load_settings({"data_dir": work / "data"}, env={})
    with Catalog(config.catalog_path) as catalog:
        report = import_paths([corpus], config, catalog, progress=False)
        recorded = len(catalog.documents())
    # a byte order mark opening the file is not content: a first line of only that is blank
    bare = [line.removeprefix(b"\xef\xbb\xbf") if i == 0 else line
            for i, line in enumerate(lines)]
    blank = sum(1 for line in bare if not line.strip())
    counts = report.counts
    assert counts["new"] + counts["unchanged"] + counts["changed"] + counts["failed"] == (
        len(lines) - blank)
    assert recorded == counts["new"]
    assert len(report.errors) == counts["failed"]
    assert all(f"{corpus}:" in e for e in report.errors)


def test_a_redirect_pair_changes_together_and_keeps_its_id(settings) -> None:
    from fonds.models import Observation

    def seen(url: str, sha: str, final: str | None = None) -> str:
        obs = Observation(url=url, sha256=sha, file_path=f"files/{sha}.pdf",
                          media_type="application/pdf", size=1, source="s",
                          meta={"final_url": final} if final else {})
        return catalog.record(obs)[1]

    with Catalog(settings.catalog_path) as catalog:
        first = seen("https://s/a.pdf", "1" * 64, "https://s/files/a.pdf")
        assert seen("https://s/files/a.pdf", "1" * 64) == first
        assert seen("https://s/a.pdf", "2" * 64, "https://s/files/a.pdf") == first
        assert seen("https://s/files/a.pdf", "2" * 64) == first
        (doc,) = catalog.documents()
    assert doc.sha256 == "2" * 64 and len(doc.urls) == 2
