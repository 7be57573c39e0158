"""The orchestration layer: the library object and the front ends built on it."""

from fonds.app.archive import Archive

__all__ = ["Archive"]
