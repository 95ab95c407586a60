"""Compare two movements for a coach: a video, a summary sheet and tables of joint-angle and event
differences.

    python -m sportsim.compare a=<capture or policy> b=<capture or policy> [out=<folder>]
                               [joints=knee,hip,elbow,shoulder,trunk] [view=side|front|top|all]
                               [align=auto|policy|dtw|phase|none] [fps=30] [seconds=<s>] [start_a=<s>]
                               [start_b=<s>] [side=right|left] [anchor=root|start] [width=1080]
                               [mapping_a=<skeleton.yaml>] [mapping_b=<skeleton.yaml>]

``a`` and ``b`` are each a capture file (anything :func:`sportsim.mocap.load_clip` reads - BVH, Xsens
MVNX, DeepMimic ``.txt``/``.json``, clip ``.npz`` - or a reference motion ``.npz`` from ``python -m
sportsim.mocap convert``), or a trained sportsim/Imitation-v0 policy - a run directory (its final
weights), a model ``.zip`` or a zoo entry name - which is rolled out once from the start of its
reference clip with deterministic actions (:mod:`sportsim.coach.rollout`), e.g. ``a=<run> b=<its
clip>`` to see how well it imitates. Captures are retargeted onto the sportsim humanoid (each at its
performer's stature; ``mapping_a``/``mapping_b`` for skeletons sportsim does not know); both are
resampled to ``fps`` (default 30 Hz) and cut to the excerpts starting at ``start_a`` / ``start_b``
seconds, each at most ``seconds`` long (a policy's own reference clip is not cut by ``seconds``: the
policy is paired with whatever of it the policy imitated). Captures are measured as the source gave
them (no planted feet, no clamped joint ranges); a policy's own clip is retargeted as its env did. A capture system's calibration frame at the very start (a
joint jumping faster than 15 m/s into the second frame, as in the CMU files) is dropped.

Time alignment (:mod:`sportsim.coach.align`): ``auto`` (default) pairs a policy with its own reference
clip by the policy's phase (``policy``: each policy frame with the clip frame it was imitating, over
the policy's whole cycles) and time-warps two different performances (``dtw``: B onto A, A at its own
speed, on all nine angles whatever ``joints`` shows); ``phase`` shifts B by a constant lag
(cross-correlation; cyclic movements), ``none`` shows both as recorded from their start times. What
of each source is compared and what is left out is stated identically in the video, the summary and
the terminal, with the start times the video's clocks show.

Written into a new folder (``out``, or ``./compare-<a stem>-vs-<b stem>[-n]``; no file is ever replaced):

* ``comparison.mp4`` - 1080 x 1350 px (4:5 portrait, plays full-width on a phone; ``width`` scales the
  whole layout) at ``fps``. Top: what A and B are with each one's time on its source's clock, the
  alignment, and what of each is compared. Middle, through orthographic cameras that follow athlete A
  (:mod:`sportsim.coach.video`): for ``view=side`` (from A's right), ``front`` or ``top``: A alone | A
  with B as a translucent orange ghost | B alone; ``view=all``: the ghost overlay from the side, the
  front and above. B is turned to A's mean heading and, with ``anchor=root`` (default), its pelvis
  pinned horizontally to A's every frame (posture differences; ``anchor=start``: pinned at the first
  frame only, so distance and speed differences show). Bottom: the joint angles of ``joints`` on one
  ``side`` (A solid blue, B dashed orange; each labelled with its sign convention) over the comparison
  time with that foot's events marked, a cursor and the two current values moving with the video.
* ``summary.png`` - five key frames of the overlay, the angle curves of both sides with the events,
  the table of angle differences with the largest highlighted, and the table of event timings.
* ``joint_differences.csv`` - per angle (both sides): ``joint, mean_abs_diff_deg, peak_diff_deg,
  peak_time_a_s, peak_time_b_s, timing_offset_s, max_abs_diff_deg, peak_a_deg, peak_b_deg``. Over the
  aligned comparison: mean and largest absolute difference B - A; the peaks compared (deepest flexion,
  furthest forward lean: of each curve's peaks in the top fifth of its range the pair closest in time,
  so a cyclic movement compares one cycle) with their difference B - A, their times on the
  comparison's clock (s from its first frame) and the timing offset B - A.
* ``events.csv`` - foot strikes, toe-offs, take-offs and landings of A and B (:mod:`sportsim.coach.
  events`: from foot height for captures, from the simulation's contacts for policies), paired: ``event,
  foot, time_a_s, time_b_s, timing_b_minus_a_s`` on the comparison's clock.
* ``frames.csv`` - everything plotted, per frame: ``time_s`` (comparison clock), ``source_time_a_s``,
  ``source_time_b_s``, every angle of A and of B (``a_right_knee_deg``, ...), the foot contacts and the
  events of each side at that frame, and a policy side's kinetics (``a_right_vertical_grf_bw``, ...,
  ``a_right_hip_moment_nm_per_kg``, ...).

A policy side also shows what capture cannot (:mod:`sportsim.coach.forces`): its vertical ground
reaction force per foot (BW) and the hip, knee and ankle moments of the ``side`` leg (N m/kg; hip and
knee + extension, ankle + plantarflexion), filtered at 15 Hz, as two more rows of curves with the same
cursor, their peaks in the summary's table and the terminal.

Angles (:mod:`sportsim.coach.angles`) are measured on the retargeted humanoids' joint positions, so
both movements are measured on one skeleton.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sportsim.cli import run_cli
from sportsim.config import command_options
from sportsim.coach.align import METHODS, Alignment, Coverage, by_policy_phase
from sportsim.coach.align import align as align_movements
from sportsim.coach.angles import GROUPS, SIDES, angle_names, label, motion_angles, parse_groups
from sportsim.coach.events import Event, EventPair, EventSummary, events, foot_contacts, pair_events, summarise, \
    write_events
from sportsim.coach.forces import FILTER_NOTE, TimelineKinetics, on_timeline
from sportsim.coach.movement import Movement, interpolate_rows, load_movement
from sportsim.coach.report import HIGHLIGHT_ROWS, JointDifference, joint_differences, match_turns, write_sheet, \
    write_table
from sportsim.coach.video import VIEWS, render_video
from sportsim.errors import ConfigError
from sportsim.video import Recording

USAGE = __doc__.split("\n\n")[1].strip("\n")
FILES = ("comparison.mp4", "summary.png", "joint_differences.csv", "events.csv", "frames.csv")
ALIGNMENTS = ("auto", "policy", *METHODS)
MAX_PAIRING_DEG = 10.0  # a policy's reference pose farther than this from every clip frame: not its clip
__all__ = ["Comparison", "FILES", "compare", "load_movement", "main"]


# ---- command line -------------------------------------------------------------------------------------
def _positive_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"expected a positive number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"expected a number >= 0, got {text}")
    return value


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got '{text}'")
        return text
    return parse


def _width(text: str) -> int:
    value = int(text)
    if value < 240 or value % 12:
        raise ValueError(f"expected a multiple of 12 pixels >= 240, got {value}")
    return value


# option -> (parser, default)
OPTIONS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "a": (str, None),
    "b": (str, None),
    "out": (str, None),
    "joints": (str, ",".join(GROUPS)),
    "align": (_choice(*ALIGNMENTS), "auto"),
    "fps": (_positive_float, 30.0),
    "seconds": (_positive_float, None),
    "start_a": (_non_negative_float, 0.0),
    "start_b": (_non_negative_float, 0.0),
    "side": (_choice(*SIDES[::-1]), "right"),
    "anchor": (_choice("root", "start"), "root"),
    "width": (_width, 1080),
    "view": (_choice(*VIEWS), "side"),
    "mapping_a": (str, None),
    "mapping_b": (str, None),
}


def parse_args(argv: Sequence[str]) -> dict[str, Any]:
    """``key=value ...`` (overrides of ``configs/compare.yaml``, Hydra's grammar) -> options with defaults
    filled in (``a`` and ``b`` are required)."""
    _, options, env_overrides = command_options("compare", argv, OPTIONS, USAGE)
    if env_overrides:
        raise ConfigError(f"compare takes no env settings ('{env_overrides[0].input_line}')")
    missing = [k for k in ("a", "b") if options[k] is None]
    if missing:
        raise ConfigError(f"{' and '.join(f'{k}=<capture file or policy>' for k in missing)} required; usage: {USAGE}")
    options["joints"] = parse_groups(options["joints"])
    return options


# ---- the comparison ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    folder: Path
    video: Recording
    sheet: Path
    table: Path
    alignment: Alignment
    differences: tuple[JointDifference, ...]
    a: Movement
    b: Movement
    coverage: tuple[Coverage, Coverage]
    events: tuple[tuple[Event, ...], tuple[Event, ...]]
    event_pairs: tuple[EventPair, ...]
    event_summary: tuple[EventSummary, ...]
    notes: tuple[str, ...]  # the alignment and what of each side is compared, as the video and sheet state them
    kinetics: tuple[TimelineKinetics | None, TimelineKinetics | None]  # of a policy side, on the timeline

    def lines(self) -> list[str]:
        """What the terminal prints after the file list: the notes, the largest angle differences, the
        event timings."""
        out = list(self.notes)
        for d in sorted(self.differences, key=lambda d: -d.mean_abs_diff_deg)[:HIGHLIGHT_ROWS]:
            out.append(f"{label(d.joint)}: mean |B-A| {d.mean_abs_diff_deg:.1f} deg, peak B-A {d.peak_diff_deg:+.1f} "
                       f"deg, timing B-A {d.timing_offset_s:+.2f} s")
        for row in self.event_summary:
            timing = f"timing B-A {row.mean_offset_s:+.2f} s mean, {row.max_abs_offset_s:.2f} s largest" \
                if row.n_pairs else "no pairs"
            what = row.kind if row.foot == "both" else f"{row.foot} {row.kind}"
            out.append(f"{what}: A {row.n_a}, B {row.n_b}, {timing}")
        for which, found in zip("AB", self.kinetics):
            if found is not None:
                peaks = "; ".join(f"{what} {low:+.2f} to {high:+.2f}" for what, low, high in found.peaks())
                out.append(f"{which} kinetics ({FILTER_NOTE}): {peaks}")
        return out


def compare(a: str | os.PathLike[str], b: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None,
            joints: Sequence[str] | str = GROUPS, align: str = "auto", fps: float = 30.0,
            seconds: float | None = None, start_a: float = 0.0, start_b: float = 0.0, side: str = "right",
            anchor: str = "root", width: int = 1080, view: str = "side", mapping_a: str | os.PathLike[str] | None = None,
            mapping_b: str | os.PathLike[str] | None = None) -> Comparison:
    """Write the comparison of ``a`` and ``b`` (see the module docstring) and describe it."""
    groups = parse_groups(joints)
    for key, value, choices in (("side", side, SIDES), ("anchor", anchor, ("root", "start")), ("view", view, VIEWS),
                                ("align", align, ALIGNMENTS)):
        if value not in choices:
            raise ConfigError(f"{key}: expected one of {', '.join(choices)}, got '{value}'")
    _width(str(width))
    explicit = out is not None
    folder = Path(out).expanduser() if explicit else Path.cwd() / f"compare-{Path(a).stem}-vs-{Path(b).stem}"
    if explicit:
        _check_folder(folder)
    movement_a = load_movement("a", a, fps=fps, start_s=start_a, seconds=seconds, mapping=mapping_a)
    movement_b = load_movement("b", b, fps=fps, start_s=start_b, seconds=seconds, mapping=mapping_b)
    if align in ("auto", "policy"):  # a policy's own clip: as its env retargeted it, and not cut by seconds=
        if movement_b.is_reference_of(movement_a):
            movement_b = load_movement("b", b, fps=fps, start_s=start_b, mapping=mapping_b,
                                       as_reference_of=movement_a.rollout)
        elif movement_a.is_reference_of(movement_b):
            movement_a = load_movement("a", a, fps=fps, start_s=start_a, mapping=mapping_a,
                                       as_reference_of=movement_b.rollout)

    # 1. one timeline, what of each side it shows
    every = motion_angles(movement_a.motion), motion_angles(movement_b.motion)
    alignment = _align(movement_a, movement_b, every[0].degrees, every[1].degrees, align, fps)
    coverage = (Coverage.of("A", movement_a.source_time_s(alignment.a_frames), movement_a.span_s, fps),
                Coverage.of("B", movement_b.source_time_s(alignment.b_frames), movement_b.span_s, fps))
    # 2. the angles on it, and their differences
    all_a = interpolate_rows(every[0].degrees, alignment.a_frames)
    all_b = match_turns(all_a, interpolate_rows(every[1].degrees, alignment.b_frames))
    names = angle_names(groups)
    columns = [every[0].names.index(n) for n in names]
    differences = joint_differences(names, all_a[:, columns], all_b[:, columns], fps)
    # 3. contacts and events on it
    contacts = (_timeline_contacts(movement_a, alignment.a_frames), _timeline_contacts(movement_b, alignment.b_frames))
    found = (tuple(events(contacts[0], fps)), tuple(events(contacts[1], fps)))
    pairs = pair_events(*found)
    # 4. what only a simulation shows: a policy side's kinetics on it
    kinetics = (_timeline_kinetics(movement_a, alignment.a_frames, side),
                _timeline_kinetics(movement_b, alignment.b_frames, side))

    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".compare-", dir=folder.parent) as tmp_name:
        tmp = Path(tmp_name)
        shown = [n for n in names if n == "trunk" or n.startswith(side)]
        shown_columns = [every[0].names.index(n) for n in shown]
        notes = (_statement(alignment, anchor), *(f"compared: {c.text()}" for c in coverage))
        video, key_frames = render_video(tmp / FILES[0], movement_a, movement_b, alignment, shown,
                                         all_a[:, shown_columns], all_b[:, shown_columns], fps, anchor, width, view,
                                         notes, found, side, kinetics)
        header = (f"A  {movement_a.describe()}", f"B  {movement_b.describe()}", *notes)
        write_sheet(tmp / FILES[1], header, names, np.arange(alignment.n_frames) / fps, all_a[:, columns],
                    all_b[:, columns], differences, key_frames, found, summarise(pairs), kinetics)
        write_table(tmp / FILES[2], differences)
        write_events(tmp / FILES[3], pairs)
        _write_frames(tmp / FILES[4], movement_a, movement_b, alignment, every[0].names, all_a, all_b, contacts,
                      found, kinetics, fps)
        folder = _publish_folder(tmp, folder, explicit)
    return Comparison(folder, dataclasses.replace(video, path=folder / FILES[0]), folder / FILES[1], folder / FILES[2], alignment, tuple(differences), movement_a, movement_b,
                      coverage, found, tuple(pairs), tuple(summarise(pairs)), notes, kinetics)


def _align(a: Movement, b: Movement, a_deg: np.ndarray, b_deg: np.ndarray, method: str, fps: float) -> Alignment:
    """``auto``/``policy``: a policy against its own reference clip by the policy's phase; otherwise (and
    for ``auto`` between two different performances) :func:`sportsim.coach.align.align`."""
    if method in ("auto", "policy"):
        for policy, clip, policy_is_a in ((a, b, True), (b, a, False)):
            if policy.rollout is not None and clip.is_reference_of(policy):
                phase = policy.rollout.phase
                frames, worst_deg = phase.clip_frames(clip.motion,
                                                      policy.source_time_s(np.arange(policy.motion.n_frames)))
                if worst_deg > MAX_PAIRING_DEG:
                    raise ConfigError(f"align=policy: {clip.name} does not hold every pose {policy.name} imitated "
                                      f"(one is {worst_deg:.0f} deg from the closest frame); use align=dtw")
                period = round(phase.period_s * fps) if phase.cyclic else None
                cycle = clip.source_time_s(np.array([frames[:period].min(), frames[:period].max() + 1])) \
                    if period else None
                return by_policy_phase(clip.source_time_s(frames), clip.start_s, clip.motion.n_frames, fps,
                                       phase.period_s if phase.cyclic else None, policy_is_a,
                                       None if cycle is None else (float(cycle[0]), float(cycle[1])))
        if method == "policy":
            raise ConfigError("align=policy: neither side is a policy compared with the clip it imitates; "
                              "use align=auto or dtw")
        method = "dtw"
    return align_movements(a_deg, b_deg, method, fps)


def _timeline_contacts(movement: Movement, frames: np.ndarray) -> np.ndarray:
    """(right, left) foot contacts of one side at each timeline frame (the nearest of its frames)."""
    contacts = movement.contacts if movement.contacts is not None else foot_contacts(movement.motion)
    nearest = np.clip(np.round(np.asarray(frames, dtype=float)).astype(int), 0, len(contacts) - 1)
    return contacts[nearest]


def _timeline_kinetics(movement: Movement, frames: np.ndarray, side: str) -> TimelineKinetics | None:
    """A policy side's kinetics at its timeline frames (None for a capture or an env without them)."""
    if movement.rollout is None or not movement.rollout.kinetics:
        return None
    return on_timeline(movement.rollout.kinetics, movement.source_time_s(frames), side)


