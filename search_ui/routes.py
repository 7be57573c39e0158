"""The archived files, served beside the Streamlit app (st.App routes, see app.py).

GET /copie/<id> answers the stored file of document <id>, streamed from disk (never read
whole): a PDF inline, so the browser's viewer honours #page=N; anything else as plain
text, so an archived HTML page never runs on this site. ?telecharger=1 asks for a
download; ?version=N serves version N's file (every version's file stays in files/).
Only ids of the catalog are served: anything else, a path, dots, a slash, an unknown
version, answers 404 « document inconnu ».
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from fonds.catalog import Catalog
from fonds.media import PDF, stored_file
from fonds.settings import Settings, load_settings
from fonds.ui_model import doc_id_param
from fonds.versions import version_number

UNKNOWN = "document inconnu\n"
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "private, max-age=300"}


@lru_cache(maxsize=1)
def _settings() -> Settings:
    return load_settings()


def archived_copy(request: Request) -> Response:
    doc_id = doc_id_param(request.path_params.get("doc_id", ""))
    config = _settings()
    if doc_id is None or not config.catalog_path.is_file():
        return PlainTextResponse(UNKNOWN, status_code=404, headers=HEADERS)
    raw_version = request.query_params.get("version")
    number = version_number(raw_version) if raw_version is not None else None
    with Catalog(config.catalog_path) as catalog:
        doc = catalog.document(doc_id)
        version = catalog.version(doc_id, number) if doc and number else None
    if raw_version is not None and version is None:
        return PlainTextResponse(UNKNOWN, status_code=404, headers=HEADERS)
    held = version or doc
    stored = stored_file(config.data_dir, held.file_path, held.media_type,
                         doc.canonical_url) if doc and held else None
    if stored is None:
        return PlainTextResponse(UNKNOWN, status_code=404, headers=HEADERS)
    download = request.query_params.get("telecharger") == "1"
    disposition = "attachment" if download else "inline"
    headers = {**HEADERS, "Content-Disposition":
               f"{disposition}; filename*=UTF-8''{quote(stored.name)}"}
    if stored.media_type == PDF:
        return FileResponse(stored.path, media_type=PDF, headers=headers)
    # Not PDF: text, in a sandbox (no script, no subresource) whatever the bytes say.
    headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return FileResponse(stored.path, media_type="text/plain; charset=utf-8", headers=headers)


ROUTES = [Route("/copie/{doc_id:path}", archived_copy, methods=["GET", "HEAD"])]
