"""Fuzzed training zips through both of their checks: the listing the app does on upload
(save_uploaded_dataset -> check_images) and the decode the trainer does (load_image_folder).
Names of any depth and text, any count, empty, damaged or foreign files, nested zips, and
archives cut short.

Property: the zip is used, or a DatasetError reads plainly (tests/plain_messages.py) and, on
upload, names the person's zip."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.plain_messages import assert_plain
from vae_core.config import DataConfig
from vae_core.data import DatasetError
from vae_core.data.folder import load_image_folder
from vae_core.run_uploads import save_uploaded_dataset

pytestmark = [pytest.mark.fuzz, pytest.mark.filterwarnings("ignore:Duplicate name")]
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ZIP_NAME = "my digits.zip"

# No capitals, b, x or /: text the messages may quote can't pass for a repr, class or path.
WORD = st.text(alphabet="acdefghijklmnopqrstuvwyz0123456789 _-.é€😀\\", min_size=1, max_size=12)
PART = WORD | st.sampled_from(["..", ".", "__MACOSX", ".hidden", "ü", "c:"])
SUFFIX = st.sampled_from([".png", ".PNG", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".txt",
                          ".zip", ""])
NAMES = st.builds(lambda parts, suffix, lead: lead + "/".join(parts) + suffix,
                  st.lists(PART, min_size=1, max_size=4), SUFFIX, st.sampled_from(["", "/"]))
# Class folders of PNGs: most zips a person makes.
CLEAN_NAMES = st.builds(lambda parts, stem: "/".join((*parts, f"{stem}.png")),
                        st.lists(st.sampled_from(["digits", "0", "1", "seven"]), max_size=2),
                        WORD.filter(lambda word: not word.startswith(".")))


def _png(size: tuple[int, int], mode: str, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


IMAGE = st.builds(_png, st.tuples(st.integers(1, 40), st.integers(1, 40)),
                  st.sampled_from(["L", "RGB", "RGBA", "P", "1", "I;16"]), st.integers(0, 99))
CONTENT = IMAGE | IMAGE.map(lambda data: data[: len(data) // 2]) | st.binary(max_size=64)


@st.composite
def archives(draw) -> tuple[bytes, list[str]]:
    """A zip (sometimes cut short or holding a zip) and its members' names."""
    if draw(st.booleans()):
        entries = draw(st.lists(st.tuples(CLEAN_NAMES, IMAGE), min_size=8, max_size=30))
    else:
        entries = draw(st.lists(st.tuples(NAMES, CONTENT), max_size=30))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
            archive.writestr(name, content, compress_type=method)
        if draw(st.booleans()):
            archive.mkdir(draw(PART))
    data = buffer.getvalue()
    if draw(st.integers(0, 9)) == 0:  # cut short, anywhere
        data = data[: draw(st.integers(0, len(data)))]
    return data, [name for name, _ in entries]


@FUZZ
@given(archive=archives())
def test_any_uploaded_zip_is_kept_or_refused_plainly(tmp_path, archive):
    data, names = archive
    try:
        save_uploaded_dataset(data, ZIP_NAME, tmp_path)
    except DatasetError as error:
        assert_plain(str(error), names=(ZIP_NAME,), echoed=tuple(names))
        assert str(tmp_path) not in str(error)


@FUZZ
@given(archive=archives())
def test_any_zip_trains_or_is_refused_plainly(tmp_path, archive):
    data, names = archive
    path = tmp_path / ZIP_NAME
    path.write_bytes(data)
    try:
        load_image_folder(DataConfig(name="images", path=str(path), image_size=8))
    except DatasetError as error:
        assert_plain(str(error), echoed=(*names, ZIP_NAME))
        assert str(tmp_path) not in str(error)
