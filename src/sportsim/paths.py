"""One place that resolves the project's data folders (envs/, configs/, zoo/, mocap/).

A plain ``pip install`` ships them inside the package as ``sportsim/_resources/<name>``; an editable
install or a source checkout reads them from the repository root. Nothing else in sportsim walks
``../..`` to find files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCE_NAMES = ("envs", "configs", "zoo", "mocap")


@lru_cache(maxsize=None)
def resource_dir(name: str) -> Path:
    """Return the folder holding the ``name`` resources (one of :data:`RESOURCE_NAMES`)."""
    if name not in RESOURCE_NAMES:
        raise ValueError(f"unknown resource folder {name!r}; expected one of {RESOURCE_NAMES}")
    installed = _PACKAGE_DIR / "_resources" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent.parent / name  # src/sportsim -> repository root
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"sportsim data folder '{name}' not found (looked in {installed} and {checkout}); "
        "reinstall sportsim with `pip install .`"
    )


def model_path(filename: str) -> Path:
    """Path of a physical model file under ``envs/`` (e.g. ``halfpipe.xml``)."""
    path = resource_dir("envs") / filename
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    return path


def config_dir() -> Path:
    return resource_dir("configs")


def zoo_dir() -> Path:
    return resource_dir("zoo")
