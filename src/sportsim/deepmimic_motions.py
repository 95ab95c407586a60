"""The DeepMimic motion library: ``deepmimic:<name>`` names one of the humanoid3d motion files that
PyBullet ships in ``pybullet_data/data/motions`` (Peng et al. 2018's clips: walk, run, jump, backflip,
cartwheel, spinkick, ...), e.g. ``python -m sportsim.train env=imitation env.motion=deepmimic:backflip``.

The files are read by sportsim's DeepMimic reader (:func:`sportsim.mocap.read_deepmimic`) like any other
capture. They come with the ``pybullet`` extra; without it a name is one line saying what to install.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from sportsim.errors import ConfigError

PREFIX = "deepmimic:"
FILE_PREFIX = "humanoid3d_"
MISSING = 'the DeepMimic motion library comes with pybullet: pip install "sportsim[pybullet]"'


def is_library_name(entry: str | os.PathLike[str]) -> bool:
    return isinstance(entry, str) and entry.startswith(PREFIX)


def motions_dir() -> Path:
    """pybullet_data's humanoid3d motion folder (found without importing pybullet itself)."""
    spec = importlib.util.find_spec("pybullet_data")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(MISSING)
    folder = Path(list(spec.submodule_search_locations)[0]) / "data" / "motions"
    if not folder.is_dir():
        raise ConfigError(f"pybullet_data has no motion folder ({folder}); reinstall: pip install "
                          f'--force-reinstall "sportsim[pybullet]"')
    return folder


def names() -> list[str]:
    """The library's motion names (``walk``, ``backflip``, ...)."""
    return sorted(p.stem[len(FILE_PREFIX):] for p in motions_dir().glob(f"{FILE_PREFIX}*.txt"))


def resolve(entry: str) -> Path:
    """The file of ``deepmimic:<name>``; an unknown name is one line listing the library."""
    name = entry[len(PREFIX):].strip()
    path = motions_dir() / f"{FILE_PREFIX}{name}.txt"
    if not name or not path.is_file():
        raise ConfigError(f"{entry!r}: no such DeepMimic motion (the library has: {', '.join(names())})")
    return path
