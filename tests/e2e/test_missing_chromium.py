"""Without Chromium, browser tests skip loudly on a workstation and fail the run in CI."""

from pathlib import Path
from types import SimpleNamespace

import pytest

import tests.e2e.conftest as e2e_conftest


def _items():
    browser = SimpleNamespace(keywords={"e2e": True}, markers=[])
    browser.add_marker = browser.markers.append
    other = SimpleNamespace(keywords={}, markers=[])
    other.add_marker = other.markers.append
    return browser, other


@pytest.fixture
def no_chromium(monkeypatch, tmp_path):
    monkeypatch.setattr(e2e_conftest, "CHROMIUM", Path(tmp_path / "no-chromium"))


@pytest.mark.parametrize("value", ["1", "true"])
def test_in_ci_a_missing_chromium_stops_the_run(no_chromium, monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.UsageError, match="CI is set and 1 browser tests cannot run"):
        e2e_conftest.pytest_collection_modifyitems(None, list(_items()))


def test_on_a_workstation_they_skip_with_a_warning(no_chromium, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    browser, other = _items()
    with pytest.warns(pytest.PytestWarning, match="SKIPPING 1 browser tests"):
        e2e_conftest.pytest_collection_modifyitems(None, [browser, other])
    assert [m.name for m in browser.markers] == ["skip"] and not other.markers