def _statement(alignment: Alignment, anchor: str) -> str:
    return alignment.description + ("" if anchor == "root" else "; B placed at A's start")


def _write_frames(path: Path, a: Movement, b: Movement, alignment: Alignment, names: Sequence[str], a_deg: np.ndarray,
                  b_deg: np.ndarray, contacts: tuple[np.ndarray, np.ndarray],
                  found: tuple[Sequence[Event], Sequence[Event]],
                  kinetics: tuple[TimelineKinetics | None, TimelineKinetics | None], fps: float) -> None:
    """``frames.csv``: one row per frame of the comparison (module docstring)."""
    marks: tuple[dict[int, list[str]], dict[int, list[str]]] = ({}, {})
    for side, side_events in zip(marks, found):
        for e in side_events:
            side.setdefault(e.frame, []).append(e.kind if e.foot == "both" else f"{e.foot} {e.kind}")
    header = ["time_s", "source_time_a_s", "source_time_b_s"]
    header += [f"{s}_{n}_deg" for s in "ab" for n in names]
    header += [f"{s}_{foot}_foot_contact" for s in "ab" for foot in ("right", "left")] + ["events_a", "events_b"]
    forces: dict[str, np.ndarray] = {}
    for prefix, found_kinetics in zip("ab", kinetics):
        if found_kinetics is not None:
            forces |= found_kinetics.columns(prefix)
    header += list(forces)
    time_a, time_b = a.source_time_s(alignment.a_frames), b.source_time_s(alignment.b_frames)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for k in range(alignment.n_frames):
            writer.writerow([f"{k / fps:.4f}", f"{time_a[k]:.4f}", f"{time_b[k]:.4f}",
                             *(f"{v:.3f}" for v in a_deg[k]), *(f"{v:.3f}" for v in b_deg[k]),
                             *(int(v) for v in contacts[0][k]), *(int(v) for v in contacts[1][k]),
                             "; ".join(marks[0].get(k, [])), "; ".join(marks[1].get(k, [])),
                             *(f"{v[k]:.4f}" for v in forces.values())])


