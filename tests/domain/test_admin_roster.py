"""The admin roster's decision (MINIMUM_ADMIN_COUNT), without DynamoDB."""

from __future__ import annotations

from umapi.users.admin_roster import NEVER, apply_moves, leaves_no_admin, standing
from umapi.users.entities import RoleAssignment, User

NOW = "2026-12-01T12:00:00.000Z"
LATER = "2026-12-01T13:00:00.000Z"
EARLIER = "2026-12-01T11:00:00.000Z"


def user(status: str = "active", *roles: RoleAssignment) -> User:
    return User("usr_1", "org_1", "a@example.com", "A", status, True, NOW, NOW, roles=roles)


def test_standing_is_for_active_users_with_an_unexpired_admin_role() -> None:
    assert standing(user("active", RoleAssignment("role_admin", NOW)), NOW) == NEVER
    assert standing(user("active", RoleAssignment("role_admin", NOW, LATER)), NOW) == LATER
    assert standing(user("active", RoleAssignment("role_admin", NOW, EARLIER)), NOW) is None
    assert standing(user("suspended", RoleAssignment("role_admin", NOW)), NOW) is None
    assert standing(user("active", RoleAssignment("role_member", NOW)), NOW) is None
    assert standing(None, NOW) is None


def test_the_last_admin_cannot_go() -> None:
    assert leaves_no_admin({"a": NEVER}, {})
    assert not leaves_no_admin({"a": NEVER, "b": NEVER}, {"b": NEVER})
    assert not leaves_no_admin({}, {})  # an organization that never had one is not blocked


def test_an_expiring_admin_cannot_be_the_keeper() -> None:
    assert leaves_no_admin({"a": NEVER, "b": LATER}, {"b": LATER})
    assert leaves_no_admin({"a": NEVER}, {"a": LATER})  # turning the last permanent one temporary
    assert not leaves_no_admin({"a": LATER, "b": LATER}, {"b": LATER})  # none was permanent


def test_moves_apply_in_order_and_each_is_judged_on_what_came_before() -> None:
    roster, refused = apply_moves({"a": NEVER, "b": NEVER}, [(0, "a", None), (1, "b", None)], NOW)
    assert roster == {"b": NEVER}
    assert list(refused) == [1]
    assert refused[1].context["violations"][0]["current_admin_count"] == 1


def test_ended_entries_drop_out_and_count_for_nothing() -> None:
    roster, refused = apply_moves({"a": NEVER, "gone": EARLIER}, [(0, "c", NEVER)], NOW)
    assert roster == {"a": NEVER, "c": NEVER}
    assert refused == {}
    _, refused = apply_moves({"a": NEVER, "gone": EARLIER}, [(0, "a", None)], NOW)
    assert list(refused) == [0]
