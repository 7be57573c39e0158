"""Text from a document made safe to show: no control character may drive a terminal or
reorder what a page shows."""

from __future__ import annotations

import re

# C0 and C1 controls but newline and tab (ESC starts the escapes that retitle a window,
# rewrite lines or hide text), DEL, zero-width and line-separator characters, and the
# bidirectional overrides that reorder a line.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")


def printable(text: str) -> str:
    """`text` without control characters, lines kept."""
    return _UNSAFE.sub("", text)


def one_line(value: object) -> str:
    """A value as one line of printable text (None is empty), whitespace collapsed."""
    return _SPACES.sub(" ", printable("" if value is None else str(value)))
