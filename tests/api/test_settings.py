from __future__ import annotations

import pytest
from pydantic import ValidationError

from umapi.settings import get_settings


def test_settings_are_read_lazily_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "OtherTable")
    get_settings.cache_clear()
    assert get_settings().table_name == "OtherTable"


def test_an_empty_endpoint_means_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    assert get_settings().aws_endpoint_url is None


def test_a_missing_table_name_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME")
    with pytest.raises(ValidationError, match="TABLE_NAME"):
        get_settings()
