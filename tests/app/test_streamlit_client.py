"""tools/streamlit_client.py against the served app: Streamlit's websocket protocol, no browser."""

from __future__ import annotations

import pytest

from tools.browser import serve_app
from tools.streamlit_client import StreamlitSession, run_sync
from vae_core.decoder_export import read_envelope

SLIDERS = "explore_sliders_"


@pytest.fixture(scope="module")
def app_url(tiny_assets, tmp_path_factory):
    with serve_app(tmp_path_factory.mktemp("client-runs"), assets=tiny_assets) as app:
        yield app.url


def _control(session: StreamlitSession) -> dict:
    return read_envelope(session.widget(SLIDERS).element.bidi_component.bytes)[0]


async def _explore_then_sampling(url: str) -> dict:
    session = await StreamlitSession.open(url)
    try:
        sliders = session.widget(SLIDERS)
        control = _control(session)
        z = [0.5] + [0.0] * (len(control["labels"]) - 1)
        moved = await session.set_component_state(
            SLIDERS, "moved", {"values": z, "seq": 1, "revision": control["revision"]})
        after_move = _control(session)["values"]
        explore_hash = session.page_hash
        sampling = await session.switch_page("Sampling")
        return {"first": session.first, "fragment": sliders.fragment_id, "moved": moved,
                "sent": z, "after_move": after_move, "labels": control["labels"],
                "sampling": sampling, "explore_hash": explore_hash,
                "page_hash": session.page_hash, "pages": session.pages}
    finally:
        await session.close()


def test_a_session_opens_explore_moves_a_slider_and_changes_page(app_url):
    seen = run_sync(_explore_then_sampling(app_url), 120)
    assert seen["first"].status == "FINISHED_SUCCESSFULLY", seen["first"]
    assert not seen["first"].errors
    assert len(seen["labels"]) == 4  # tools/tiny_models.py: the tiny mnist32's latent size
    assert seen["fragment"], "the sliders are drawn in Explore's fragment"
    # The move reran only the fragment, and Python took the sent z: the sliders come back with it
    assert seen["moved"].status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY", seen["moved"]
    assert seen["after_move"] == seen["sent"]
    assert seen["moved"].images > 0 and seen["moved"].seconds > 0
    assert seen["sampling"].status == "FINISHED_SUCCESSFULLY"
    assert seen["page_hash"] == seen["pages"]["Sampling"][0] != seen["explore_hash"]
