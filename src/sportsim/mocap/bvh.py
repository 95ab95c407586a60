"""BVH reader: the syntax (:mod:`sportsim.mocap.bvh_syntax`) turned into a :class:`Clip` - skeleton, units, up axis.

Semantics (the ones bvhio, Blender and most exporters share):
- Rotation channels are Euler angles in degrees, composed intrinsically in the order listed, so
  ``CHANNELS 3 Zrotation Xrotation Yrotation`` means ``R = Rz @ Rx @ Ry``. Any order of 0-3 axes works.
- Position channels replace the joint's OFFSET (a channel that is absent keeps the OFFSET value).
  Only the root may translate over time; constant translation channels on other joints (Bandai
  Namco writes 6 channels on every joint) become that joint's offset. Channels that only jitter (a
  3ds-Max-like export whose bones stretch by millimetres: rms deviation within 10 % of the bone's
  length, or 5 mm) are held at their mean over the clip - not at the OFFSET, which the channels
  replace and which may differ from them - and ``meta["bone_jitter"]`` says so (the validation
  warns); a joint that moves more is refused. The fixed mean is what a :class:`Clip` can store and
  all the retargeting needs (it follows bone directions; the lengths only set the stature).
  A static root whose only child
  carries the motion (Bandai's ``joint_Root`` above ``Hips``) is folded into that child, which then
  becomes the clip's root (recorded in ``meta["folded_root"]``).
- Skeleton: a built-in layout or a user map (``skeletons=``) by joint names, else the humanoid found by
  structure (:mod:`sportsim.mocap.structure`), kept in ``meta["canonical_map"]``; where no joint name
  carries a side (``joint_0`` .. ``joint_22``) left and right come from the knees' bend in the motion
  (:func:`sportsim.mocap.structure.unsided_sides`, said in ``meta["sides"]``) or the skeleton is unknown. Why the structure was
  not found goes to ``meta["skeleton_unrecognised"]`` (the unknown-skeleton error quotes it); a
  humanoid-named rig that is no humanoid (a quadruped) to ``meta["skeleton_problem"]`` (retargeting
  then refuses it in one line).
- Up axis: BVH says Y up, but exporters write Z up (MakeHuman, Blender scenes) or anything else. With
  ``up="auto"`` the axis the body stands along in the motion (:func:`sportsim.mocap.axes.detect_up_axis`;
  the rest pose where the motion is unclear, Y where both are) is taken as up; a signed axis ("+Z")
  overrides it. Every vector goes through the rotation ``C`` taking that axis to +Z (for Y up the
  +90 degree turn about X, ``(x, y, z) -> (x, -z, y)``) and every joint rotation is conjugated by it
  (``C q C^-1``), so world positions are exactly the file's positions rotated by ``C``.
- Units: ``units="auto"`` uses the built-in layout's unit (CMU: CMU units x 0.056444; SFU: inches;
  Bandai Namco and Xsens: cm) and otherwise the unit among m/dm/cm/mm/inch/CMU that makes the legs
  (thigh + shank) closest to a typical adult's, or for a skeleton without recognised legs the one
  that gives a rest-pose extent closest to 1.7 m. A unit name or a float (metres per file unit)
  overrides it. ``meta`` records the unit and the up axis and why.
- Frames: exactly the announced ``Frames:`` rows are read; rows after them are ignored and counted in
  ``meta["extra_rows"]`` (the validation warns), missing rows are an error. ``Frame Time`` must lie
  in [:data:`~sportsim.mocap.bvh_syntax.MIN_FRAME_TIME_S`,
  :data:`~sportsim.mocap.bvh_syntax.MAX_FRAME_TIME_S`].
- Memory: the file is streamed line by line (:mod:`sportsim.mocap.bvh_syntax`; lines longer than 4 MiB
  are refused), so a garbage file fails at its first bad line without being read whole.

Every failure is a :class:`MocapError` naming the file and, where it applies, the line.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import BinaryIO, Iterable

import numpy as np

from sportsim.errors import MocapError
from sportsim.mocap import axes, quat
from sportsim.mocap.bvh_syntax import CHANNELS, Hierarchy, Joint, LineReader, Tokens, parse_hierarchy, \
    parse_motion_header, parse_rows
from sportsim.mocap.clip import Clip, nominal_fps
from sportsim.mocap.skeletons import UNITS_M, SkeletonMap, match_skeleton
from sportsim.mocap.structure import recognise, unsided_sides

Y_UP_TO_Z_UP = axes.to_z_up("+Y")  # (x, y, z) -> (x, -z, y)
TRANSLATION_TOL_M = 1e-4  # translation channels varying less than this count as constant
BONE_JITTER_SHARE = 0.10  # a non-root joint whose translation's rms deviation is within this share of its bone
BONE_JITTER_FLOOR_M = 0.005  # length (or this, for a very short bone) only jitters: held at its mean, warned
STATIC_ROOT_TOL = 1e-9  # a root whose quaternions and positions (m) vary less than this is static
HUMAN_EXTENT_M = 1.7  # typical rest-pose extent (height or arm span) for unit guessing without legs
PLAUSIBLE_EXTENT_M = (0.5, 3.0)
MOTION_AXIS_DEG = 30.0  # the motion's body direction this close to an axis decides the up axis ...
REST_AXIS_DEG = 10.0  # ... else a rest pose standing this close to one
UNSCALED_UNIT_NOTE = "unknown:"  # meta["unit"] starts with this when the size was scaled to a typical adult
_AUTO_UNITS = ("m", "cm", "mm", "inch")


def read_bvh(path: str | os.PathLike[str], units: str | float = "auto",
             skeletons: Iterable[SkeletonMap] = (), up: str = "auto") -> Clip:
    """Read a BVH file into a :class:`Clip` (Z-up, metres). See the module docstring for semantics.
    ``up``: "auto" or the file's signed up axis ("+Y", "+Z", "-X", ...)."""
    path = Path(path)
    if up != "auto" and up not in axes.AXES:
        raise MocapError(f"{path}: up must be 'auto' or one of {', '.join(axes.AXES)}, got {up!r}")
    try:
        with open(path, "rb") as handle:
            return _read(path, handle, units, tuple(skeletons), up)
    except MocapError:
        raise
    except OSError as exc:
        raise MocapError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # a reader reports every failure as MocapError, never a raw exception
        raise MocapError(f"{path}: cannot read BVH: {type(exc).__name__}: {exc}") from exc


