"""BVH reader: a strict tokenizer for the HIERARCHY and a bulk numpy parse of the MOTION block.

Semantics (the ones bvhio, Blender and most exporters share):
- Rotation channels are Euler angles in degrees, composed intrinsically in the order listed, so
  ``CHANNELS 3 Zrotation Xrotation Yrotation`` means ``R = Rz @ Rx @ Ry``. Any order of 0-3 axes works.
- Position channels replace the joint's OFFSET (a channel that is absent keeps the OFFSET value).
  Only the root may translate over time; constant translation channels on other joints (Bandai
  Namco writes 6 channels on every joint) become that joint's offset. A static root whose only child
  carries the motion (Bandai's ``joint_Root`` above ``Hips``) is folded into that child, which then
  becomes the clip's root (recorded in ``meta["folded_root"]``).
- Files are Y-up. sportsim is Z-up: every vector goes through a +90 degree rotation about X,
  ``(x, y, z) -> (x, -z, y)``, and every joint rotation is conjugated by it (``C q C^-1``), so the
  rest pose stays upright and world positions are exactly the file's positions rotated by ``C``.
- Units: ``units="auto"`` uses the detected skeleton family's unit (CMU: CMU units x 0.056444; SFU:
  inches; Bandai Namco and Xsens: cm) and, for unknown skeletons or an implausible size, the unit
  among m/cm/mm/inch that gives a rest-pose extent closest to 1.7 m. A unit name or a float
  (metres per file unit) overrides it.

Every failure is a :class:`MocapError` naming the file and, where it applies, the line.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Iterable

import numpy as np

from sportsim.errors import MocapError
from sportsim.mocap import quat
from sportsim.mocap.clip import Clip, nominal_fps
from sportsim.mocap.skeletons import UNITS_M, SkeletonMap, match_skeleton

Y_UP_TO_Z_UP = quat.from_axis_angle(np.array([1.0, 0.0, 0.0]), np.pi / 2)  # (x, y, z) -> (x, -z, y)
TRANSLATION_TOL_M = 1e-4  # translation channels varying less than this count as constant
STATIC_ROOT_TOL = 1e-9  # a root whose quaternions and positions (m) vary less than this is static
HUMAN_EXTENT_M = 1.7  # typical rest-pose extent (height or arm span) for unit guessing
PLAUSIBLE_EXTENT_M = (0.5, 3.0)
_AUTO_UNITS = ("m", "cm", "mm", "inch")
_CHANNELS = {f"{axis}{kind}": (kind, axis) for axis in "XYZ" for kind in ("position", "rotation")}
_CHANNELS_LOWER = {name.lower(): name for name in _CHANNELS}


@dataclass
class _Joint:
    name: str
    parent: int
    line: int
    offset: np.ndarray  # (3,) file units
    channels: tuple[str, ...]  # canonical channel names, e.g. "Zrotation"
    first_column: int = 0


@dataclass
class _Hierarchy:
    joints: list[_Joint]
    end_sites: list[tuple[int, np.ndarray]]  # (joint index, offset)
    n_channels: int


def read_bvh(path: str | os.PathLike[str], units: str | float = "auto",
             skeletons: Iterable[SkeletonMap] = ()) -> Clip:
    """Read a BVH file into a :class:`Clip` (Z-up, metres). See the module docstring for semantics."""
    path = Path(path)
    try:
        return _read(path, units, tuple(skeletons))
    except MocapError:
        raise
    except Exception as exc:  # a reader reports every failure as MocapError, never a raw exception
        raise MocapError(f"{path}: cannot read BVH: {type(exc).__name__}: {exc}") from exc


def _read(path: Path, units: str | float, skeletons: tuple[SkeletonMap, ...]) -> Clip:
    lines = _read_lines(path)
    tokens = _Tokens(lines, path)
    hierarchy = _parse_hierarchy(tokens)
    n_frames, frames_line, frame_time_s = _parse_motion_header(tokens)
    values = _parse_rows(lines, tokens.next_line_index(), n_frames, frames_line, hierarchy.n_channels, path)

    names = [j.name for j in hierarchy.joints]
    layout = match_skeleton(names, skeletons)
    scale, unit_name = _resolve_units(units, layout, hierarchy, path)
    clip_parts = _assemble(hierarchy, values, scale, path)

    meta = {
        "format": "bvh",
        "unit": unit_name,
        "m_per_file_unit": repr(scale),
        "frame_time_s": repr(frame_time_s),
        "up_axis": "file Y-up rotated to Z-up: (x, y, z) -> (x, -z, y)",
        "skeleton_layout": layout.name if layout else "unknown",
        **clip_parts.pop("meta"),
    }
    return Clip(fps=nominal_fps(frame_time_s), source=str(path), skeleton=layout.family if layout else "unknown",
                meta=meta, **clip_parts)


# ---- text ---------------------------------------------------------------------------------
def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MocapError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise MocapError(f"{path}: line 1: empty file, expected a BVH 'HIERARCHY'")
    data = data.removeprefix(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MocapError(f"{path}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


class _Tokens:
    """Whitespace-separated tokens with their 1-based line numbers, read lazily line by line."""

    def __init__(self, lines: list[str], path: Path) -> None:
        self.lines, self.path = lines, path
        self.index = -1  # current line (0-based)
        self.tokens: list[str] = []
        self.k = 0

    @property
    def line(self) -> int:
        return self.index + 1

    def next(self, expected: str) -> str:
        while self.k >= len(self.tokens):
            self.index += 1
            if self.index >= len(self.lines):
                raise MocapError(f"{self.path}: line {len(self.lines)}: unexpected end of file, expected {expected}")
            self.tokens, self.k = self.lines[self.index].split(), 0
        self.k += 1
        return self.tokens[self.k - 1]

    def expect(self, keyword: str, context: str) -> None:
        token = self.next(f"'{keyword}' {context}")
        if token.upper() != keyword.upper():
            raise self.error(f"expected '{keyword}' {context}, got {_show(token)}")

    def rest_of_line(self) -> list[str]:
        rest = self.tokens[self.k:]
        self.k = len(self.tokens)
        return rest

    def number(self, what: str) -> float:
        token = self.next(what)
        try:
            value = float(token)
        except ValueError:
            raise self.error(f"expected {what}, got {_show(token)}") from None
        if not math.isfinite(value):
            raise self.error(f"{what} is not finite ({token})")
        return value

    def next_line_index(self) -> int:
        """Index of the first line not yet read; the rest of the current line must be empty."""
        if self.k < len(self.tokens):
            raise self.error(f"unexpected {_show(self.tokens[self.k])} after the MOTION header")
        return self.index + 1

    def error(self, message: str) -> MocapError:
        return MocapError(f"{self.path}: line {self.line}: {message}")


def _show(token: str) -> str:
    return repr(token if len(token) <= 40 else token[:40] + "...")


# ---- HIERARCHY -------------------------------------------------------------------------------
def _parse_hierarchy(tokens: _Tokens) -> _Hierarchy:
    tokens.expect("HIERARCHY", "at the start of a BVH file")
    keyword = tokens.next("'ROOT'")
    if keyword.upper() != "ROOT":
        raise tokens.error(f"expected 'ROOT' after HIERARCHY, got {_show(keyword)}"
                           + (" (JOINT outside ROOT)" if keyword.upper() == "JOINT" else ""))
    joints: list[_Joint] = []
    end_sites: list[tuple[int, np.ndarray]] = []
    seen: dict[str, int] = {}
    n_channels = 0
    stack: list[int] = []

    def open_joint(parent: int) -> None:
        nonlocal n_channels
        line = tokens.line
        words = tokens.rest_of_line()
        brace_on_line = bool(words) and words[-1] == "{"
        if brace_on_line:
            words = words[:-1]
        if not words:
            raise tokens.error("joint without a name")
        name = " ".join(words)
        if name in seen:
            raise tokens.error(f"duplicate joint name {name!r} (first defined on line {seen[name]})")
        seen[name] = line
        if not brace_on_line:
            tokens.expect("{", f"after joint {name!r}")
        tokens.expect("OFFSET", f"in joint {name!r}")
        offset = np.array([tokens.number(f"OFFSET value of joint {name!r}") for _ in range(3)])
        tokens.expect("CHANNELS", f"after the OFFSET of joint {name!r}")
        count_token = tokens.next("a channel count")
        if not (count_token.isascii() and count_token.isdigit()) or int(count_token) > 6:
            raise tokens.error(f"channel count of joint {name!r} must be 0-6, got {_show(count_token)}")
        channels = []
        for _ in range(int(count_token)):
            token = tokens.next(f"a channel name of joint {name!r}")
            channel = _CHANNELS_LOWER.get(token.lower())
            if channel is None:
                raise tokens.error(f"unknown channel {_show(token)} in joint {name!r} "
                                   f"(CHANNELS {count_token} lists fewer names, or a name is misspelt)")
            if channel in channels:
                raise tokens.error(f"channel {channel} listed twice in joint {name!r}")
            channels.append(channel)
        joints.append(_Joint(name, parent, line, offset, tuple(channels), n_channels))
        n_channels += len(channels)
        stack.append(len(joints) - 1)

    open_joint(-1)
    while stack:
        current = joints[stack[-1]]
        token = tokens.next(f"JOINT, End Site or '}}' in joint {current.name!r}")
        upper = token.upper()
        if upper == "JOINT":
            open_joint(stack[-1])
        elif upper == "END":
            tokens.expect("Site", "after 'End'")
            tokens.expect("{", "after 'End Site'")
            tokens.expect("OFFSET", "in End Site")
            offset = np.array([tokens.number(f"End Site OFFSET value of joint {current.name!r}") for _ in range(3)])
            tokens.expect("}", "closing the End Site")
            end_sites.append((stack[-1], offset))
        elif token == "}":
            stack.pop()
        else:
            raise tokens.error(f"expected JOINT, End Site or '}}' in joint {current.name!r} (opened on line "
                               f"{current.line}), got {_show(token)}"
                               + (": unbalanced braces" if upper in ("MOTION", "ROOT") else ""))
    return _Hierarchy(joints, end_sites, n_channels)


# ---- MOTION ----------------------------------------------------------------------------------
def _parse_motion_header(tokens: _Tokens) -> tuple[int, int, float]:
    token = tokens.next("'MOTION'")
    if token.upper() != "MOTION":
        hint = " (a second ROOT is not supported)" if token.upper() == "ROOT" else ""
        hint = hint or (" (JOINT outside ROOT, or unbalanced braces)" if token.upper() in ("JOINT", "}") else "")
        raise tokens.error(f"expected 'MOTION' after the hierarchy, got {_show(token)}{hint}")
    count_token = _header_value(tokens, "Frames:")
    frames_line = tokens.line
    if not (count_token.isdigit() and count_token.isascii()):
        raise tokens.error(f"'Frames:' must be a non-negative integer, got {_show(count_token)}")
    n_frames = int(count_token)
    if n_frames == 0:
        raise tokens.error("'Frames: 0': the file holds no motion")
    tokens.expect("Frame", "after the Frames: line")
    frame_time = _header_value(tokens, "Time:")
    try:
        frame_time_s = float(frame_time)
    except ValueError:
        raise tokens.error(f"'Frame Time:' must be a number, got {_show(frame_time)}") from None
    if not (math.isfinite(frame_time_s) and frame_time_s > 0):
        raise tokens.error(f"'Frame Time:' must be a positive number of seconds, got {frame_time}")
    return n_frames, frames_line, frame_time_s


def _header_value(tokens: _Tokens, label: str) -> str:
    """The value after ``label`` (``Frames: 12``, also written ``Frames:12``)."""
    token = tokens.next(f"'{label}'")
    if not token.upper().startswith(label.upper()):
        raise tokens.error(f"expected '{label}', got {_show(token)}")
    return token[len(label):] or tokens.next(f"a value after '{label}'")


def _parse_rows(lines: list[str], start: int, n_frames: int, frames_line: int, n_channels: int,
                path: Path) -> np.ndarray:
    """(T, C) channel values; checks every row's width and value, names the line of any fault."""
    rows: list[list[str]] = []
    row_lines: list[int] = []
    for index in range(start, len(lines)):
        words = lines[index].split()
        if not words:
            continue
        if len(rows) == n_frames:
            raise MocapError(f"{path}: line {index + 1}: more motion rows than 'Frames: {n_frames}' "
                             f"(line {frames_line}) announces")
        if len(words) != n_channels:
            raise MocapError(f"{path}: line {index + 1}: expected {n_channels} values, got {len(words)}")
        rows.append(words)
        row_lines.append(index + 1)
    if len(rows) < n_frames:
        last = row_lines[-1] if row_lines else start
        raise MocapError(f"{path}: line {last}: file ends after {len(rows)} motion rows but 'Frames: "
                         f"{n_frames}' (line {frames_line}) announces {n_frames}: truncated file?")
    if n_channels == 0:
        return np.zeros((n_frames, 0))
    try:
        values = np.array(list(chain.from_iterable(rows)), dtype=np.float64)
    except ValueError:
        for words, line in zip(rows, row_lines):
            for column, word in enumerate(words):
                try:
                    float(word)
                except ValueError:
                    raise MocapError(f"{path}: line {line}: value {column + 1} is not a number: "
                                     f"{_show(word)}") from None
        raise
    values = values.reshape(n_frames, n_channels)
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise MocapError(f"{path}: line {row_lines[row]}: value {column + 1} is not finite "
                         f"({rows[row][column]})")
    return values


