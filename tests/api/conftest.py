"""Fixtures of the handler tests on moto (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.support.api import InProcessApi
from tests.support.login import LoginWorld, login_world
from umapi.bootstrap import AdminCredentials


@pytest.fixture
def world(api: InProcessApi, platform: AdminCredentials) -> LoginWorld:
    """An organization with a signed-up user, a confidential app and a public one (tests.support.login)."""
    return login_world(api, platform)
