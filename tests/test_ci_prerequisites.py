"""Missing prerequisites skip locally but fail in CI (no silent skips there)."""

from __future__ import annotations

import pytest

from tests.conftest import in_ci, missing_prerequisite


@pytest.mark.parametrize(
    ("value", "ci"),
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("", False),
        ("0", False),
        ("false", False),
        ("FALSE", False),
        (None, False),
    ],
)
def test_ci_detection(monkeypatch, value, ci):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert in_ci() is ci


def test_missing_prerequisite_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set.*Chromium"):
        missing_prerequisite("no Chromium")


def test_missing_prerequisite_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        missing_prerequisite("no Chromium")
