"""The embedded engine (default): tantivy for words, numpy for meaning, no server."""

from fonds.engines.embedded.engine import EmbeddedEngine

__all__ = ["EmbeddedEngine"]
