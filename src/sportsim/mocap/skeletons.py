"""Skeleton name maps: which capture skeleton a clip uses, and where sportsim's canonical joints are.

The built-in maps (CMU in two releases, SFU, Bandai Namco, Xsens MVN as BVH and MVNX, DeepMimic
humanoid3d) live in ``skeletons.yaml`` next to this module. A user adds a skeleton without code:
write one entry of that schema to a YAML file, read it with :func:`load_mapping` and pass it as
``extra`` (or to the readers as ``skeletons=``).

Detection: a user map (``extra``) applies when every joint it maps is present; a built-in layout when
the overlap of joint names (Jaccard index: shared names / all names) is at least
:data:`MIN_NAME_OVERLAP` and every joint it maps is present. Anything else is recognised by structure
(:mod:`sportsim.mocap.structure`) by the reader, which stores the result in ``Clip.meta``;
:func:`clip_canonical_indices` reads it back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import yaml

from sportsim.errors import MocapError

# metres per file unit; "cmu" is the CMU ASF unit, (1/0.45) inch (CMU FAQ: x 0.056444 -> m); MakeHuman
# writes decimetres
UNITS_M: Mapping[str, float] = MappingProxyType(
    {"m": 1.0, "dm": 0.1, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.0254 / 0.45}
)
MIN_NAME_OVERLAP = 0.75  # Jaccard index a file's joint names need to count as a known layout
_BUILTIN_FILE = "skeletons.yaml"


@dataclass(frozen=True)
class SkeletonMap:
    """One skeleton layout: its joint names and where the canonical joints are."""

    name: str
    family: str
    joints: tuple[str, ...]
    canonical: Mapping[str, str]  # canonical joint -> joint name in this layout
    bvh_unit: str | None = None

    def overlap(self, joint_names: Iterable[str]) -> float:
        """Jaccard index of this layout's joint names and ``joint_names``."""
        names, own = set(joint_names), set(self.joints)
        return len(names & own) / max(len(names | own), 1)

    def missing(self, joint_names: Iterable[str]) -> list[str]:
        """Canonical joints whose mapped name is absent from ``joint_names``."""
        names = set(joint_names)
        return [c for c, n in self.canonical.items() if n not in names]


def canonical_joints() -> tuple[str, ...]:
    """sportsim's canonical joint set, in order."""
    return _builtin()[0]


def builtin_skeletons() -> tuple[SkeletonMap, ...]:
    return _builtin()[1]


def match_skeleton(joint_names: Sequence[str], extra: Iterable[SkeletonMap] = ()) -> SkeletonMap | None:
    """The layout for ``joint_names``: the first user map (``extra``) whose mapped joints are all present,
    else the built-in layout with the best name overlap (at least :data:`MIN_NAME_OVERLAP`, every mapped
    joint present), else None."""
    names = set(joint_names)
    for skeleton in extra:
        if not skeleton.missing(names):
            return skeleton
    best, best_score = None, 0.0
    for skeleton in builtin_skeletons():
        score = skeleton.overlap(names)
        if score >= MIN_NAME_OVERLAP and not skeleton.missing(names) and score > best_score:
            best, best_score = skeleton, score
    return best


def detect_skeleton(joint_names: Sequence[str], extra: Iterable[SkeletonMap] = (), source: str = "") -> str:
    """Family name of the built-in (or ``extra``) layout using ``joint_names``; MocapError if none fits
    (structural recognition needs the hierarchy: :func:`clip_canonical_indices`)."""
    found = match_skeleton(joint_names, tuple(extra))
    if found is not None:
        return found.family
    raise MocapError(unknown_skeleton_message(joint_names, source))


def canonical_indices(joint_names: Sequence[str], extra: Iterable[SkeletonMap] = (),
                      source: str = "") -> dict[str, int]:
    """Canonical joint -> index into ``joint_names`` for the layout the names match (only joints it maps)."""
    found = match_skeleton(joint_names, tuple(extra))
    if found is None:
        raise MocapError(unknown_skeleton_message(joint_names, source))
    index = {name: i for i, name in enumerate(joint_names)}
    return {c: index[n] for c, n in found.canonical.items()}


def clip_canonical_indices(clip: Any, extra: Iterable[SkeletonMap] = ()) -> dict[str, int]:
    """Canonical joint -> joint index of a :class:`~sportsim.mocap.clip.Clip`: a user map (``extra``)
    first, then the map stored in the clip (``meta["canonical_map"]``: a user map given to ``load_clip``,
    or the one the reader found by structure), then a built-in layout.
    A skeleton that is none of these raises MocapError: one line saying why for a rig that is not a
    humanoid, else the unknown-skeleton message with the mapping template."""
    names = tuple(clip.joint_names)
    index = {name: i for i, name in enumerate(names)}
    extra = tuple(extra)
    found = match_skeleton(names, extra) if extra else None
    if found is not None and found in extra:
        return {c: index[n] for c, n in found.canonical.items()}
    stored = clip.meta.get("canonical_map")  # a user map given to load_clip, or the reader's structural map
    if stored:
        mapping = json.loads(stored)
        if all(n in index for n in mapping.values()):
            return {c: index[n] for c, n in mapping.items()}
    found = match_skeleton(names)
    if found is not None:
        return {c: index[n] for c, n in found.canonical.items()}
    problem = clip.meta.get("skeleton_problem")
    source = clip.source or "clip"
    if problem:
        raise MocapError(f"{source}: {problem}; sportsim retargets humanoids only (a humanoid with other joint "
                         f"names: describe it with `python -m sportsim.mocap map {source} my.yaml` and --mapping)")
    raise MocapError(unknown_skeleton_message(names, source, clip.meta.get("skeleton_unrecognised", "")))


