"""Fixtures of the handler tests on moto (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api import InProcessApi
from tests.support.login import LoginWorld, login_world
from tests.support.provider_documents import ProviderDocuments, provider_documents
from umapi import services
from umapi.bootstrap import AdminCredentials
from umapi.settings import get_settings


@pytest.fixture
def world(api: InProcessApi, platform: AdminCredentials) -> LoginWorld:
    """An organization with a signed-up user, a confidential app and a public one (tests.support.login)."""
    return login_world(api, platform)


@pytest.fixture(scope="session")
def _provider_documents() -> Iterator[ProviderDocuments]:
    with provider_documents() as documents:
        yield documents


@pytest.fixture
def providers(_provider_documents: ProviderDocuments, monkeypatch: pytest.MonkeyPatch) -> ProviderDocuments:
    """Identity providers' discovery documents on 127.0.0.1, which the loopback allowance of a
    local runtime lets the API reach (tests.support.provider_documents)."""
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    services.reset()
    _provider_documents.answers.clear()
    return _provider_documents
