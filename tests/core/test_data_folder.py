"""The user's own images from a folder or zip, including hostile and broken archives."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_core.config import DataConfig
from vae_core.data import DatasetError, image_source, load_dataset


def _image_bytes(seed: int, fmt: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _config(path: Path, **kwargs: object) -> DataConfig:
    return DataConfig(name="images", path=str(path), image_size=16, **kwargs)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_subfolders_become_labels(tmp_path: Path) -> None:
    for i in range(6):
        _write(tmp_path / "dogs" / f"d{i}.png", _image_bytes(i))
        _write(tmp_path / "cats" / f"c{i}.jpg", _image_bytes(10 + i, "JPEG"))
    _write(tmp_path / ".hidden" / "x.png", _image_bytes(99))
    _write(tmp_path / "cats" / ".DS_Store", b"junk")
    _write(tmp_path / "notes.txt", b"not an image")
    data = load_dataset(_config(tmp_path, test_fraction=0.25))
    assert data.name == "images" and data.label_names == ("cats", "dogs")
    assert data.image_shape == (1, 16, 16)
    assert (len(data.train_x), len(data.test_x)) == (9, 3)
    labels = torch.cat([data.train_y, data.test_y])
    assert torch.bincount(labels).tolist() == [6, 6]
    assert data.train_x.dtype == torch.float32
    assert data.train_x.min() >= 0 and data.train_x.max() <= 1


def test_flat_zip_has_no_labels(tmp_path: Path) -> None:
    members = {f"img{i}.png": _image_bytes(i) for i in range(12)}
    members["__MACOSX/._img0.png"] = b"resource fork"
    archive = _zip(tmp_path / "flat.zip", members)
    data = load_dataset(_config(archive))
    assert data.label_names == ()
    assert len(data.train_x) + len(data.test_x) == 12
    assert (torch.cat([data.train_y, data.test_y]) == -1).all()


def test_zip_of_a_wrapping_folder_uses_the_class_folders(tmp_path: Path) -> None:
    members = {f"mydata/{cls}/{i}.png": _image_bytes(i) for cls in ("a", "b") for i in range(5)}
    data = load_dataset(_config(_zip(tmp_path / "wrapped.zip", members)))
    assert data.label_names == ("a", "b")


def test_rgb_keeps_colour_and_centre_crops(tmp_path: Path) -> None:
    red = Image.new("RGB", (60, 20), (0, 0, 255))
    red.paste((255, 0, 0), (20, 0, 40, 20))  # only the centre square is red
    buffer = io.BytesIO()
    red.save(buffer, format="PNG")
    for i in range(10):
        _write(tmp_path / f"{i}.png", buffer.getvalue())
    data = load_dataset(_config(tmp_path, grayscale=False))
    assert data.image_shape == (3, 16, 16)
    assert data.train_x[:, 0].min() > 0.9 and data.train_x[:, 2].max() < 0.1


def test_n_samples_caps_the_images(tmp_path: Path) -> None:
    for i in range(30):
        _write(tmp_path / f"{i}.png", _image_bytes(i))
    data = load_dataset(_config(tmp_path, n_samples=10))
    assert len(data.train_x) + len(data.test_x) == 10


@pytest.mark.parametrize("evil", ["../evil.png", "a/../../evil.png", "/abs/evil.png"])
def test_zip_with_path_escape_is_refused(tmp_path: Path, evil: str) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    members = {f"ok{i}.png": _image_bytes(i) for i in range(12)}
    members[evil] = _image_bytes(99)
    archive = _zip(inside / "evil.zip", members)
    with pytest.raises(DatasetError, match="outside the archive") as caught:
        load_dataset(_config(archive))
    assert evil in str(caught.value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.zip", "inside"]
    assert not (Path.cwd() / "evil.png").exists()


def test_not_a_zip(tmp_path: Path) -> None:
    fake = tmp_path / "data.zip"
    fake.write_text("this is not a zip archive")
    with pytest.raises(DatasetError, match=r"neither a folder nor a \.zip"):
        load_dataset(_config(fake))


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(_config(tmp_path / "nope"))


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(DatasetError, match="No image files"):
        load_dataset(_config(tmp_path))


def test_too_few_images(tmp_path: Path) -> None:
    for i in range(5):
        _write(tmp_path / f"{i}.png", _image_bytes(i))
    with pytest.raises(DatasetError, match="only 5 usable images"):
        load_dataset(_config(tmp_path))


def test_corrupt_image_is_skipped_with_a_warning(tmp_path: Path) -> None:
    for i in range(10):
        _write(tmp_path / f"{i}.png", _image_bytes(i))
    _write(tmp_path / "broken.png", _image_bytes(50)[:100])  # truncated PNG
    _write(tmp_path / "fake.jpg", b"not really a jpeg")
    data = load_dataset(_config(tmp_path))
    (note,) = data.notes
    assert note.startswith("Skipped 2 of 12 image files that could not be read")
    assert "'broken.png'" in note and "'fake.jpg'" in note
    assert len(data.train_x) + len(data.test_x) == 10


def test_only_corrupt_images_is_an_error(tmp_path: Path) -> None:
    for i in range(3):
        _write(tmp_path / f"bad{i}.png", b"garbage")
    with pytest.raises(DatasetError, match=r"Most files could not be read\. Skipped 3 of 3"):
        load_dataset(_config(tmp_path))


def test_a_set_where_most_files_are_unreadable_is_refused(tmp_path: Path) -> None:
    for i in range(10):
        _write(tmp_path / f"{i}.png", _image_bytes(i))
    for i in range(11):
        _write(tmp_path / f"bad{i}.png", b"garbage")
    with pytest.raises(DatasetError, match=r"Most files could not be read\. Skipped 11 of 21"):
        load_dataset(_config(tmp_path))


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 9000, 9000, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0"))
    members = {f"ok{i}.png": _image_bytes(i) for i in range(12)}
    members["bomb.png"] = bomb + chunk(b"IEND", b"")
    with pytest.raises(DatasetError, match=r"bomb\.png"):
        load_dataset(_config(_zip(tmp_path / "bomb.zip", members)))


def test_total_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_source, "MAX_TOTAL_BYTES", 1000)
    members = {f"ok{i}.png": _image_bytes(i) for i in range(12)}
    with pytest.raises(DatasetError, match="add up to more than"):
        load_dataset(_config(_zip(tmp_path / "big.zip", members)))
    for i in range(12):
        _write(tmp_path / "dir" / f"{i}.png", _image_bytes(i))
    with pytest.raises(DatasetError, match="add up to more than"):
        load_dataset(_config(tmp_path / "dir"))


def test_a_zip_listing_too_many_files_is_refused_before_python_parses_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """zipfile turns each central-directory entry into a ~560-byte object: a 200 MB upload of
    empty members would take GBs. The end record's figures are checked first."""
    archive = _zip(tmp_path / "many.zip", {f"{i}.png": b"" for i in range(30)})

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile parsed the central directory")
    monkeypatch.setattr(image_source, "MAX_FILES", 20)
    monkeypatch.setattr(image_source.zipfile, "ZipFile", no_parse)
    with pytest.raises(DatasetError, match="lists more files than a training set"):
        load_dataset(_config(archive))
    monkeypatch.setattr(image_source, "MAX_FILES", 1000)
    monkeypatch.setattr(image_source, "MAX_DIRECTORY_BYTES", 100)
    with pytest.raises(DatasetError, match="lists more files than a training set"):
        load_dataset(_config(archive))


