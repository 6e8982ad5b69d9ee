"""`python -m vae_core download`: how an admin fills the cache a shared server offers the full
sets from; served by the loopback mirror of test_data_download.py, never the internet."""

from __future__ import annotations

from tests.core.test_data_download import _serve, _sums, mirror  # noqa: F401 (a fixture)
from vae_core import cli


def test_download_fills_the_cache_with_checked_files(mirror, monkeypatch, tmp_path, capsys):  # noqa: F811
    base, folder, hits = mirror
    _serve(monkeypatch, tmp_path, "mnist", (base,), _sums(folder))
    assert cli.main(["download", "mnist"]) == 0
    cached = tmp_path / "cache" / "mnist"
    assert _sums(cached) == _sums(folder)
    assert f"mnist: the four files are in {cached}, checked" in capsys.readouterr().out
    hits.clear()
    assert cli.main(["download", "mnist"]) == 0 and hits == []  # already there: no fetch


def test_download_names_an_unknown_set_and_a_failure(mirror, monkeypatch, tmp_path, capsys):  # noqa: F811
    _, folder, _ = mirror
    assert cli.main(["download", "cifar"]) == 2
    assert "unknown set \"cifar\": one of mnist, fashion_mnist" in capsys.readouterr().err
    _serve(monkeypatch, tmp_path, "mnist", ("http://127.0.0.1:9/",), _sums(folder))
    assert cli.main(["download", "mnist"]) == 2
    assert "Connect to the internet once" in capsys.readouterr().err
