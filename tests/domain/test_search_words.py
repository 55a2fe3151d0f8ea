"""Search words and the once-only rule (umapi.users.search), without moto."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from umapi.users.search import MAX_TERM, MAX_WORDS, answered_under, search_words


def test_words_are_the_whole_email_and_name_and_each_word_of_either() -> None:
    assert search_words("Ada Lovelace", "Ada.Lovelace+x@Example.com") == (
        "ada.lovelace+x@example.com",
        "ada",
        "lovelace",
        "x",
        "example",
        "com",
        "ada lovelace",
    )


def test_words_are_bounded() -> None:
    words = search_words(" ".join(f"w{i}" for i in range(40)), "a" * 300 + "@example.com")
    assert len(words) == MAX_WORDS
    assert all(len(word) <= MAX_TERM for word in words)


@settings(max_examples=300, derandomize=True)
@given(
    st.text(alphabet="ab .-_+@", min_size=1, max_size=20),
    st.text(alphabet="ab.@", min_size=1, max_size=20),
    st.text(alphabet="ab", min_size=1, max_size=3),
    st.booleans(),
)
def test_a_matching_user_is_answered_under_exactly_one_word(name: str, email: str, term: str, descending: bool) -> None:
    words = search_words(name, email)
    answered = [word for word in words if answered_under(word, words, term, descending=descending)]
    assert len(answered) == (1 if any(word.startswith(term) for word in words) else 0)
