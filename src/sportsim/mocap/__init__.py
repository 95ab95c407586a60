"""Motion-capture readers: BVH, Xsens MVNX, DeepMimic JSON and saved clips, all into one :class:`Clip`.

Conventions of every Clip (converted at the reader boundary): Z up, right-handed, metres, quaternions
w-first (w, x, y, z) with unit norm. Y-up sources (BVH, DeepMimic) are turned by +90 degrees about X:
(x, y, z) -> (x, -z, y). Every reader failure is a :class:`sportsim.errors.MocapError` naming the file
and the line or element at fault.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from sportsim.errors import MocapError
from sportsim.mocap.bvh import read_bvh
from sportsim.mocap.clip import Clip
from sportsim.mocap.deepmimic import read_deepmimic
from sportsim.mocap.mvnx import read_mvnx
from sportsim.mocap.skeletons import SkeletonMap, detect_skeleton, load_mapping

_READERS = {".bvh": read_bvh, ".mvnx": read_mvnx, ".txt": read_deepmimic, ".json": read_deepmimic,
            ".npz": Clip.load_npz}
_VIDEO = (".mp4", ".mov", ".avi", ".m4v", ".mkv", ".webm")  # and image folders: sportsim.pose (video extra)


def _read_video(path: Path, **kwargs: Any) -> Clip:
    from sportsim.pose import read_video_clip  # noqa: PLC0415 - the optional video extra, imported on use

    return read_video_clip(path, **kwargs)


def find_capture(entry: str | os.PathLike[str]) -> Path:
    """A capture file: ``entry`` as given (absolute, or relative to the working directory), else relative
    to the folder holding the shipped ``mocap/`` (so ``mocap/<clip>`` works from anywhere), else inside
    it. A missing file is a MocapError listing where it was looked for."""
    from sportsim.paths import resource_dir  # noqa: PLC0415 - keeps `import sportsim.mocap` light

    path = Path(entry).expanduser()
    shipped = resource_dir("mocap")
    candidates = [path] if path.is_absolute() else [path, shipped.parent / path, shipped / path]
    for candidate in candidates:
        if candidate.is_file() or (candidate.is_dir() and _is_image_folder(candidate)):
            return candidate
    raise MocapError(f"{str(entry)!r}: no such file (looked in {', '.join(str(c) for c in candidates)})")


def _is_image_folder(path: Path) -> bool:
    from sportsim.pose.reader import IMAGE_SUFFIXES  # noqa: PLC0415

    return any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir())


def load_clip(path: str | os.PathLike[str], mapping: SkeletonMap | str | os.PathLike[str] | None = None,
              mirror: bool = False, **kwargs: Any) -> Clip:
    """Read any supported motion file, chosen by extension (.bvh, .mvnx, .txt/.json DeepMimic, .npz), or a
    video (.mp4/.mov/.avi/...) or image folder through :mod:`sportsim.pose` (the video extra).

    ``mapping``: a user skeleton map (a :class:`SkeletonMap` or the path of its YAML) for a skeleton
    sportsim neither knows nor recognises by structure; it is stored in the clip, so retargeting uses
    it wherever the clip goes (the BVH reader also takes its ``bvh_unit``). Other keyword arguments go
    to the reader (e.g. ``units=``, ``up=`` and ``skeletons=`` for BVH, ``person=`` for video).
    ``mirror``: un-mirror a mirrored recording (:func:`mirror_clip`; ``--mirror``).
    """
    path = Path(path)
    reader = _read_video if path.suffix.lower() in _VIDEO or path.is_dir() else _READERS.get(path.suffix.lower())
    if reader is None:
        raise MocapError(f"{path}: unknown motion file type {path.suffix!r}; expected one of "
                         f"{', '.join(sorted(_READERS))}, a video ({', '.join(_VIDEO)}) or a folder of images")
    if mapping is not None and not isinstance(mapping, SkeletonMap):
        mapping = load_mapping(mapping)
    if mapping is not None and reader is read_bvh:
        kwargs["skeletons"] = [mapping, *kwargs.get("skeletons", ())]
    clip = reader(path, **kwargs)
    clip = clip if mapping is None else apply_mapping(clip, mapping)
    return mirror_clip(clip) if mirror else clip


def mirror_clip(clip: Clip) -> Clip:
    """``clip`` reflected across the vertical plane of its body's mean facing: every position's component
    along the mean hip line (left minus right hip) negated, rotations reflected (``S R S``), names and so
    left/right labels kept. A recording whose "Left" joints sit on the body's right (a camera's mirror
    mode: both knees then bend backwards against the pelvis, which validation reports as a rest-pose
    error) becomes a body whose left is its left; ``meta["mirrored"]`` says so."""
    from sportsim.mocap.skeletons import clip_canonical_indices  # noqa: PLC0415

    idx = clip_canonical_indices(clip)
    pos = clip.world_positions()
    lateral = np.abs(np.mean(pos[:, idx["l_hip"]] - pos[:, idx["r_hip"]], axis=0))
    lateral[2] = -1.0  # a horizontal axis
    axis = int(np.argmax(lateral))
    sign = np.ones(3)
    sign[axis] = -1.0
    rotations = np.array(clip.rotations)
    rotations[..., 1:] *= -sign  # a rotation's axis is a pseudo-vector: it reflects as -S v
    recorded = None if clip.recorded_positions_m is None else clip.recorded_positions_m * sign
    meta = {**clip.meta, "mirrored": f"un-mirrored ({'xyz'[axis]} negated, names kept)"}
    return dataclasses.replace(clip, offsets_m=clip.offsets_m * sign, root_pos_m=clip.root_pos_m * sign,
                               rotations=rotations, end_site_offsets_m=clip.end_site_offsets_m * sign,
                               recorded_positions_m=recorded, meta=meta)


def apply_mapping(clip: Clip, mapping: SkeletonMap) -> Clip:
    """``clip`` with ``mapping`` as its skeleton map (``meta["canonical_map"]``); MocapError naming the
    joints it maps that the clip lacks."""
    missing = mapping.missing(clip.joint_names)
    if missing:
        raise MocapError(f"{clip.source}: mapping {mapping.name!r} places " + ", ".join(
            f"{c} on {mapping.canonical[c]!r}" for c in missing) + ", joints this file does not have")
    meta = {**clip.meta, "canonical_map": json.dumps(dict(mapping.canonical)), "skeleton_layout": mapping.name}
    meta.pop("skeleton_problem", None)
    return dataclasses.replace(clip, skeleton=mapping.family, meta=meta)


__all__ = ["Clip", "MocapError", "SkeletonMap", "apply_mapping", "detect_skeleton", "find_capture", "load_clip",
           "load_mapping", "mirror_clip", "read_bvh", "read_deepmimic", "read_mvnx"]
