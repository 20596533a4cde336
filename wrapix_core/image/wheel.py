"""A wheel of the running wrapix, so the image holds the same code as the host.

Built from what is running — a source checkout (editable install) or an installed
distribution — by zipping the package directories with the distribution's metadata.
The bytes are deterministic (sorted entries, fixed timestamps, no ``__pycache__``), so
an unchanged installation gives an unchanged wheel, an unchanged image hash, and no
rebuild.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import wrapix_core

DIST = "wrapix"
PACKAGES = ("wrapix_core", "wrapix_tui")
_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class WheelSource:
    version: str
    requirements: list[str]
    """Requires-Dist lines (the image installs these in a layer of their own)."""
    metadata: str
    entry_points: str
    files: list[tuple[str, Path]]
    """(archive name, file on disk), sorted by archive name."""


def _package_root() -> Path:
    return Path(wrapix_core.__file__).resolve().parent.parent


def _walk(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix in _SKIP_SUFFIXES:
            continue
        if _SKIP_DIRS.intersection(path.relative_to(root).parts):
            continue
        yield f"{prefix}/{path.relative_to(root).as_posix()}", path


def collect() -> WheelSource:
    """What the wheel will hold, from the running installation."""
    dist = importlib.metadata.distribution(DIST)
    root = _package_root()
    files: list[tuple[str, Path]] = []
    for package in PACKAGES:
        files.extend(_walk(root / package, package))
    # A source checkout keeps styles next to the packages; a wheel ships them inside.
    if not (root / "wrapix_tui" / "styles").is_dir() and (root / "styles").is_dir():
        files.extend(_walk(root / "styles", "wrapix_tui/styles"))
    files.sort()
    return WheelSource(
        version=dist.version,
        requirements=list(dist.requires or []),
        metadata=dist.read_text("METADATA") or f"Metadata-Version: 2.1\nName: {DIST}\n",
        entry_points=dist.read_text("entry_points.txt") or "",
        files=files,
    )


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write(archive: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def wheel_name(source: WheelSource) -> str:
    return f"{DIST}-{source.version}-py3-none-any.whl"


def wheel_bytes(source: WheelSource | None = None) -> tuple[str, bytes]:
    """``(file name, bytes)`` of the wheel for ``source`` (default: what is running)."""
    source = source or collect()
    dist_info = f"{DIST}-{source.version}.dist-info"
    wheel_meta = ("Wheel-Version: 1.0\nGenerator: wrapix\nRoot-Is-Purelib: true\n"
                  "Tag: py3-none-any\n")
    record: list[str] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, file in source.files:
            data = file.read_bytes()
            _write(archive, name, data)
            record.append(_record_line(name, data))
        for name, text in ((f"{dist_info}/METADATA", source.metadata),
                           (f"{dist_info}/WHEEL", wheel_meta),
                           (f"{dist_info}/entry_points.txt", source.entry_points)):
            data = text.encode()
            _write(archive, name, data)
            record.append(_record_line(name, data))
        record.append(f"{dist_info}/RECORD,,")
        _write(archive, f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode())
    return wheel_name(source), buffer.getvalue()
