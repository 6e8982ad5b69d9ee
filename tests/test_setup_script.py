"""scripts/setup.sh installs only what is missing (checked with a stand-in venv whose pip logs)."""

import hashlib
import subprocess
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _fake_venv(root: Path) -> tuple[Path, Path]:
    """A venv whose python exists and whose pip records each call instead of installing."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    log = root / "pip.log"
    (bin_dir / "python").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "pip").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    for tool in ("python", "pip"):
        (bin_dir / tool).chmod(0o755)
    return root, log


def _stamp_prefix(venv: Path) -> str:
    requirements = b"".join(p.read_bytes() for p in sorted(PROJECT_DIR.glob("requirements*.txt")))
    return str(venv / f".installed-{hashlib.sha256(requirements).hexdigest()[:12]}")


def _run_setup(venv: Path) -> None:
    subprocess.run(["bash", "scripts/setup.sh"], cwd=PROJECT_DIR, check=True,
                   env={"PATH": "/usr/bin:/bin", "LATENT_LAB_VENV": str(venv)})


def test_the_app_setup_needs_no_pip_after_the_dev_setup(tmp_path):
    venv, log = _fake_venv(tmp_path / "venv")
    Path(_stamp_prefix(venv) + "-requirements-dev").touch()
    _run_setup(venv)
    assert not log.exists()


def test_the_app_setup_installs_into_a_fresh_venv(tmp_path):
    venv, log = _fake_venv(tmp_path / "venv")
    _run_setup(venv)
    calls = log.read_text().splitlines()
    assert any("torch==2.13.0" in call for call in calls)
    assert any("-r requirements.txt" in call for call in calls)
    assert Path(_stamp_prefix(venv) + "-requirements").exists()
