"""Skeleton name maps: which capture skeleton a clip uses, and where sportsim's canonical joints are.

The built-in maps (CMU in two releases, SFU, Bandai Namco, Xsens MVN as BVH and MVNX, DeepMimic
humanoid3d) live in ``skeletons.yaml`` next to this module. A user adds a skeleton without code:
write one entry of that schema to a YAML file, read it with :func:`load_mapping` and pass it as
``extra`` (or to the readers as ``skeletons=``).

Detection scores each layout by the overlap of joint names (Jaccard index: shared names / all names)
and only accepts a layout whose mapped joints are all present.
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

# metres per file unit; "cmu" is the CMU ASF unit, (1/0.45) inch (CMU FAQ: x 0.056444 -> m)
UNITS_M: Mapping[str, float] = MappingProxyType(
    {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.0254 / 0.45}
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
    """The best layout for ``joint_names``, or None if no layout fits well enough."""
    best, best_score = None, 0.0
    for skeleton in (*extra, *builtin_skeletons()):
        score = skeleton.overlap(joint_names)
        if score >= MIN_NAME_OVERLAP and not skeleton.missing(joint_names) and score > best_score:
            best, best_score = skeleton, score
    return best


def detect_skeleton(joint_names: Sequence[str], extra: Iterable[SkeletonMap] = (), source: str = "") -> str:
    """Family name of the skeleton using ``joint_names``; MocapError with a mapping example if unknown."""
    extra = tuple(extra)
    found = match_skeleton(joint_names, extra)
    if found is not None:
        return found.family
    raise MocapError(_unknown_message(joint_names, extra, source))


def canonical_indices(joint_names: Sequence[str], extra: Iterable[SkeletonMap] = (),
                      source: str = "") -> dict[str, int]:
    """Canonical joint -> index into ``joint_names`` for the detected layout (only joints it maps)."""
    extra = tuple(extra)
    found = match_skeleton(joint_names, extra)
    if found is None:
        raise MocapError(_unknown_message(joint_names, extra, source))
    index = {name: i for i, name in enumerate(joint_names)}
    return {c: index[n] for c, n in found.canonical.items()}


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


def _unknown_message(joint_names: Sequence[str], extra: Sequence[SkeletonMap], source: str) -> str:
    names = list(joint_names)
    closest = max((*extra, *builtin_skeletons()), key=lambda s: (len(s.canonical) - len(s.missing(names)),
                                                                   s.overlap(names)))
    missing = closest.missing(names)
    missing_text = ", ".join(f"{c} ({closest.canonical[c]})" for c in missing) or "none"
    found = {c: n for c, n in closest.canonical.items() if c not in missing}
    example = "\n".join(  # JSON strings are valid YAML scalars, whatever characters the names hold
        ["name: my_skeleton", "bvh_unit: cm", f"joints: [{', '.join(json.dumps(n) for n in names)}]", "map:"]
        + [f"  {c}: {json.dumps(found[c]) if c in found else '<joint name>'}" for c in canonical_joints()]
    )
    where = f"{source}: " if source else ""
    return (f"{where}unknown skeleton ({len(names)} joints: {', '.join(names[:8])}"
            f"{', ...' if len(names) > 8 else ''}). Closest built-in layout '{closest.name}' "
            f"(name overlap {closest.overlap(names):.2f}) cannot map these canonical joints: {missing_text}. "
            "Describe the skeleton in a YAML file, read it with sportsim.mocap.skeletons.load_mapping() "
            "and pass it to the readers as skeletons=[...] (to detect_skeleton as extra=[...]); for example "
            f"(replace each <joint name> or drop that line):\n{example}")
