"""Extraction, cleaning, enrichment, chunking and embedding of catalog documents."""