def _read(path: Path, handle: BinaryIO, units: str | float, skeletons: tuple[SkeletonMap, ...], up: str) -> Clip:
    lines = LineReader(handle, path)
    tokens = Tokens(lines, path)
    hierarchy = parse_hierarchy(tokens)
    n_frames, frames_line, frame_time_s = parse_motion_header(tokens)
    tokens.end_of_header()
    values, extra = parse_rows(lines, n_frames, frames_line, hierarchy.n_channels, path)

    with np.errstate(over="ignore", invalid="ignore"):  # absurd offsets (1e308) give inf lengths, not warnings
        clip = _clip(path, hierarchy, values, frame_time_s, extra, units, skeletons, up)
    if lines.latin1_lines:
        shown = ", ".join(map(str, lines.latin1_lines[:5])) + (", ..." if len(lines.latin1_lines) > 5 else "")
        clip = dataclasses.replace(clip, meta={**clip.meta, "text_encoding":
                                               f"Latin-1: line(s) {shown} are not UTF-8 (a Windows code page?)"})
    return clip


def _clip(path: Path, hierarchy: Hierarchy, values: np.ndarray, frame_time_s: float, extra: str,
          units: str | float, skeletons: tuple[SkeletonMap, ...], up: str) -> Clip:
    names = [j.name for j in hierarchy.joints]
    layout = match_skeleton(names, skeletons)
    recognition = None
    if layout is not None:
        canonical = dict(layout.canonical)
    else:
        recognition = recognise(names, [j.parent for j in hierarchy.joints],
                                np.array([j.offset for j in hierarchy.joints]), hierarchy.end_sites)
        canonical = {c: names[i] for c, i in recognition.canonical.items()}
    scale, unit_name = _resolve_units(units, layout, hierarchy, canonical, path)
    parts = _assemble(hierarchy, values, scale, path)
    meta: dict[str, str] = {"format": "bvh", "unit": unit_name, "m_per_file_unit": repr(scale),
                            "frame_time_s": repr(frame_time_s), **parts.pop("meta")}
    index = {name: i for i, name in enumerate(parts["joint_names"])}
    idx = {c: index[n] for c, n in canonical.items() if n in index}
    if recognition is not None and recognition.sides == "geometry" and len(idx) == len(canonical) and idx:
        idx, meta["sides"] = unsided_sides(idx, _sampled_positions(parts))
        if meta["sides"].startswith("unknown"):
            recognition = dataclasses.replace(recognition, canonical={},
                                              problem=meta.pop("sides").removeprefix("unknown: "))
            idx = {}
        canonical = {c: parts["joint_names"][i] for c, i in idx.items()}
    up_axis, meta["up_axis"] = _up_axis(up, parts, idx, hierarchy)
    unrecognised = recognition.problem if recognition is not None else ""
    problem = ""  # a rig that is not a humanoid (retargeting refuses it in one line)
    if unrecognised.startswith("not a humanoid"):
        problem, unrecognised = unrecognised, ""
    if idx and not unrecognised and layout is None:
        problem = axes.quadruped_problem(_sampled_positions(parts), idx)
        if problem and "translation_error" in meta:
            raise MocapError(f"{path}: {problem}")
    if "translation_error" in meta:
        raise MocapError(meta["translation_error"])
    _to_z_up(parts, axes.to_z_up(up_axis))
    if extra:
        meta["extra_rows"] = extra
    if layout is not None:
        skeleton, meta["skeleton_layout"] = layout.family, layout.name
    elif recognition is not None and not problem and not unrecognised:
        skeleton, meta["skeleton_layout"] = recognition.name, "structural"
        meta["canonical_map"] = json.dumps(canonical)
    else:
        skeleton, meta["skeleton_layout"] = "unknown", "unknown"
        if problem:
            meta["skeleton_problem"] = problem
        if unrecognised:
            meta["skeleton_unrecognised"] = unrecognised
    return Clip(fps=nominal_fps(frame_time_s), source=str(path), skeleton=skeleton, meta=meta, **parts)