def load_mapping(path: str | os.PathLike[str]) -> SkeletonMap:
    """Read one skeleton entry (the schema of ``skeletons.yaml``) from a YAML file, validated."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MocapError(f"{path}: cannot read skeleton mapping: {exc}") from exc
    return _parse_entry(data, str(path), canonical_joints())


# ---- internals --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _builtin() -> tuple[tuple[str, ...], tuple[SkeletonMap, ...]]:
    text = resources.files("sportsim.mocap").joinpath(_BUILTIN_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    canonical = tuple(data["canonical_joints"])
    skeletons = tuple(_parse_entry(e, f"{_BUILTIN_FILE} entry {i}", canonical)
                      for i, e in enumerate(data["skeletons"]))
    names = [s.name for s in skeletons]
    if len(set(names)) != len(names):
        raise MocapError(f"{_BUILTIN_FILE}: duplicate skeleton names in {names}")
    return canonical, skeletons


def _parse_entry(data: Any, where: str, canonical: Sequence[str]) -> SkeletonMap:
    if not isinstance(data, dict):
        raise MocapError(f"{where}: expected a mapping with keys name, joints, map")
    unknown = sorted(set(data) - {"name", "family", "bvh_unit", "joints", "map"})
    if unknown:
        raise MocapError(f"{where}: unknown keys {unknown}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise MocapError(f"{where}: 'name' must be a non-empty string")
    family = data.get("family", name)
    if not isinstance(family, str) or not family:
        raise MocapError(f"{where}: 'family' must be a non-empty string")
    unit = data.get("bvh_unit")
    if unit is not None and unit not in UNITS_M:
        raise MocapError(f"{where}: 'bvh_unit' must be one of {sorted(UNITS_M)}, got {unit!r}")
    joints = data.get("joints")
    if not isinstance(joints, list) or not joints or not all(isinstance(j, str) and j for j in joints):
        raise MocapError(f"{where}: 'joints' must be a non-empty list of joint names")
    if len(set(joints)) != len(joints):
        raise MocapError(f"{where}: 'joints' lists a name twice")
    mapping = data.get("map")
    if not isinstance(mapping, dict) or not mapping:
        raise MocapError(f"{where}: 'map' must map canonical joints to joint names")
    for key, value in mapping.items():
        if key not in canonical:
            raise MocapError(f"{where}: 'map' key {key!r} is not a canonical joint ({', '.join(canonical)})")
        if value not in joints:
            raise MocapError(f"{where}: 'map' value {value!r} (for {key}) is not in 'joints'")
    if "pelvis" not in mapping:
        raise MocapError(f"{where}: 'map' must at least place 'pelvis'")
    ordered = {c: mapping[c] for c in canonical if c in mapping}
    return SkeletonMap(name, family, tuple(joints), MappingProxyType(ordered), unit)


def unknown_skeleton_message(joint_names: Sequence[str], source: str = "", why: str = "") -> str:
    """The unknown-skeleton error: what was found (and ``why`` the structure was not recognised), the
    command that writes a mapping template, and the template itself as valid multi-line YAML (see
    :func:`mapping_template`)."""
    names = list(joint_names)
    where = source or "<file>"
    return (f"{where}: unknown skeleton ({len(names)} joints: {', '.join(names[:8])}"
            f"{', ...' if len(names) > 8 else ''}): neither a built-in layout nor a humanoid sportsim can "
            f"recognise by structure{f' ({why})' if why else ''}. Write a mapping with "
            f"`python -m sportsim.mocap map {where} my_skeleton.yaml`, fill in the joints it could not place, and "
            "pass `--mapping my_skeleton.yaml` (mapping=... for replay and compare, env.mapping=... for train). "
            "The template:\n"
            f"{mapping_template(names)}")


def mapping_template(joint_names: Sequence[str], guesses: Mapping[str, str] | None = None,
                     unit: str | None = None, source: str = "") -> str:
    """A paste-able mapping YAML for ``joint_names``: every canonical joint with its best guess (from
    ``guesses``), required joints marked and left as ``<joint name>`` where unknown, optional ones
    commented out where unknown; a ``bvh_unit`` line only when ``unit`` is known."""
    from sportsim.mocap.retarget import REQUIRED_CANONICAL  # noqa: PLC0415 - retarget imports this module

    guesses = dict(guesses or {})
    lines = [f"# sportsim skeleton mapping{f' for {source}' if source else ''}: canonical joint -> joint name.",
             "# Use it with --mapping <this file> (or mapping=<this file>). Required joints must be filled in;",
             "# optional ones may stay commented out.",
             "name: my_skeleton"]
    if unit is not None:
        lines.append(f"bvh_unit: {unit}")
    lines.append(f"joints: [{', '.join(json.dumps(n) for n in joint_names)}]")
    lines.append("map:")
    for c in canonical_joints():
        required = c in REQUIRED_CANONICAL
        note = "required" if required else "optional"
        if c in guesses:
            lines.append(f"  {c}: {json.dumps(guesses[c])}  # {note}")
        elif required:
            lines.append(f"  {c}: \"<joint name>\"  # required: fill in")
        else:
            lines.append(f"  # {c}: \"<joint name>\"  # optional")
    return "\n".join(lines)
