"""A folder or .zip of image files, listed and read one file at a time, within fixed bounds.

The path comes from a person (in the app, an upload), so the archive is untrusted: members are
read in memory (never extracted), names that escape the archive are refused, and every size is
capped before anything is read: the zip's central directory (from its end record, before Python
parses it), the number of files, their declared total and each file as it is read.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vae_core.config import shown
from vae_core.data.errors import DatasetError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_FILES = 60_000  # image files in one data set (the whole MNIST training set fits)
MAX_TOTAL_BYTES = 500 * 2**20  # all image files together, uncompressed
# A zip's central directory holds one entry (46 bytes + name) per member; Python parses all of
# it into objects of ~560 bytes each. 8 MB covers 60,000 members with 90-byte names and keeps
# the parse under ~100 MB even for a directory of empty names.
MAX_DIRECTORY_BYTES = 8 * 2**20
_END_RECORD, _ZIP64_LOCATOR = b"PK\x05\x06", b"PK\x06\x07"


@dataclass(frozen=True)
class ImageSource:
    """The image files of one folder or zip: `names` (relative posix paths, sorted) and
    `read(name) -> bytes`. `label` names the source in messages (never a server path)."""

    label: str
    names: list[str]
    read: Callable[[str], bytes]


@contextlib.contextmanager
def open_image_source(path: str, label: str | None = None) -> Iterator[ImageSource]:
    """List the image files under `path` (a folder or a .zip) without reading them."""
    source = Path(path).expanduser()
    label = label or source.name
    if not path or not source.exists():
        raise DatasetError(f"The image path {label} does not exist.")
    if source.is_dir():
        yield _folder_source(source.resolve(), label)
    elif zipfile.is_zipfile(source):
        _check_central_directory(source, label)
        try:
            with zipfile.ZipFile(source) as archive:
                yield _zip_source(archive, label)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError) as error:
            raise DatasetError(f"Cannot read the zip archive {label}: {error}") from error
    else:
        raise DatasetError(f"{label} is neither a folder nor a .zip archive of images.")


def _is_image_name(parts: tuple[str, ...]) -> bool:
    """An image that is not hidden and not macOS zip metadata (__MACOSX/, ._name, .DS_Store)."""
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return False
    return parts[-1].lower().endswith(IMAGE_SUFFIXES)


def _check_listing(label: str, count: int, total: int) -> None:
    if count == 0:
        raise DatasetError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) found in {label}.")
    if count > MAX_FILES:
        raise DatasetError(f"{label} holds more than {MAX_FILES:,} image files; use fewer.")
    if total > MAX_TOTAL_BYTES:
        raise DatasetError(f"The image files add up to more than {MAX_TOTAL_BYTES // 2**20} MB; "
                           "use fewer or smaller images.")


# --- a folder --------------------------------------------------------------------------------


def _folder_source(root: Path, label: str) -> ImageSource:
    sizes: dict[str, int] = {}
    total = 0
    for directory, subdirs, filenames in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".") and d != "__MACOSX"]
        for filename in filenames:
            file = Path(directory, filename)
            relative = file.relative_to(root)
            # A symlink may point anywhere on the machine; read only what is inside the folder.
            if (_is_image_name(relative.parts) and file.is_file()
                    and file.resolve().is_relative_to(root)):
                sizes[relative.as_posix()] = file.stat().st_size
                total += sizes[relative.as_posix()]
                if total > MAX_TOTAL_BYTES or len(sizes) > MAX_FILES:
                    _check_listing(label, len(sizes), total)  # stop walking: it raises
    _check_listing(label, len(sizes), total)

    def read(name: str) -> bytes:
        with open(root / name, "rb") as handle:
            return _bounded(handle.read(sizes[name] + 1), sizes[name], name)

    return ImageSource(label, sorted(sizes), read)


# --- a zip -----------------------------------------------------------------------------------


def _check_central_directory(archive: Path, label: str) -> None:
    """Bound what zipfile will parse, before it parses it: the central directory whose size
    the end record declares (zipfile reads exactly that many bytes, or ZIP64's figure)."""
    with open(archive, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - 22 - 65535))  # the end record, after at most a 64 kB comment
        tail = handle.read()
    at = tail.rfind(_END_RECORD)
    if at < 0 or len(tail) - at < 22:
        return  # zipfile will say it is not a zip
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
    if tail[max(0, at - 20) : at - 16] == _ZIP64_LOCATOR or entries > MAX_FILES \
            or directory_bytes > MAX_DIRECTORY_BYTES:
        raise DatasetError(f"{label} lists more files than a training set of up to "
                           f"{MAX_FILES:,} images needs; use fewer files.")


def _zip_source(archive: zipfile.ZipFile, label: str) -> ImageSource:
    members = archive.infolist()
    for info in members:  # refuse the whole archive before reading any of it
        _check_member_name(info.filename)
    wanted = {_posix(i.filename): i for i in members
              if not i.is_dir() and _is_image_name(PurePosixPath(_posix(i.filename)).parts)}
    _check_listing(label, len(wanted), sum(i.file_size for i in wanted.values()))

    def read(name: str) -> bytes:
        info = wanted[name]
        if info.flag_bits & 0x1:
            raise DatasetError(f"The zip member {shown(name)} is encrypted; "
                               "use an unencrypted zip.")
        with archive.open(info) as member:
            return _bounded(member.read(info.file_size + 1), info.file_size, name)

    return ImageSource(label, sorted(wanted), read)


def _posix(name: str) -> str:
    return name.replace("\\", "/")


def _check_member_name(name: str) -> None:
    posix = _posix(name)
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) or ".." in posix.split("/"):
        raise DatasetError(
            f"The zip member {shown(name)} has an absolute path or '..' that points outside the "
            "archive; refusing this zip. Re-create it from the folder of images."
        )


def _bounded(data: bytes, declared: int, name: str) -> bytes:
    if len(data) > declared:
        raise DatasetError(f"The file {shown(name)} is larger than its listing says.")
    return data