# ---- units -------------------------------------------------------------------------------------
def _resolve_units(units: str | float, layout: SkeletonMap | None, hierarchy: Hierarchy,
                   canonical: dict[str, str], path: Path) -> tuple[float, str]:
    if isinstance(units, (int, float)) and not isinstance(units, bool):
        scale = float(units)
        if not (math.isfinite(scale) and scale > 0):
            raise MocapError(f"{path}: units scale must be a positive number of metres per file unit, got {units}")
        return scale, f"{scale!r} m per file unit (given)"
    if not isinstance(units, str) or (units != "auto" and units not in UNITS_M):
        raise MocapError(f"{path}: units must be 'auto', one of {sorted(UNITS_M)} or metres per unit, got {units!r}")
    if units != "auto":
        return UNITS_M[units], units
    extent = _rest_extent(hierarchy)
    if layout is not None and layout.bvh_unit is not None:
        scale = UNITS_M[layout.bvh_unit]
        if PLAUSIBLE_EXTENT_M[0] <= extent * scale <= PLAUSIBLE_EXTENT_M[1]:
            return scale, f"{layout.bvh_unit} ({layout.family} skeleton)"
    leg = _leg_length(hierarchy, canonical)
    if leg > 0:
        name, scale = axes.guess_unit(leg)
        if not name:
            return scale, (f"{UNSCALED_UNIT_NOTE} legs of {leg:.4g} file units fit no unit, scaled to a "
                           f"{axes.TYPICAL_LEG_M} m leg; pass units= or --height")
        return scale, f"{name} (guessed from the leg length, {leg:.4g} file units)"
    if extent <= 0:
        return 1.0, "m (degenerate skeleton, assumed)"
    best = min(_AUTO_UNITS, key=lambda u: abs(math.log(extent * UNITS_M[u] / HUMAN_EXTENT_M)))
    return UNITS_M[best], f"{best} (guessed from the rest-pose extent {extent:.4g} file units)"


def _leg_length(hierarchy: Hierarchy, canonical: dict[str, str]) -> float:
    """Mean thigh + shank length in the rest pose (file units), 0 without both legs."""
    index = {j.name: i for i, j in enumerate(hierarchy.joints)}
    keys = [f"{s}_{p}" for s in "lr" for p in ("hip", "knee", "ankle")]
    if not all(canonical.get(k) in index for k in keys):
        return 0.0
    points = _rest_points(hierarchy)
    p = {k: points[index[canonical[k]]] for k in keys}
    return float(np.mean([np.linalg.norm(p[f"{s}_knee"] - p[f"{s}_hip"])
                          + np.linalg.norm(p[f"{s}_ankle"] - p[f"{s}_knee"]) for s in "lr"]))


def _rest_points(hierarchy: Hierarchy) -> np.ndarray:
    points = np.zeros((len(hierarchy.joints), 3))
    for j, joint in enumerate(hierarchy.joints[1:], start=1):
        points[j] = points[joint.parent] + joint.offset
    return points


