"""Search words (docs/api.md §4): ``search`` matches a case-insensitive prefix of the email, of the
name, or of any word of either; words are split at spaces and ``.``, ``-``, ``_``, ``+``, ``@``.

Each user is written under each of its words (``search_entries``), so a prefix is one
``Query`` with ``begins_with``. A user found under several words is answered once, under the
first word the prefix matches in the listing's order (``answered_under``): the same decision
on every page, so walking every page returns each match exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SEPARATORS = re.compile(r"[\s.\-_+@]+")
MIN_TERM, MAX_TERM = 2, 100
# Words are kept to a term's longest, and a user to this many (the whole email and name first).
MAX_WORDS = 12


def normalize(text: str) -> str:
    return text.casefold()


def search_words(name: str, email: str) -> tuple[str, ...]:
    """The words ``name`` and ``email`` are found under, in a fixed order, without repeats."""
    words: list[str] = []
    for whole in (normalize(email), normalize(name).strip()):
        words.append(whole)
        words += SEPARATORS.split(whole)
    unique = dict.fromkeys(word[:MAX_TERM] for word in words if word)
    return tuple(unique)[:MAX_WORDS]


def answered_under(word: str, words: Iterable[str], term: str, *, descending: bool) -> bool:
    """Whether an entry under ``word`` answers its user: ``word`` matches ``term``, and it is
    the first of the user's matching ``words`` in the listing's order."""
    if not word.startswith(term):
        return False
    matching = [w for w in words if w.startswith(term)]
    return word == (max(matching) if descending else min(matching))
