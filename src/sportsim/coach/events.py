"""The events coaches time movements by: foot strike and toe-off of each foot, take-off and landing.

Ground contact per foot (:func:`foot_contacts`), from the humanoid's foot - the sole of its foot box:
the heel corner and the toe corner, by forward kinematics of the retargeted pose, and the lower of the
two. Its height above the floor (the 2nd percentile of that height over the movement: a retargeted
capture stands on z = 0, but a clip whose floor is off works too) with hysteresis: the foot lands when
it comes within :data:`STRIKE_HEIGHT_M` of the floor and leaves when it rises above
:data:`LIFT_HEIGHT_M`, so a foot rolling from heel to toe stays down. Speed only guards against a
swinging foot that sweeps low over the floor: a frame faster than :data:`SWEEP_SPEED_MPS` does not land
a foot. (It cannot define the strike: a retargeted heel arrives at 3-4 m/s and slides for two or three
frames - the shipped CMU walk, frames 15-18 - so "the foot has stopped" comes that much late.) A
simulated policy needs none of this: its contacts are MuJoCo's. Either way, runs of contact or of no
contact shorter than :data:`MIN_PHASE_S` are removed before events are read (marker noise; a simulated
foot that bounces off the floor for a frame or two).

Events (:func:`events`) from the contact flags of both feet, on any timeline:

* foot strike: the first frame a foot is on the floor after being off it;
* toe-off: the first frame a foot is off the floor after being on it;
* take-off and landing: the first frame with neither foot on the floor after a frame with one, and the
  first frame with a foot on the floor after such a flight, for flights of at least :data:`MIN_PHASE_S`
  (jumps, and the flight phase of running).

A change at the first frame of a timeline is not an event (it was not seen happen). Times are frame
indices; the comparison turns them into seconds.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from sportsim.mocap.reference_motion import ReferenceMotion

FEET = ("right", "left")  # contact columns, as ReferenceMotion.foot_contacts
KINDS = ("foot strike", "toe-off", "take-off", "landing")
MARKERS = {"foot strike": "v", "toe-off": "^", "take-off": "P", "landing": "X"}  # matplotlib markers
STRIKE_HEIGHT_M = 0.008  # the lower sole corner this close to the floor: the foot lands
LIFT_HEIGHT_M = 0.015  # ... and this far above it: the foot has left
SWEEP_SPEED_MPS = 6.0  # a corner this fast is sweeping past, not landing
FLOOR_PERCENTILE = 2.0
MIN_PHASE_S = 0.1  # 3 frames at 30 Hz: a simulated foot chatters for up to 2
PAIR_WINDOW_S = 0.4  # an A event and a B event of the same kind and foot this close are the same event


@dataclass(frozen=True)
class Event:
    """``kind`` (:data:`KINDS`) of ``foot`` ("right", "left", or "both" for take-off and landing) at
    ``frame`` of a timeline; ``time_s`` is that frame on the timeline's clock."""

    kind: str
    foot: str
    frame: int
    time_s: float


def foot_corners(motion: ReferenceMotion) -> np.ndarray:
    """World positions ``(T, 2, 2, 3)``: per frame, foot (right, left) and corner (heel, toe) of the foot
    box's sole, on its centre line."""
    model = motion.build_model()
    data = mujoco.MjData(model)
    geoms = [model.geom(f"{side}_foot").id for side in FEET]
    out = np.empty((motion.n_frames, 2, 2, 3))
    for k, qpos in enumerate(motion.qpos):
        data.qpos[:] = qpos
        mujoco.mj_kinematics(model, data)
        for f, g in enumerate(geoms):
            axes = data.geom_xmat[g].reshape(3, 3)
            half = model.geom_size[g]
            sole = data.geom_xpos[g] - half[2] * axes[:, 2]
            out[k, f, 0] = sole - half[0] * axes[:, 0]
            out[k, f, 1] = sole + half[0] * axes[:, 0]
    return out


def foot_contacts(motion: ReferenceMotion) -> np.ndarray:
    """``(T, 2)`` bool: (right, left) foot on the floor in each frame (module docstring)."""
    corners = foot_corners(motion)  # (T, foot, corner, 3)
    speed = np.linalg.norm(np.gradient(corners, axis=0), axis=-1) * motion.fps if motion.n_frames > 1 \
        else np.zeros(corners.shape[:3])
    height = corners[..., 2]
    lower = np.argmin(height, axis=2)  # (T, foot): the corner nearer the floor
    low = np.take_along_axis(height, lower[..., None], axis=2)[..., 0]
    low_speed = np.take_along_axis(speed, lower[..., None], axis=2)[..., 0]
    above = low - np.percentile(low, FLOOR_PERCENTILE, axis=0)
    contact = np.zeros(low.shape, dtype=bool)
    down = above[0] < LIFT_HEIGHT_M
    for k in range(len(low)):
        down = np.where(down, above[k] < LIFT_HEIGHT_M, (above[k] < STRIKE_HEIGHT_M) & (low_speed[k] < SWEEP_SPEED_MPS))
        contact[k] = down
    min_frames = max(1, int(round(MIN_PHASE_S * motion.fps)))
    return np.stack([_without_short_runs(contact[:, f], min_frames) for f in range(2)], axis=1)