def _rest_extent(hierarchy: Hierarchy) -> float:
    """Largest side of the bounding box of the rest pose (all rotations zero), in file units."""
    points = _rest_points(hierarchy)
    sites = [points[j] + offset for j, offset in hierarchy.end_sites]
    allp = np.vstack([points, *sites]) if sites else points
    return float(np.max(allp.max(axis=0) - allp.min(axis=0)))


# ---- channels -> clip arrays -----------------------------------------------------------------------
def _joint_motion(joint: Joint, values: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Per-frame translation (or None without position channels) and local quaternion of a joint."""
    n_frames = values.shape[0]
    translation = None
    axes, columns = "", []
    for i, channel in enumerate(joint.channels):
        kind, axis = CHANNELS[channel]
        column = joint.first_column + i
        if kind == "position":
            if translation is None:
                translation = np.tile(joint.offset, (n_frames, 1))
            translation[:, "XYZ".index(axis)] = values[:, column]
        else:
            axes += axis
            columns.append(column)
    if axes:
        rotation = quat.from_euler(np.radians(values[:, columns]), axes)
    else:
        rotation = np.tile(quat.IDENTITY, (n_frames, 1))
    return translation, rotation


def _assemble(h: Hierarchy, values: np.ndarray, scale: float, path: Path) -> dict:
    joints = h.joints
    n_frames = values.shape[0]
    motion = [_joint_motion(j, values) for j in joints]
    root_translation, _ = motion[0]
    root_pos = root_translation if root_translation is not None else np.tile(joints[0].offset, (n_frames, 1))
    offsets = np.array([j.offset for j in joints])
    rotations = np.stack([rot for _, rot in motion], axis=1)
    parents = np.array([j.parent for j in joints])
    names = [j.name for j in joints]
    sites = list(h.end_sites)
    meta: dict[str, str] = {}

    varying = []  # (joint index, spread in m) of translation channels that really move
    jitter = {}  # joint index -> (rms / bone length, rms in m, bone length in m, largest deviation in m)
    for index in range(1, len(joints)):
        translation = motion[index][0]
        if translation is None:
            continue
        spread_m = float(np.max(np.ptp(translation, axis=0))) * scale
        mean = translation.mean(axis=0)
        if spread_m <= TRANSLATION_TOL_M:
            offsets[index] = mean
            continue
        deviation_m = np.linalg.norm(translation - mean, axis=1) * scale
        rms_m, bone_m = float(np.sqrt(np.mean(deviation_m ** 2))), float(np.linalg.norm(mean)) * scale
        if rms_m <= max(BONE_JITTER_SHARE * bone_m, BONE_JITTER_FLOOR_M):
            jitter[index] = (rms_m / max(bone_m, 1e-12), rms_m, bone_m, float(deviation_m.max()))
        else:
            varying.append((index, spread_m))
    # a static root whose only child carries the translation (little or much: ROMP's pelvis swings 0.26 m rms on a
    # 3 m offset) is folded into it, as long as no other joint moves
    moving = {i for i, _ in varying}
    fold = moving <= {1} and (1 in moving or 1 in jitter) and _is_static_single_parent(h, motion, root_pos, scale)
    for index in jitter:  # the channels replace OFFSET: their mean is the fixed offset nearest every frame
        offsets[index] = motion[index][0].mean(axis=0)
    kept = {i: v for i, v in jitter.items() if not (fold and i == 1)}
    if kept:  # a bone that stretches a little (3ds-Max-like exports: 6 channels on every joint): said, kept fixed
        index = max(kept, key=lambda i: kept[i])
        _, rms_m, bone_m, max_m = kept[index]
        meta["bone_jitter"] = (
            f"{len(kept)} joint(s) with varying translation channels held at their mean (largest: "
            f"{joints[index].name!r} rms {rms_m * 1000:.1f} mm on a {bone_m * 1000:.0f} mm bone, up to "
            f"{max_m * 1000:.1f} mm; moving is > {100 * BONE_JITTER_SHARE:g} %)")
    if fold:
        # fold the static root into its only child, which becomes the clip's root
        r0, p0 = rotations[0, 0], root_pos[0]
        root_pos = p0 + quat.rotate(r0, motion[1][0])
        rotations = np.concatenate([quat.multiply(r0, rotations[:, 1])[:, None], rotations[:, 2:]], axis=1)
        offsets = np.concatenate([(p0 + quat.rotate(r0, joints[1].offset))[None], offsets[2:]])
        parents = np.concatenate([[-1], parents[2:] - 1])
        meta["folded_root"] = names[0]
        names = names[1:]
        sites = [(j - 1, o) for j, o in sites]
    elif varying:  # raised by _read once the posture check had its say (a quadruped is refused as such)
        index, spread_m = varying[0]
        meta["translation_error"] = (
            f"{path}: line {joints[index].line}: joint {joints[index].name!r} has translation channels that "
            f"vary by {spread_m * 1000:.1f} mm; a Clip stores fixed bone offsets, so only the root (or the "
            "only child of a static root) may translate")

    site_parents = np.array([j for j, _ in sites], dtype=np.int64)
    site_offsets = np.array([o for _, o in sites]).reshape(-1, 3)
    return {  # still in the file's axes: _to_z_up turns them
        "joint_names": tuple(names),
        "parents": parents,
        "offsets_m": offsets * scale,
        "root_pos_m": root_pos * scale,
        "rotations": rotations,
        "end_site_parents": site_parents,
        "end_site_offsets_m": site_offsets * scale,
        "meta": meta,
    }


def _to_z_up(parts: dict, c: np.ndarray) -> None:
    """Turn the clip arrays (file axes) by the rotation ``c``: vectors rotated, rotations conjugated."""
    c_inv = quat.conjugate(c)
    for key in ("offsets_m", "root_pos_m", "end_site_offsets_m"):
        parts[key] = quat.rotate(c, parts[key])
    parts["rotations"] = quat.make_continuous(quat.multiply(quat.multiply(c, parts["rotations"]), c_inv), axis=0)


def _sampled_positions(parts: dict) -> np.ndarray:
    """World joint positions ``(S, J, 3)`` of at most axes.MAX_SAMPLES frames (file axes, metres)."""
    frames = axes.sample_frames(parts["root_pos_m"].shape[0])
    local, parents, offsets = parts["rotations"][frames], parts["parents"], parts["offsets_m"]
    rot = np.empty_like(local)
    pos = np.empty(local.shape[:2] + (3,))
    rot[:, 0], pos[:, 0] = local[:, 0], parts["root_pos_m"][frames]
    for j in range(1, len(parents)):
        p = parents[j]
        rot[:, j] = quat.multiply(rot[:, p], local[:, j])
        pos[:, j] = pos[:, p] + quat.rotate(rot[:, p], offsets[j])
    return pos


def _up_axis(up: str, parts: dict, idx: dict[str, int], hierarchy: Hierarchy) -> tuple[str, str]:
    """The file's signed up axis and a note on how it was chosen (module docstring)."""
    if up != "auto":
        return up, f"{up} (given)"
    needed = ("pelvis", "chest", "l_ankle", "r_ankle")
    if not all(k in idx for k in needed):
        return "+Y", "+Y (BVH convention; no legs and trunk recognised to check it)"
    motion, motion_deg = axes.detect_up_axis(_sampled_positions(parts), idx)
    rest = np.zeros((len(parts["parents"]), 3))
    for j in range(1, len(rest)):
        rest[j] = rest[parts["parents"][j]] + parts["offsets_m"][j]
    standing, rest_deg = axes.detect_up_axis(rest[None], idx)
    if motion is not None and motion_deg <= MOTION_AXIS_DEG:
        agree = "the BVH convention" if motion == "+Y" else "detected"
        return motion, f"{motion} ({agree}: the body stands {motion_deg:.0f} deg off it in the motion)"
    if standing is not None and rest_deg <= REST_AXIS_DEG:
        return standing, f"{standing} (from the rest pose, standing {rest_deg:.0f} deg off it; the motion is unclear)"
    if motion is not None:
        return motion, f"{motion} (detected, weakly: the body stands {motion_deg:.0f} deg off it in the motion)"
    return "+Y", "+Y (BVH convention; the motion and rest pose show no clear up axis)"


def _is_static_single_parent(h: Hierarchy, motion: list, root_pos: np.ndarray, scale: float) -> bool:
    """The root never moves or turns, has joint 1 as its only child and no end site of its own."""
    children = [j for j in h.joints if j.parent == 0]
    if len(children) != 1 or any(j == 0 for j, _ in h.end_sites):
        return False
    root_rotation = motion[0][1]
    return (float(np.max(np.ptp(root_pos, axis=0))) * scale <= STATIC_ROOT_TOL
            and float(np.max(np.ptp(root_rotation, axis=0))) <= STATIC_ROOT_TOL)
