"""Motion-capture readers: BVH, Xsens MVNX, DeepMimic JSON and saved clips, all into one :class:`Clip`.

Conventions of every Clip (converted at the reader boundary): Z up, right-handed, metres, quaternions
w-first (w, x, y, z) with unit norm. Y-up sources (BVH, DeepMimic) are turned by +90 degrees about X:
(x, y, z) -> (x, -z, y). Every reader failure is a :class:`sportsim.errors.MocapError` naming the file
and the line or element at fault.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sportsim.errors import MocapError
from sportsim.mocap.bvh import read_bvh
from sportsim.mocap.clip import Clip
from sportsim.mocap.deepmimic import read_deepmimic
from sportsim.mocap.mvnx import read_mvnx
from sportsim.mocap.skeletons import detect_skeleton, load_mapping

_READERS = {".bvh": read_bvh, ".mvnx": read_mvnx, ".txt": read_deepmimic, ".json": read_deepmimic,
            ".npz": Clip.load_npz}


def find_capture(entry: str | os.PathLike[str]) -> Path:
    """A capture file: ``entry`` as given (absolute, or relative to the working directory), else relative
    to the folder holding the shipped ``mocap/`` (so ``mocap/<clip>`` works from anywhere), else inside
    it. A missing file is a MocapError listing where it was looked for."""
    from sportsim.paths import resource_dir  # noqa: PLC0415 - keeps `import sportsim.mocap` light

    path = Path(entry).expanduser()
    shipped = resource_dir("mocap")
    candidates = [path] if path.is_absolute() else [path, shipped.parent / path, shipped / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise MocapError(f"{str(entry)!r}: no such file (looked in {', '.join(str(c) for c in candidates)})")


def load_clip(path: str | os.PathLike[str], **kwargs: Any) -> Clip:
    """Read any supported motion file, chosen by extension (.bvh, .mvnx, .txt/.json DeepMimic, .npz).

    Keyword arguments go to the reader (e.g. ``units=`` and ``skeletons=`` for BVH).
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise MocapError(f"{path}: unknown motion file type {path.suffix!r}; expected one of "
                         f"{', '.join(sorted(_READERS))}")
    return reader(path, **kwargs)


__all__ = ["Clip", "MocapError", "detect_skeleton", "find_capture", "load_clip", "load_mapping", "read_bvh",
           "read_deepmimic", "read_mvnx"]
