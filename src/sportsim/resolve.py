"""What a user's name refers to: one set of rules for every command (train, enjoy, record, replay,
compare, export, mocap).

A *policy* is named as

* ``zoo:<entry>`` - an entry of the zoo manifest (``zoo/manifest.json``), e.g. ``zoo:highbar/giant/ppo``;
* ``<entry>`` or ``zoo/<entry>`` - the same, when no file or folder of that name exists here;
* a run directory (holds ``config.yaml``; ``which`` picks ``final``, ``best`` or ``latest``);
* a model ``.zip`` inside a run directory (``<run>/best/model.zip``, a checkpoint's).

A *capture* (motion file) is named as a path (absolute, or relative to the working directory), else
relative to the folder holding the shipped ``mocap/`` (so ``mocap/cmu_02_01_walk.bvh`` works from any
directory and from an installed package), else inside ``mocap/`` (``cmu_02_01_walk.bvh``).

Zoo entries are the names listed in the manifest, whatever their depth (``halfpipe/ppo``,
``highbar/giant/ppo``, ``imitation/<skill>/<algo>``); nothing here assumes a layout. A zoo entry is
hash-checked against the manifest before use (:func:`sportsim.zoo.verify`), also when it is named by
its folder path (a clone's ``zoo/halfpipe/ppo``). An existing path beats a zoo name.

Outputs made from a policy go to the working directory unless the user chose a place:
:func:`default_output_dir` never points into the zoo or into an installed package.

    from sportsim import resolve
    ref = resolve.policy("zoo:highbar/giant/ppo")      # -> PolicyRef (location, zoo entry, label)
    clip = resolve.capture("mocap/cmu_02_01_walk.bvh")  # -> Path
    thing = resolve.policy_or_capture("imitation/walk/ppo")  # -> PolicyRef | Path

Every failure is one :class:`~sportsim.errors.ConfigError` / :class:`~sportsim.errors.ModelFileError`
line naming what was looked for and where (a capture: :class:`~sportsim.errors.MocapError`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sportsim.errors import ConfigError, ModelFileError

if TYPE_CHECKING:  # runs/zoo import torch and SB3: loaded only when a policy is resolved
    from sportsim.runs import ModelLocation
    from sportsim.zoo import ZooEntry

ZOO_PREFIX = "zoo:"
CONFIG_FILE = "config.yaml"  # = sportsim.runs.CONFIG_FILE (kept light: no torch import for captures)
CAPTURE_SUFFIXES = (".bvh", ".mvnx", ".txt", ".json", ".npz")


@dataclass(frozen=True)
class PolicyRef:
    """A resolved policy: where its weights are, and the zoo entry it came from (None for a run)."""

    spec: str                 # what the user wrote
    location: ModelLocation   # run_dir (config.yaml), model_file, label (final | best | step_<n> | stem)
    entry: ZooEntry | None

    @property
    def is_zoo(self) -> bool:
        return self.entry is not None

    @property
    def label(self) -> str:
        """A file-name stem for outputs: ``<entry with _>`` for zoo entries, ``<run dir>_<weights>`` else."""
        if self.entry is not None:
            return self.entry.name.replace("/", "_")
        return f"{self.location.run_dir.name}_{self.location.label}"

    def describe(self) -> str:
        if self.entry is not None:
            return f"zoo entry {self.entry.name} ({self.location.label} weights, {self.entry.timesteps} steps)"
        return str(self.location.model_file)


# --- zoo names ----------------------------------------------------------------------------------

def zoo_entries() -> list[ZooEntry]:
    from sportsim import zoo  # noqa: PLC0415

    return zoo.load_manifest()


def _zoo_names() -> str:
    return ", ".join(e.name for e in zoo_entries())


def find_zoo_entry(name: str) -> ZooEntry | None:
    """The manifest entry called ``name`` (``halfpipe/ppo``; ``zoo:`` and ``zoo/`` prefixes allowed)."""
    key = name[len(ZOO_PREFIX):] if name.startswith(ZOO_PREFIX) else name
    key = key.strip().strip("/")
    if key.startswith("zoo/"):
        key = key[len("zoo/"):]
    return next((e for e in zoo_entries() if e.name == key), None)


def _zoo_entry_at(path: Path) -> ZooEntry | None:
    """The zoo entry whose folder is ``path`` (a clone's ``zoo/halfpipe/ppo``), else None."""
    resolved = path.resolve()
    return next((e for e in zoo_entries() if e.path.resolve() == resolved), None)


# --- policies -----------------------------------------------------------------------------------

def _zoo_policy(spec: str, entry: ZooEntry, which: str | None) -> PolicyRef:
    from sportsim import runs, zoo  # noqa: PLC0415

    zoo.verify(entry)  # every file against the manifest's SHA-256
    return PolicyRef(spec, runs.locate_model(entry.path, which or entry.model), entry)


def policy(spec: str | os.PathLike[str], which: str | None = None) -> PolicyRef:
    """Resolve a policy name (see the module docstring). ``which`` (final | best | latest) picks the
    weights of a run directory (default final) or a zoo entry (default: the weights the entry offers)."""
    from sportsim import runs  # noqa: PLC0415

    text = os.fspath(spec)
    if not text:
        raise ConfigError("empty policy name; give zoo:<entry>, a run directory or a model .zip")
    if text.startswith(ZOO_PREFIX):
        entry = find_zoo_entry(text)
        if entry is None:
            raise ConfigError(f"{text}: no such zoo entry (the zoo has: {_zoo_names()})")
        return _zoo_policy(text, entry, which)
    path = Path(text).expanduser()
    if path.exists():
        entry = _zoo_entry_at(path) if path.is_dir() else _zoo_entry_at(path.parent.parent)
        if entry is not None and path.is_dir():
            return _zoo_policy(text, entry, which)
        location = runs.locate_model(path, which or "final")
        if entry is not None:  # a model .zip inside a zoo entry: the entry is checked all the same
            from sportsim import zoo  # noqa: PLC0415

            zoo.verify(entry)
        return PolicyRef(text, location, entry)
    entry = find_zoo_entry(text)
    if entry is not None:
        return _zoo_policy(text, entry, which)
    raise ModelFileError(f"{text}: no such run directory, model .zip or zoo entry "
                         f"(looked in {path.resolve()}; the zoo has: {_zoo_names()})")


# --- captures -----------------------------------------------------------------------------------

def capture(spec: str | os.PathLike[str]) -> Path:
    """Resolve a capture file (see the module docstring; the rules are
    :func:`sportsim.mocap.find_capture`'s); a missing one is one MocapError line naming where it looked."""
    from sportsim.mocap import find_capture  # noqa: PLC0415

    return find_capture(spec)


def policy_or_capture(spec: str | os.PathLike[str], which: str | None = None) -> PolicyRef | Path:
    """A capture file (by its suffix, when it exists under the capture rules) or else a policy."""
    from sportsim.errors import MocapError  # noqa: PLC0415

    text = os.fspath(spec)
    is_capture_name = not text.startswith(ZOO_PREFIX) and Path(text).suffix.lower() in CAPTURE_SUFFIXES
    if is_capture_name:
        try:
            return capture(text)
        except MocapError:
            pass
    try:
        return policy(text, which)
    except ModelFileError:
        if is_capture_name:
            return capture(text)  # the capture's own message: where it was looked for
        raise


# --- outputs ------------------------------------------------------------------------------------

def default_output_dir(ref: PolicyRef | None = None) -> Path:
    """Where an output goes unless the user says: a user's run directory keeps its own ``videos/``;
    anything from the zoo (or an installed package) goes to ``./videos`` in the working directory."""
    if ref is not None and ref.entry is None and not _inside_package(ref.location.run_dir):
        return ref.location.run_dir / "videos"
    return Path.cwd() / "videos"


def _inside_package(path: Path) -> bool:
    from sportsim.paths import resource_dir  # noqa: PLC0415

    package = Path(__file__).resolve().parent
    roots = [package]
    try:
        roots.append(resource_dir("zoo").resolve())
    except FileNotFoundError:
        pass
    resolved = path.resolve()
    return any(resolved == r or r in resolved.parents for r in roots)


__all__ = ["PolicyRef", "capture", "default_output_dir", "find_zoo_entry", "policy",
           "policy_or_capture", "zoo_entries"]
