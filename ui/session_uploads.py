"""Checkpoints a visitor uploads live in a folder of their session's own, deleted when it ends.

Layout: <tmp>/latent-lab-uploads/<server pid>/<session id>/<digest>/. Streamlit has no public
hook for a session's end, so a sweep deletes the folders of sessions the server no longer holds:
neither connected nor kept for a reconnect (Streamlit keeps a disconnected session ~2 minutes, so
a reloaded tab finds its upload). It runs every LATENT_LAB_SWEEP_SECONDS (default 30) in a daemon
thread; its first pass also deletes what servers that no longer run left behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

UPLOAD_ROOT = Path(tempfile.gettempdir()) / "latent-lab-uploads"
DEFAULT_SWEEP_SECONDS = 30
NO_SESSION = "no-session"  # save_upload called outside a script run (the library's tests)
_LOGGER = logging.getLogger(__name__)
_sweeper_lock = threading.Lock()
_sweeper: threading.Thread | None = None
_warned = False


def server_dir() -> Path:
    return UPLOAD_ROOT / str(os.getpid())


def current_session_id() -> str:
    context = get_script_run_ctx(suppress_warning=True)
    return context.session_id if context is not None else NO_SESSION


def session_dir(session_id: str | None = None) -> Path:
    """This session's upload folder (it may not exist yet)."""
    return server_dir() / (session_id or current_session_id())


def live_session_ids() -> set[str] | None:
    """Ids of the sessions this server holds (connected or awaiting a reconnect); None when no
    server runs (AppTest's mock runtime, scripts). Streamlit has no public API for this list."""
    if not runtime.exists() or type(runtime.get_instance()) is not runtime.Runtime:
        return None  # no server, or AppTest's MagicMock(spec=Runtime)
    manager = getattr(runtime.get_instance(), "_session_mgr", None)
    if not callable(getattr(manager, "list_sessions", None)):
        if not _warned:
            _warn_once("Streamlit's session list was not found: uploaded checkpoints of ended "
                       "sessions are not deleted (ui/session_uploads.py needs updating)")
        return None
    return {info.session.id for info in manager.list_sessions()}


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(live: set[str]) -> list[Path]:
    """Delete the upload folders of sessions not in `live` and of servers that have exited."""
    removed = []
    mine = server_dir()
    folders = list(mine.iterdir()) if mine.is_dir() else []
    removed += [f for f in folders if f.name not in live and f.name != NO_SESSION]
    if UPLOAD_ROOT.is_dir():
        removed += [d for d in UPLOAD_ROOT.iterdir()
                    if d.name.isdigit() and len(d.name) < 10 and d != mine
                    and not _process_runs(int(d.name))]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def _warn_once(message: str) -> None:
    global _warned
    _warned = True
    _LOGGER.warning(message)


def _sweep_seconds() -> float:
    return float(os.environ.get("LATENT_LAB_SWEEP_SECONDS", DEFAULT_SWEEP_SECONDS))


def _sweep_forever() -> None:
    while True:
        try:
            live = live_session_ids()
            if live is not None:
                sweep(live)
        except Exception:  # e.g. the session list changed meanwhile: try again next time
            _LOGGER.exception("sweeping ended sessions' uploads failed; retrying later")
        time.sleep(_sweep_seconds())


def start_sweeper() -> None:
    """Start the sweeping thread once per process (cheap to call at every run)."""
    global _sweeper
    with _sweeper_lock:
        if _sweeper is None:
            _sweeper = threading.Thread(target=_sweep_forever, name="upload-sweeper",
                                        daemon=True)
            _sweeper.start()
