"""Engine settings as data (Meilisearch settings, synonyms, stop words, taxonomy)."""

from pathlib import Path

DIR = Path(__file__).parent
