"""The search box's text, rebuilt from its words before PostgreSQL's text-search parser sees it.

Pure Python (no database): expected outputs are written out by hand, and the
properties that keep the parser safe (only words, at most one operator before
each term, at most 32 words) are checked on generated text.
"""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recognition.filters import MAX_SEARCH_WORDS, websearch_text


@pytest.mark.parametrize(
    "typed, rebuilt",
    [
        ("dispatchers", "dispatchers"),
        ("  Mobile   County ", "Mobile County"),
        ("9-1-1 telecommunicators", "9-1-1 telecommunicators"),
        ("first-responder", "first-responder"),
        ("O'Brien", "O'Brien"),
        ('"first responders" Alabama', '"first responders" Alabama'),
        ("police -fire", "police -fire"),
        ('-"state law" county', '-"state law" county'),
        ("Texas or Alabama", "Texas or Alabama"),
        ("Texas OR or Alabama", "Texas or Alabama"),
        ("or Texas or", "Texas"),
        ("Doña Ana", "Doña Ana"),
        ("-" * 33, ""),
        ("!!! ((( ))) &&& ||| <-> :*", ""),
        ("a:* & b | !c <-> d", "a b c d"),
        ("--police", "-police"),
        ("a---b", "a b"),
        ('"unterminated phrase', '"unterminated phrase"'),
        ('""', ""),
        (":or", ""),  # found by the property below: "or" out of punctuation is still no term
        ("a :or b", "a or b"),
    ],
)
def test_rebuilt_from_words(typed, rebuilt):
    assert websearch_text(typed) == rebuilt


def test_at_most_32_words_count():
    assert MAX_SEARCH_WORDS == 32
    assert websearch_text(" ".join(f"w{i}" for i in range(40))) == " ".join(f"w{i}" for i in range(32))
    assert websearch_text("-".join(["a"] * 100)) == "-".join(["a"] * 32)  # one long compound, cut
    assert websearch_text('"' + " ".join(["x"] * 40) + '"') == '"' + " ".join(["x"] * 32) + '"'


TERM = re.compile(r"""-?(?:"[\w'-]+(?: [\w'-]+)*"|[\w'-]+)""")


@given(st.text(alphabet="-!()\"'&|<>:* \tabor19é_", max_size=300))
def test_only_words_phrases_one_minus_and_or_between_terms(typed):
    rebuilt = websearch_text(typed)
    if not rebuilt:
        return
    tokens = re.findall(r'-?"[^"]*"|\S+', rebuilt)
    previous_was_or = True  # nothing may start with "or"
    for token in tokens:
        if token == "or":
            assert not previous_was_or, rebuilt
            previous_was_or = True
            continue
        assert TERM.fullmatch(token), (token, rebuilt)
        assert "--" not in token and "''" not in token and not token.lstrip("-").startswith(("-", "'"))
        previous_was_or = False
    assert not previous_was_or, rebuilt  # nor end with it
    assert len(re.findall(r"\w+", rebuilt.replace(" or ", " "))) <= MAX_SEARCH_WORDS
