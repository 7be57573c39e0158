"""Text bound for a terminal: what a document says must not drive the terminal."""

from __future__ import annotations

import re

# C0 and C1 controls but newline and tab (ESC starts the escapes that retitle a window,
# rewrite lines or hide text), DEL, and the bidirectional overrides that reorder a line.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without control characters, lines kept."""
    return _UNSAFE.sub("", text)