def _check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"out: {folder} is a file; give a folder for {', '.join(FILES)}")
    taken = [name for name in FILES if (folder / name).exists()]
    if taken:
        raise ConfigError(f"out: {folder} already holds {', '.join(taken)}; choose another folder")


def _publish_folder(tmp: Path, folder: Path, explicit: bool) -> Path:
    """Hard-link the finished files into ``folder`` (explicit: as given, never replacing a file; default:
    the first of ``folder``, ``folder-1``, ... that does not exist yet)."""
    candidates = [folder] if explicit else (folder.with_name(f"{folder.name}-{n}") if n else folder
                                            for n in itertools.count())
    for candidate in candidates:
        try:
            candidate.mkdir(exist_ok=explicit)
        except FileExistsError:
            continue
        for name in FILES:
            try:
                os.link(tmp / name, candidate / name)
            except FileExistsError:
                raise ConfigError(f"out: {candidate / name} appeared while comparing; choose another folder") from None
        return candidate
    raise AssertionError("unreachable: itertools.count() never ends")


def main(argv: Sequence[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    options = parse_args(argv)
    result = compare(options.pop("a"), options.pop("b"), **options)
    video = result.video
    print(f"sportsim: wrote {result.folder}: {FILES[0]} ({video.frames} frames, {video.width_px}x{video.height_px} px, "
          f"{video.fps:g} fps), {', '.join(FILES[1:])}")
    for line in result.lines():
        print(f"sportsim: {line}")
    return 0


if __name__ == "__main__":
    run_cli(main)