def _without_short_runs(flags: np.ndarray, min_frames: int) -> np.ndarray:
    """Flags with inner runs (of either value) shorter than ``min_frames`` flipped, shortest first."""
    flags = np.asarray(flags, dtype=bool).copy()
    while True:
        edges = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
        bounds = np.concatenate([[0], edges, [len(flags)]])
        runs = [(b - a, a, b) for a, b in zip(bounds[:-1], bounds[1:]) if a > 0 and b < len(flags)]
        short = [r for r in runs if r[0] < min_frames]
        if not short:
            return flags
        _, a, b = min(short)
        flags[a:b] = ~flags[a:b]


def events(contacts: np.ndarray, fps: float, min_flight_s: float = MIN_PHASE_S) -> list[Event]:
    """The events of contact flags ``(T, 2)`` (right, left) on a timeline at ``fps`` (module
    docstring), in time order."""
    min_frames = max(1, int(round(MIN_PHASE_S * fps)))
    contacts = np.stack([_without_short_runs(c, min_frames) for c in np.asarray(contacts, dtype=bool).T], axis=1)
    found: list[Event] = []
    for f, foot in enumerate(FEET):
        change = np.flatnonzero(np.diff(contacts[:, f].astype(np.int8))) + 1
        for k in change:
            found.append(Event("foot strike" if contacts[k, f] else "toe-off", foot, int(k), k / fps))
    airborne = ~contacts.any(axis=1)
    edges = np.flatnonzero(np.diff(airborne.astype(np.int8))) + 1
    min_frames = max(1, int(round(min_flight_s * fps)))
    for start, stop in zip(edges[:-1], edges[1:]):
        if airborne[start] and stop - start >= min_frames:
            found += [Event("take-off", "both", int(start), start / fps), Event("landing", "both", int(stop), stop / fps)]
    return sorted(found, key=lambda e: (e.frame, KINDS.index(e.kind), e.foot))


@dataclass(frozen=True)
class EventPair:
    """An event of A and the matching one of B (same kind and foot, within :data:`PAIR_WINDOW_S`);
    either may be None when the other side has none there."""

    kind: str
    foot: str
    a: Event | None
    b: Event | None

    @property
    def offset_s(self) -> float:
        """B - A (s); NaN when one is missing."""
        return self.b.time_s - self.a.time_s if self.a is not None and self.b is not None else float("nan")


def pair_events(a: Sequence[Event], b: Sequence[Event], window_s: float = PAIR_WINDOW_S) -> list[EventPair]:
    """Match A's and B's events of the same kind and foot, closest first (each used once)."""
    pairs: list[EventPair] = []
    for kind in KINDS:
        for foot in (*FEET, "both"):
            ea = [e for e in a if (e.kind, e.foot) == (kind, foot)]
            eb = [e for e in b if (e.kind, e.foot) == (kind, foot)]
            gaps = sorted((abs(x.time_s - y.time_s), i, j) for i, x in enumerate(ea) for j, y in enumerate(eb))
            used_a, used_b = set(), set()
            for gap, i, j in gaps:
                if gap <= window_s and i not in used_a and j not in used_b:
                    used_a.add(i)
                    used_b.add(j)
                    pairs.append(EventPair(kind, foot, ea[i], eb[j]))
            pairs += [EventPair(kind, foot, e, None) for i, e in enumerate(ea) if i not in used_a]
            pairs += [EventPair(kind, foot, None, e) for j, e in enumerate(eb) if j not in used_b]
    return sorted(pairs, key=lambda p: min(e.time_s for e in (p.a, p.b) if e is not None))


@dataclass(frozen=True)
class EventSummary:
    """One row of the events table: ``kind`` of ``foot``, counts in A and B, and over the matched pairs
    the mean and largest timing difference B - A (s)."""

    kind: str
    foot: str
    n_a: int
    n_b: int
    n_pairs: int
    mean_offset_s: float
    max_abs_offset_s: float


def summarise(pairs: Sequence[EventPair]) -> list[EventSummary]:
    rows = []
    for kind in KINDS:
        for foot in (*FEET, "both"):
            mine = [p for p in pairs if (p.kind, p.foot) == (kind, foot)]
            if not mine:
                continue
            offsets = np.array([p.offset_s for p in mine if p.a is not None and p.b is not None])
            rows.append(EventSummary(kind, foot, sum(p.a is not None for p in mine), sum(p.b is not None for p in mine),
                                     len(offsets), float(offsets.mean()) if len(offsets) else float("nan"),
                                     float(np.abs(offsets).max()) if len(offsets) else float("nan")))
    return rows


EVENT_COLUMNS = ("event", "foot", "time_a_s", "time_b_s", "timing_b_minus_a_s")


def write_events(path: Path, pairs: Sequence[EventPair]) -> None:
    """One row per event pair (times on the comparison's clock; blank where a side has none)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(EVENT_COLUMNS)
        for p in pairs:
            writer.writerow([p.kind, p.foot, "" if p.a is None else f"{p.a.time_s:.3f}",
                             "" if p.b is None else f"{p.b.time_s:.3f}",
                             "" if p.a is None or p.b is None else f"{p.offset_s:+.3f}"])
