"""Xsens MVNX (XML, versions 3 and 4) reader, streamed with bounded memory.

What is read: the subject's ``frameRate``; segments (label, ``<points>`` with ``<pos_b>`` body-frame
positions - version 3 files write them as ``<pos_s>``, segment-frame positions: the same thing); the
hierarchy from ``<joints>`` (``connector1`` = parent segment/point, ``connector2`` =
child segment/point); the foot-contact definitions; and from every ``type="normal"`` frame the segment
``<orientation>`` (global quaternions, q0 = w first), ``<position>`` (global, metres, Z-up) and
``<footContacts>`` where the file has them (version 3 files do not). Calibration frames (identity, npose,
tpose, tpose-isb) are skipped; sensor blocks and any other frame data are ignored.

A segment's origin is its proximal joint point (Xsens' convention, checked), so a child's rest offset
is the position of the joint point in the parent's body frame; local rotations are
``parent_global^-1 * child_global``; the root position is the root segment's recorded position. The
file's global positions are kept as ``Clip.recorded_positions_m``. Where a child's offset measured in the
motion (its recorded position in its parent's frame) is constant but not what the points say, the measured
offset is used and ``meta["offsets_from_positions"]`` says so (MVN 3.1.5 writes the arms' points in another
frame than their orientations).

The XML goes through ``defusedxml`` with DTDs forbidden (no entity expansion, no external fetches);
each frame element is cleared once read, so memory stays bounded for any number of frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
import numpy as np
from defusedxml import DefusedXmlException

from sportsim.errors import MocapError
from sportsim.mocap import quat
from sportsim.mocap.clip import Clip
from sportsim.mocap.skeletons import match_skeleton

SUPPORTED_VERSIONS = ("3", "4")
CALIBRATION_FRAME_TYPES = ("identity", "tpose", "tpose-isb", "npose")  # npose: MVN 3 (version 3 files)
CHILD_POINT_TOL_M = 1e-3  # a child's joint point must sit at its segment origin within this distance
OFFSET_TOL_M = 5e-3  # a rest offset measured in the motion this far from the segment points replaces them ...
RIGID_TOL_M = 1e-2  # ... when it holds within this over the whole clip (a rigid bone)


@dataclass
class _Header:
    version: str = ""
    fps: float = 0.0
    segments: list[str] = field(default_factory=list)
    points: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # segment -> point -> pos_b
    connectors: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # joint, parent, pt, child, pt
    contact_names: dict[int, str] = field(default_factory=dict)


@dataclass
class _Frames:
    orientations: list[np.ndarray] = field(default_factory=list)
    positions: list[np.ndarray] = field(default_factory=list)
    contacts: list[np.ndarray] = field(default_factory=list)
    skipped: int = 0


def read_mvnx(path: str | os.PathLike[str]) -> Clip:
    """Read an Xsens MVNX file into a :class:`Clip` (Z-up, metres; recorded positions kept)."""
    path = Path(path)
    try:
        return _read(path)
    except MocapError:
        raise
    except DefusedXmlException as exc:
        raise MocapError(f"{path}: refused unsafe XML ({type(exc).__name__}: {exc}); MVNX files need no DTD "
                         "or entities") from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise MocapError(f"{path}: line {line}, column {column}: malformed XML: {exc}") from exc
    except Exception as exc:  # report every failure as MocapError
        raise MocapError(f"{path}: cannot read MVNX: {type(exc).__name__}: {exc}") from exc


def _read(path: Path) -> Clip:
    if not path.is_file():
        raise MocapError(f"{path}: no such file")
    header, frames = _Header(), _Frames()
    frame_count = 0
    parents_of: dict[int, Element] = {}
    stack: list[Element] = []
    events = safe_et.iterparse(str(path), events=("start", "end"), forbid_dtd=True,
                               forbid_entities=True, forbid_external=True)
    for event, elem in events:
        tag = _local(elem.tag)
        if event == "start":
            if stack:
                parents_of[id(elem)] = stack[-1]
            stack.append(elem)
            if tag == "mvnx":
                header.version = elem.get("version", "")
                if header.version not in SUPPORTED_VERSIONS:
                    raise MocapError(f"{path}: <mvnx version={header.version!r}>: supported versions are "
                                     f"{', '.join(SUPPORTED_VERSIONS)}")
            elif tag == "subject":
                header.fps = _positive_float(elem.get("frameRate"), "<subject frameRate>", path)
            continue
        stack.pop()
        parent = parents_of.pop(id(elem), None)
        if tag == "segment":
            _read_segment(elem, header, path)
        elif tag == "joint" and parent is not None and _local(parent.tag) == "joints":
            _read_connector(elem, header, path)
        elif tag == "contactDefinition":
            _read_contact_definition(elem, header, path)
        elif tag == "frame":
            frame_count += 1
            _read_frame(elem, frame_count, header, frames, path)
            elem.clear()
            if parent is not None:
                parent.remove(elem)
    if not header.version:
        raise MocapError(f"{path}: no <mvnx> root element")
    if header.fps <= 0:
        raise MocapError(f"{path}: <subject frameRate> missing")
    if not frames.orientations:
        raise MocapError(f"{path}: no frames of type 'normal' ({frames.skipped} calibration frames only)")
    return _build_clip(header, frames, path)


def _local(tag: Any) -> str:
    """Tag name without its XML namespace (comments and processing instructions give '')."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _positive_float(text: str | None, what: str, path: Path) -> float:
    try:
        value = float(text) if text is not None else float("nan")
    except ValueError:
        raise MocapError(f"{path}: {what}: not a number: {text!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise MocapError(f"{path}: {what}: expected a positive number, got {text!r}")
    return value


def _numbers(text: str | None, count: int, what: str, path: Path) -> np.ndarray:
    words = (text or "").split()
    if len(words) != count:
        raise MocapError(f"{path}: {what}: expected {count} values, got {len(words)}")
    try:
        values = np.array(words, dtype=np.float64)
    except ValueError:
        bad = next(w for w in words if not _is_float(w))
        raise MocapError(f"{path}: {what}: not a number: {bad[:40]!r}") from None
    if not np.all(np.isfinite(values)):
        raise MocapError(f"{path}: {what}: non-finite value")
    return values


def _is_float(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _read_segment(elem: Element, header: _Header, path: Path) -> None:
    label = elem.get("label")
    if not label:
        raise MocapError(f"{path}: <segment> #{len(header.segments) + 1} has no label")
    if label in header.points:
        raise MocapError(f"{path}: <segment label={label!r}>: duplicate segment")
    points: dict[str, np.ndarray] = {}
    for point in elem.iter():
        if _local(point.tag) != "point":
            continue
        name = point.get("label", "")
        pos = next((c for c in point if _local(c.tag) in ("pos_b", "pos_s")), None)
        if not name or pos is None:
            raise MocapError(f"{path}: <segment label={label!r}>: every <point> needs a label and <pos_b> "
                             "(version 4) or <pos_s> (version 3)")
        points[name] = _numbers(pos.text, 3, f"<segment label={label!r}> <point label={name!r}> "
                                f"<{_local(pos.tag)}>", path)
    header.segments.append(label)
    header.points[label] = points


def _read_connector(elem: Element, header: _Header, path: Path) -> None:
    label = elem.get("label", f"#{len(header.connectors) + 1}")
    ends = {_local(c.tag): (c.text or "").strip() for c in elem}
    try:
        parent, parent_point = ends["connector1"].split("/")
        child, child_point = ends["connector2"].split("/")
    except (KeyError, ValueError):
        raise MocapError(f"{path}: <joint label={label!r}>: needs <connector1> and <connector2> of the form "
                         "Segment/point") from None
    header.connectors.append((label, parent, parent_point, child, child_point))


def _read_contact_definition(elem: Element, header: _Header, path: Path) -> None:
    label, index = elem.get("label"), elem.get("index", "")
    if not label or not index.isdigit() or int(index) in header.contact_names:
        raise MocapError(f"{path}: <contactDefinition label={label!r} index={index!r}>: needs a label and a "
                         "unique index")
    header.contact_names[int(index)] = label


def _read_frame(elem: Element, number: int, header: _Header, frames: _Frames, path: Path) -> None:
    kind = elem.get("type", "")
    where = f"<frame> #{number} (index={elem.get('index')!r}, time={elem.get('time')!r}, type={kind!r})"
    if kind in CALIBRATION_FRAME_TYPES:
        frames.skipped += 1
        return
    if kind != "normal":
        raise MocapError(f"{path}: {where}: unknown frame type")
    n_segments = len(header.segments)
    if n_segments == 0:
        raise MocapError(f"{path}: {where}: frames come before any <segment> definition")
    children = {_local(c.tag): c for c in elem}
    for name in ("orientation", "position"):
        if name not in children:
            raise MocapError(f"{path}: {where}: missing <{name}>")
    frames.orientations.append(_numbers(children["orientation"].text, 4 * n_segments, f"{where} <orientation>", path))
    frames.positions.append(_numbers(children["position"].text, 3 * n_segments, f"{where} <position>", path))
    contacts = children.get("footContacts")
    if header.contact_names and contacts is not None:
        values = _numbers(contacts.text, len(header.contact_names), f"{where} <footContacts>", path)
        frames.contacts.append(values != 0)
    elif frames.contacts:
        raise MocapError(f"{path}: {where}: missing <footContacts> (earlier frames have them)")


def _hierarchy(header: _Header, path: Path) -> tuple[list[int], list[int], np.ndarray]:
    """Segment order with parents first, the parent of each (new index) and rest offsets (m)."""
    segments = header.segments
    parent_of: dict[str, tuple[str, str, str, str]] = {}
    for label, parent, parent_point, child, child_point in header.connectors:
        for segment, point in ((parent, parent_point), (child, child_point)):
            if point not in header.points.get(segment, {}):
                raise MocapError(f"{path}: <joint label={label!r}>: {segment}/{point} is not a segment point")
        if child in parent_of:
            raise MocapError(f"{path}: <joint label={label!r}>: segment {child!r} has two parents")
        parent_of[child] = (label, parent, parent_point, child_point)
    roots = [s for s in segments if s not in parent_of]
    if len(roots) != 1:
        raise MocapError(f"{path}: <joints>: expected one root segment, found {roots[:10]}")
    children: dict[str, list[str]] = {}
    for segment in segments:  # file order, so children keep it
        if segment in parent_of:
            children.setdefault(parent_of[segment][1], []).append(segment)
    order: list[str] = []
    pending = [roots[0]]
    while pending:  # depth-first, children in file order; linear in the number of segments
        segment = pending.pop()
        order.append(segment)
        pending.extend(reversed(children.get(segment, [])))
    if len(order) != len(segments):
        unreachable = sorted(set(segments) - set(order))
        raise MocapError(f"{path}: <joints>: segments {unreachable[:10]} are not connected to {roots[0]!r}")
    new_index = {s: i for i, s in enumerate(order)}
    parents = [-1] + [new_index[parent_of[s][1]] for s in order[1:]]
    child_points = np.array([header.points[s][parent_of[s][3]] for s in order[1:]]).reshape(-1, 3)
    parent_points = np.array([header.points[parent_of[s][1]][parent_of[s][2]] for s in order[1:]]).reshape(-1, 3)
    distance = np.linalg.norm(child_points, axis=1)
    if np.any(distance > CHILD_POINT_TOL_M):
        k = int(np.argmax(distance > CHILD_POINT_TOL_M))
        label, _, _, child_point = parent_of[order[k + 1]]
        raise MocapError(f"{path}: <joint label={label!r}>: point {order[k + 1]}/{child_point} lies "
                         f"{distance[k]:.4f} m from the segment origin; sportsim needs segment origins at the "
                         "proximal joint")
    offsets = np.zeros((len(order), 3))
    offsets[1:] = parent_points - child_points
    position = {s: i for i, s in enumerate(segments)}
    file_index = [position[s] for s in order]
    return file_index, parents, offsets


def _build_clip(header: _Header, frames: _Frames, path: Path) -> Clip:
    file_index, parents, offsets = _hierarchy(header, path)
    n_frames, n_segments = len(frames.orientations), len(header.segments)
    orientations = np.stack(frames.orientations).reshape(n_frames, n_segments, 4)[:, file_index]
    positions = np.stack(frames.positions).reshape(n_frames, n_segments, 3)[:, file_index]
    norms = np.linalg.norm(orientations, axis=-1)
    if np.any(np.abs(norms - 1.0) > 1e-2):
        frame, segment = (int(i) for i in np.argwhere(np.abs(norms - 1.0) > 1e-2)[0])
        raise MocapError(f"{path}: normal frame {frame}: <orientation> of segment "
                         f"{header.segments[file_index[segment]]!r} has norm {norms[frame, segment]:.4g}")
    orientations = quat.make_continuous(orientations / norms[..., None], axis=0)
    parent_index = np.array(parents)
    local = orientations.copy()
    local[:, 1:] = quat.multiply(quat.conjugate(orientations[:, parent_index[1:]]), orientations[:, 1:])
    names = tuple(header.segments[i] for i in file_index)
    offsets, remeasured = _offsets_from_positions(orientations, positions, parent_index, offsets, names)
    layout = match_skeleton(names)
    contact_names = tuple(header.contact_names[i] for i in sorted(header.contact_names))
    if frames.contacts and len(frames.contacts) != n_frames:
        raise MocapError(f"{path}: <footContacts> present in {len(frames.contacts)} of {n_frames} normal frames")
    return Clip(
        fps=header.fps,
        joint_names=names,
        parents=parent_index,
        offsets_m=offsets,
        root_pos_m=positions[:, 0],
        rotations=local,
        contacts=np.stack(frames.contacts) if frames.contacts else None,
        contact_names=contact_names if frames.contacts else (),
        recorded_positions_m=positions,
        source=str(path),
        skeleton=layout.family if layout else "unknown",
        meta={"format": "mvnx", "mvnx_version": header.version, "unit": "m",
              "calibration_frames_skipped": str(frames.skipped),
              "skeleton_layout": layout.name if layout else "unknown",
              **({"offsets_from_positions": remeasured} if remeasured else {})},
    )


def _offsets_from_positions(orientations: np.ndarray, positions: np.ndarray, parents: np.ndarray,
                            offsets: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, str]:
    """Rest offsets that make forward kinematics give the file's recorded positions.

    A child's offset in its parent's frame, measured in every frame, is constant for a rigid skeleton. Where
    it stays within :data:`RIGID_TOL_M` but lies more than :data:`OFFSET_TOL_M` from the segment points,
    the points are in another frame than the orientations (a real MVN 3.1.5 file: the arm segments' points
    are written for the T-pose, their orientations for the N-pose - the elbows and hands then 90 deg off)
    and the measured offset is used; the second value names those segments ("" when none)."""
    parent_rot = quat.conjugate(orientations[:, parents[1:]])
    measured = quat.rotate(parent_rot, positions[:, 1:] - positions[:, parents[1:]])  # (T, J-1, 3)
    mean = measured.mean(axis=0)
    spread = np.abs(measured - mean).max(axis=0).max(axis=-1)
    off = np.linalg.norm(mean - offsets[1:], axis=-1)
    fix = (off > OFFSET_TOL_M) & (spread < RIGID_TOL_M)
    if not fix.any():
        return offsets, ""
    out = offsets.copy()
    out[1:][fix] = mean[fix]
    moved = [f"{names[j + 1]} ({1000 * off[j]:.0f} mm)" for j in np.flatnonzero(fix)]
    return out, "points disagree with the recorded positions; offsets measured in the motion: " + ", ".join(moved)