def test_a_folder_over_the_file_count_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_source, "MAX_FILES", 5)
    for i in range(8):
        _write(tmp_path / f"{i}.png", _image_bytes(i))
    with pytest.raises(DatasetError, match="more than 5 image files"):
        load_dataset(_config(tmp_path))


def test_images_in_formats_the_app_does_not_offer_are_skipped_by_content(tmp_path: Path) -> None:
    for i in range(10):
        _write(tmp_path / f"{i}.png", _image_bytes(i))
    _write(tmp_path / "scan.png", _image_bytes(0, fmt="TIFF"))  # a TIFF whatever its name
    data = load_dataset(_config(tmp_path))
    assert data.notes[0].startswith("Skipped 1 of 11 image files that could not be read: "
                                    "'scan.png'")
    assert len(data.train_x) + len(data.test_x) == 10


def test_corrupt_compressed_data_in_a_zip_is_a_dataset_error(tmp_path: Path) -> None:
    members = {f"{i}.png": b"\0" * 5000 for i in range(12)}  # compressible: real deflate
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    damaged = bytearray(buffer.getvalue())
    damaged[40:50] = b"\xff" * 10  # inside the first member's deflate stream: zlib.error
    (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
    with pytest.raises(DatasetError, match=r"Cannot read the zip archive damaged\.zip"):
        load_dataset(_config(tmp_path / "damaged.zip"))
