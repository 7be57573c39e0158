"""Snippets: one pattern of the matching words finds what a scan of every token finds, and
one sliding pass picks the same window as trying every start."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from fonds.highlight import LEAD_CHARS, Matcher, _crop, highlight
from fonds.query import parse

WORDS = ["conseils", "conseil", "Conseils", "citoyens", "santé", "SANTÉ", "sante", "emploi",
         "emplois", "quartier", "de", "la", "ville", "l", "d"]
SEPARATORS = [" ", " ", "-", "'", "’", "_", ", ", "\n", ".", "(", ")"]


def _reference(text: str, matcher: Matcher, crop_chars: int) -> str:
    """The window tried from every match, as highlight did before the sliding pass."""
    found = [(m.start(), m.end(), matcher.slot_of_token(m.group()))
             for m in re.finditer(r"[^\W_]+", text)]
    found = [f for f in found if f[2] is not None]
    if not found:
        return _crop(text, 0, crop_chars, [])
    best, best_score = 0, (-1, -1)
    for i, (start, _, _) in enumerate(found):
        inside = [f for f in found[i:] if f[0] < start + crop_chars - LEAD_CHARS]
        score = (len({f[2] for f in inside}), len(inside))
        if score > best_score:
            best, best_score = i, score
    return _crop(text, max(0, found[best][0] - LEAD_CHARS), crop_chars, found)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=120),
       st.lists(st.sampled_from(WORDS[:9]), min_size=1, max_size=3),
       st.integers(min_value=1, max_value=300))
def test_the_sliding_window_is_the_best_window(words: list[tuple[str, str]], query: list[str],
                                               crop_chars: int) -> None:
    """Also: the matches are whole tokens as _TOKEN cuts them, whatever the punctuation."""
    text = "".join(word + separator for word, separator in words)
    matcher = Matcher(parse(" ".join(query) + " "))
    assert highlight(text, matcher, crop_chars).html == _reference(text, matcher, crop_chars)