# ---- units -------------------------------------------------------------------------------------
def _resolve_units(units: str | float, layout: SkeletonMap | None, hierarchy: _Hierarchy,
                   path: Path) -> tuple[float, str]:
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
    if extent <= 0:
        return 1.0, "m (degenerate skeleton, assumed)"
    best = min(_AUTO_UNITS, key=lambda u: abs(math.log(extent * UNITS_M[u] / HUMAN_EXTENT_M)))
    return UNITS_M[best], f"{best} (guessed from the rest-pose extent {extent:.4g} file units)"


def _rest_extent(hierarchy: _Hierarchy) -> float:
    """Largest side of the bounding box of the rest pose (all rotations zero), in file units."""
    points = np.zeros((len(hierarchy.joints), 3))
    for j, joint in enumerate(hierarchy.joints[1:], start=1):
        points[j] = points[joint.parent] + joint.offset
    sites = [points[j] + offset for j, offset in hierarchy.end_sites]
    allp = np.vstack([points, *sites]) if sites else points
    return float(np.max(allp.max(axis=0) - allp.min(axis=0)))


# ---- channels -> clip arrays -----------------------------------------------------------------------
def _joint_motion(joint: _Joint, values: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Per-frame translation (or None without position channels) and local quaternion of a joint."""
    n_frames = values.shape[0]
    translation = None
    axes, columns = "", []
    for i, channel in enumerate(joint.channels):
        kind, axis = _CHANNELS[channel]
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


def _assemble(h: _Hierarchy, values: np.ndarray, scale: float, path: Path) -> dict:
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
    for index in range(1, len(joints)):
        translation = motion[index][0]
        if translation is None:
            continue
        spread_m = float(np.max(np.ptp(translation, axis=0))) * scale
        if spread_m <= TRANSLATION_TOL_M:
            offsets[index] = translation.mean(axis=0)
        else:
            varying.append((index, spread_m))
    if [i for i, _ in varying] == [1] and _is_static_single_parent(h, motion, root_pos, scale):
        # fold the static root into its only child, which becomes the clip's root
        r0, p0 = rotations[0, 0], root_pos[0]
        root_pos = p0 + quat.rotate(r0, motion[1][0])
        rotations = np.concatenate([quat.multiply(r0, rotations[:, 1])[:, None], rotations[:, 2:]], axis=1)
        offsets = np.concatenate([(p0 + quat.rotate(r0, joints[1].offset))[None], offsets[2:]])
        parents = np.concatenate([[-1], parents[2:] - 1])
        meta["folded_root"] = names[0]
        names = names[1:]
        sites = [(j - 1, o) for j, o in sites]
    elif varying:
        index, spread_m = varying[0]
        raise MocapError(
            f"{path}: line {joints[index].line}: joint {joints[index].name!r} has translation channels that "
            f"vary by {spread_m * 1000:.1f} mm; a Clip stores fixed bone offsets, so only the root (or the "
            "only child of a static root) may translate")

    c = Y_UP_TO_Z_UP
    c_inv = quat.conjugate(c)
    site_parents = np.array([j for j, _ in sites], dtype=np.int64)
    site_offsets = np.array([o for _, o in sites]).reshape(-1, 3)
    return {
        "joint_names": tuple(names),
        "parents": parents,
        "offsets_m": quat.rotate(c, offsets * scale),
        "root_pos_m": quat.rotate(c, root_pos * scale),
        "rotations": quat.make_continuous(quat.multiply(quat.multiply(c, rotations), c_inv), axis=0),
        "end_site_parents": site_parents,
        "end_site_offsets_m": quat.rotate(c, site_offsets * scale),
        "meta": meta,
    }


def _is_static_single_parent(h: _Hierarchy, motion: list, root_pos: np.ndarray, scale: float) -> bool:
    """The root never moves or turns, has joint 1 as its only child and no end site of its own."""
    children = [j for j in h.joints if j.parent == 0]
    if len(children) != 1 or any(j == 0 for j, _ in h.end_sites):
        return False
    root_rotation = motion[0][1]
    return (float(np.max(np.ptp(root_pos, axis=0))) * scale <= STATIC_ROOT_TOL
            and float(np.max(np.ptp(root_rotation, axis=0))) <= STATIC_ROOT_TOL)
