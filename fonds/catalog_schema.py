"""The catalog's schema, as numbered migrations: each moves it one version forward."""

from __future__ import annotations

# Each entry moves the schema one version forward; never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        base_url TEXT,
        config TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        canonical_url TEXT NOT NULL UNIQUE,
        sha256 TEXT,
        file_path TEXT,
        media_type TEXT,
        size INTEGER,
        title TEXT,
        source TEXT,
        doc_type TEXT,
        themes TEXT NOT NULL DEFAULT '[]',
        departements TEXT NOT NULL DEFAULT '[]',
        published TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        status TEXT NOT NULL,
        extraction_status TEXT NOT NULL DEFAULT 'pending',
        error TEXT,
        missed_runs INTEGER NOT NULL DEFAULT 0,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX documents_sha256 ON documents(sha256);
    CREATE INDEX documents_status ON documents(status);
    CREATE TABLE urls (
        url TEXT PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id),
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT
    );
    CREATE INDEX urls_doc ON urls(doc_id);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        counts TEXT NOT NULL DEFAULT '{}',
        errors TEXT NOT NULL DEFAULT '[]'
    );
    """,
    # 2: what the ingest stage produces. Passages keep their text so that the index can be
    # rebuilt without extracting again; enrichment sits beside what the source said.
    """
    CREATE TABLE passages (
        id TEXT PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id),
        position INTEGER NOT NULL,
        page INTEGER,
        heading TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        ocr INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX passages_doc ON passages(doc_id, position);
    ALTER TABLE documents ADD COLUMN ingested_sha256 TEXT;
    ALTER TABLE documents ADD COLUMN ingested_at TEXT;
    ALTER TABLE documents ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE documents ADD COLUMN pages INTEGER;
    ALTER TABLE documents ADD COLUMN language TEXT;
    ALTER TABLE documents ADD COLUMN auto_title TEXT;
    ALTER TABLE documents ADD COLUMN auto_themes TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE documents ADD COLUMN auto_departements TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE documents ADD COLUMN auto_doc_type TEXT;
    ALTER TABLE documents ADD COLUMN auto_published TEXT;
    ALTER TABLE documents ADD COLUMN notes TEXT NOT NULL DEFAULT '[]'
    """,
    # 3: where a document was linked from (the crawl's context: article, link text,
    # categories), so a PDF inherits its articles' themes and a readable title.
    """
    CREATE TABLE links (
        doc_id TEXT NOT NULL REFERENCES documents(id),
        article_url TEXT NOT NULL,
        article_title TEXT NOT NULL DEFAULT '',
        link_text TEXT NOT NULL DEFAULT '',
        themes TEXT NOT NULL DEFAULT '[]',
        article_date TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        PRIMARY KEY (doc_id, article_url)
    );
    CREATE INDEX links_article ON links(article_url);
    DROP TABLE sources
    """,
    # 4: why an extraction failed (the document, or something that may go away: a missing
    # module, a crashed worker, a timeout, a lost file) so that ingest retries the latter;
    # where each page starts inside a passage, so a snippet knows its page.
    """
    ALTER TABLE documents ADD COLUMN failure_kind TEXT;
    ALTER TABLE documents ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE passages ADD COLUMN page_breaks TEXT NOT NULL DEFAULT '[]'
    """,
    # 5: what a run report needs beyond counts (a crawl's source, the documents it found
    # new, changed, gone or failed, each broken link with the article that links it).
    """
    ALTER TABLE runs ADD COLUMN details TEXT NOT NULL DEFAULT '{}'
    """,
    # 6: versions, every content a document's URLs served (fonds/catalog_versions.py), with
    # what changed from the text the ingest replaced (JSON, fonds/versions.py); when the
    # document's address stopped giving it. A document held before has one version, dated
    # by the document (when its current bytes arrived was not recorded).
    """
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id TEXT NOT NULL REFERENCES documents(id),
        number INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER,
        pages INTEGER,
        file_path TEXT,
        media_type TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        diff TEXT,
        UNIQUE (doc_id, number)
    );
    CREATE INDEX versions_first_seen ON versions(first_seen);
    ALTER TABLE documents ADD COLUMN unavailable_since TEXT;
    INSERT INTO versions (doc_id, number, sha256, size, pages, file_path, media_type,
                          first_seen, last_seen)
        SELECT id, 1, sha256, size, pages, file_path, media_type, first_seen, last_seen
        FROM documents WHERE sha256 IS NOT NULL
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
