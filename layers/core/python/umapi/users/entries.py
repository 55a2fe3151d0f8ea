"""The entries a user is listed by, beside its item (``users.items``), and what a listing asks.

    search entry    PK=ORG#<org>#SEARCH[#ARCHIVED]  SK=<word>#<usr>  (one per search word: users.search)
    filter entry    PK=ORG#<org>#USERS#<STATUS|DEPARTMENT|ROLE>#<value>  SK=<created_at>#<usr>
                    (unarchived users: one per status, department and role held)

A page led by a search term or one filter value reads one such partition, so its cost follows
the page, not the organization.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from umapi import db
from umapi.db import Guarded
from umapi.table_keys import user_search_pk, user_search_sk, users_filter_pk, users_filter_sk
from umapi.users.entities import User
from umapi.users.holdings import unexpired
from umapi.users.search import answered_under, search_words


class ListQuery(NamedTuple):
    limit: int
    cursor: str | None
    status: str | None
    role: str | None
    department: str | None
    search: str | None
    sort: str
    order: str


class UserFilters(NamedTuple):
    status: str | None = None
    role_id: str | None = None
    department: str | None = None
    search: str | None = None


def matches(filters: UserFilters, now_iso: str, user: User) -> bool:
    """Whether ``user`` passes ``filters`` (status, an unexpired role, department): what a
    listing's FilterExpression checks, for users read another way."""
    if filters.status and user.status != filters.status:
        return False
    if filters.department and user.department != filters.department:
        return False
    return not filters.role_id or any(a.role_id == filters.role_id for a in unexpired(user, now_iso))


class Lead(NamedTuple):
    """What an entry-led page reads: a ``search`` term, or one ``status``, ``department`` or
    ``role`` value (``archived`` only for search: archived users have no filter entries)."""

    kind: str
    value: str
    archived: bool = False


FILTERS = ("status", "department", "role")


def listing_entries(user: User | None) -> dict[str, dict[str, Any]]:
    """Every entry ``user`` is listed by (search words, and unarchived, its status, department
    and roles), by key (``PK|SK``); none for a purged user."""
    entries = search_entries(user)
    if user is None or user.status == "archived":
        return entries
    sk = users_filter_sk(user.created_at, user.id)
    listed: list[tuple[str, str, dict[str, Any]]] = [("status", user.status, {})]
    if user.department:
        listed.append(("department", user.department, {}))
    listed += [("role", a.role_id, {"expires_at": a.expires_at}) for a in user.roles]
    for kind, value, extra in listed:
        pk = users_filter_pk(user.org_id, kind, value)
        entries[f"{pk}|{sk}"] = {"PK": pk, "SK": sk, "entity": f"user_{kind}", "user_id": user.id, **extra}
    return entries


def search_entries(user: User | None) -> dict[str, dict[str, Any]]:
    """The search entries of ``user`` by key (``PK|SK``); none for a purged user."""
    if user is None:
        return {}
    words = search_words(user.name, user.email)
    partition = user_search_pk(user.org_id, archived=user.status == "archived")
    entries = {}
    for word in words:
        values = {
            "PK": partition,
            "SK": user_search_sk(word, user.id),
            "entity": "user_search",
            "user_id": user.id,
            "word": word,
            "words": list(words),
        }
        entries[f"{values['PK']}|{values['SK']}"] = values
    return entries


def answers_search(entry: dict[str, Any], term: str, descending: bool) -> bool:
    return answered_under(entry["word"], entry["words"], term, descending=descending)


def entry_changes(table: str, before: User | None, after: User | None) -> list[Guarded]:
    """Deletes of the entries ``after`` no longer has, puts of the new and the changed."""
    old, new = listing_entries(before), listing_entries(after)
    deletes: list[Guarded] = [
        ({"Delete": {"TableName": table, "Key": db.serialize({"PK": e["PK"], "SK": e["SK"]})}}, None)
        for key, e in old.items()
        if key not in new
    ]
    puts: list[Guarded] = [
        ({"Put": {"TableName": table, "Item": db.serialize(e)}}, None) for key, e in new.items() if old.get(key) != e
    ]
    return deletes + puts
