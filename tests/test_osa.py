"""osa_distance's cheap early exit (character sets) never changes a distance within the
limit: each edit changes the symmetric difference of the two words' letters by at most 2."""

from hypothesis import given, settings
from hypothesis import strategies as st

from fonds.highlight import osa_distance

WORDS = st.text(alphabet="aeéilnorstu", max_size=9)


def _reference(a: str, b: str) -> int:
    """The plain optimal-string-alignment table, no shortcut."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


@settings(max_examples=400)
@given(WORDS, WORDS, st.integers(min_value=0, max_value=3))
def test_capped_distance_matches_the_full_table(a: str, b: str, limit: int) -> None:
    # Callers only ask « within the limit? »: beyond it any value over the limit will do.
    assert min(osa_distance(a, b, limit), limit + 1) == min(_reference(a, b), limit + 1)
