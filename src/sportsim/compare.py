"""Compare two movements for a coach: a video, a summary sheet and a table of joint-angle differences.

    python -m sportsim.compare a=<capture or policy> b=<capture or policy> [out=<folder>]
                               [joints=knee,hip,elbow,shoulder,trunk]
                               [align=dtw|phase|none] [fps=30] [seconds=<s>] [start_a=<s>] [start_b=<s>]
                               [side=right|left] [anchor=root|start] [width=1080]
                               [mapping_a=<skeleton.yaml>] [mapping_b=<skeleton.yaml>]

``a`` and ``b`` are each a capture file (anything :func:`sportsim.mocap.load_clip` reads - BVH, Xsens
MVNX, DeepMimic ``.txt``/``.json``, clip ``.npz`` - or a reference motion ``.npz`` from ``python -m
sportsim.mocap convert``), or a trained sportsim/Imitation-v0 policy - a run directory (its final
weights), a model ``.zip`` or a zoo entry name - which is rolled out once from the start of its
reference clip with deterministic actions (:mod:`sportsim.coach.rollout`), e.g. ``a=<run> b=<its
clip>`` to see how well it imitates. Captures are retargeted onto the sportsim humanoid (each at its
performer's stature; ``mapping_a``/``mapping_b`` for skeletons sportsim does not know); both are
resampled to ``fps`` (default 30 Hz) and cut to the excerpts starting at ``start_a`` / ``start_b``
seconds, each at most ``seconds`` long. A capture system's calibration frame at the very start (a
joint jumping faster than 15 m/s into the second frame, as in the CMU files) is dropped.

Written into a new folder (``out``, or ``./compare-<a stem>-vs-<b stem>[-n]``; no file is ever replaced):

* ``comparison.mp4`` - 1080 x 1350 px (4:5 portrait, plays full-width on a phone; ``width`` scales the
  whole layout) at ``fps``. Top: the two source names with each one's time in its file, and the time
  alignment used. Middle, through one orthographic camera that follows athlete A from A's right side:
  A alone | A with B as a translucent orange ghost | B alone. B is turned to A's mean heading and, with
  ``anchor=root`` (default), its pelvis pinned horizontally to A's every frame (posture differences;
  ``anchor=start``: pinned at the first frame only, so distance and speed differences show). Bottom:
  the joint angles of ``joints`` on one ``side`` (A solid blue, B dashed orange) over the comparison
  time, with a cursor and the two current values moving with the video.
* ``summary.png`` - five key frames of the overlay, the angle curves of both sides, and the table of
  differences with the largest highlighted.
* ``joint_differences.csv`` - per angle (both sides): ``joint, mean_abs_diff_deg, peak_diff_deg,
  peak_time_a_s, peak_time_b_s, timing_offset_s, max_abs_diff_deg, peak_a_deg, peak_b_deg``. Over the
  aligned comparison: mean and largest absolute difference B - A; the peaks compared (deepest flexion,
  furthest forward lean: of each curve's peaks in the top fifth of its range the pair closest in time,
  so a cyclic movement compares one cycle) with their difference B - A, their times on the
  comparison's clock (s from its first frame) and the timing offset B - A.

Angles (:mod:`sportsim.coach.angles`) are measured on the retargeted humanoids' joint positions, so
both movements are measured on one skeleton. Time alignment (:mod:`sportsim.coach.align`; all nine
angles are used whatever ``joints`` shows): ``dtw`` time-warps B onto A (dynamic time warping; A plays
at its own speed), ``phase`` shifts B by a constant lag (cross-correlation; for cyclic movements),
``none`` shows both as recorded from their start times. The video states which one was used.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sportsim import humanoid
from sportsim.cli import parse_options, run_cli
from sportsim.coach.align import METHODS, Alignment
from sportsim.coach.align import align as align_movements
from sportsim.coach.angles import GROUPS, SIDES, angle_names, label, motion_angles, parse_groups
from sportsim.coach.report import (A_COLOUR, B_COLOUR, HIGHLIGHT_ROWS, JointDifference, joint_differences,
                                   match_turns, write_sheet, write_table)
from sportsim.coach.rollout import policy_motion
from sportsim.errors import ConfigError, MocapError, SportsimError
from sportsim.mocap import Clip, find_capture, quat
from sportsim.mocap.__main__ import read_clip, trim
from sportsim.mocap.retarget import ReferenceMotion, is_reference_motion, resample, retarget
from sportsim.mocap.skeletons import load_mapping
from sportsim.mocap.validate import SPIKE_SPEED_MPS
from sportsim.paths import zoo_dir
from sportsim.video import (DPI, PT_PER_PX, TITLE_BG, Camera, CurvePanel, GlyphText, Mp4Writer, Recording,
                            figure_image, offscreen_renderer, paste, text_image)

USAGE = __doc__.split("\n\n")[1].strip("\n")
FILES = ("comparison.mp4", "summary.png", "joint_differences.csv")
A_TITLE, B_TITLE = "#8fbcff", "#ffae52"  # names and clocks (on the dark title strip)
# B's humanoid: orange materials (body, right limbs, left limbs); A keeps the model's blue-grey
B_MATERIALS = {"b_body": (0.86, 0.50, 0.18), "b_right": (0.96, 0.70, 0.42), "b_left": (0.70, 0.36, 0.10)}
GHOST_ALPHA = 0.55  # opacity of B's ghost over A
GROUP_FLOOR, GROUP_A, GROUP_B = 0, 1, 3  # MuJoCo geom groups, switched per panel
N_KEY_FRAMES = 5


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
    "align": (_choice(*METHODS), "dtw"),
    "fps": (_positive_float, 30.0),
    "seconds": (_positive_float, None),
    "start_a": (_non_negative_float, 0.0),
    "start_b": (_non_negative_float, 0.0),
    "side": (_choice(*SIDES[::-1]), "right"),
    "anchor": (_choice("root", "start"), "root"),
    "width": (_width, 1080),
    "mapping_a": (str, None),
    "mapping_b": (str, None),
}


def parse_args(argv: Sequence[str]) -> dict[str, Any]:
    """``key=value ...`` -> options with defaults filled in (``a`` and ``b`` are required)."""
    _, options = parse_options(argv, OPTIONS, USAGE)
    missing = [k for k in ("a", "b") if options[k] is None]
    if missing:
        raise ConfigError(f"{' and '.join(f'{k}=<capture file or policy>' for k in missing)} required; usage: {USAGE}")
    options["joints"] = parse_groups(options["joints"])
    return options


# ---- the two movements ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Movement:
    """One side of a comparison: ``motion`` is the excerpt (retargeted, at the comparison rate) that starts
    ``start_s`` seconds into its source ``path`` (a capture file, or a policy's rollout)."""

    name: str
    path: Path
    motion: ReferenceMotion
    start_s: float
    skeleton: str
    notes: tuple[str, ...] = ()


def load_movement(which: str, spec: str | os.PathLike[str], *, fps: float = 30.0, start_s: float = 0.0,
                  seconds: float | None = None, mapping: str | os.PathLike[str] | None = None) -> Movement:
    """Read, retarget (or roll out), resample and cut one side (``which`` is "a" or "b", for messages)."""
    path = Path(spec).expanduser()
    if not path.exists() and not _is_zoo_entry(str(spec)):
        try:  # a shipped clip (mocap/<clip>) from any working directory
            path = find_capture(spec)
        except MocapError:
            pass  # reported below as a missing file
    notes: list[str] = []
    skipped_s = 0.0  # a dropped calibration frame
    try:
        if path.is_dir() or path.suffix.lower() == ".zip" or (not path.exists() and _is_zoo_entry(str(spec))):
            motion, track_notes = policy_motion(str(spec))
            file_duration_s, name = motion.duration_s, f"{path.name} (policy)"
            notes += track_notes
            motion = motion if motion.fps == fps else resample(motion, fps)
        elif not path.is_file():
            raise ConfigError(f"{path}: no such file")
        elif path.suffix.lower() == ".npz" and is_reference_motion(path):
            motion = ReferenceMotion.load_npz(path)
            file_duration_s, name = motion.duration_s, path.name
            motion = motion if motion.fps == fps else resample(motion, fps)
        else:
            skeleton_map = load_mapping(mapping) if mapping is not None else None
            clip = read_clip(path, skeleton_map)
            file_duration_s, name = clip.duration_s, path.name
            clip, dropped = _drop_calibration_frame(clip)
            if dropped:
                notes.append("calibration frame dropped")
                skipped_s = 1.0 / clip.fps
            motion = retarget(clip, fps=fps, skeletons=[skeleton_map] if skeleton_map else [])
    except SportsimError as exc:
        raise type(exc)(f"{which}: {exc}") from exc
    start = int(round(start_s * fps))
    if start > motion.n_frames - 2:
        raise ConfigError(f"start_{which}={start_s:g}: {name} is only {file_duration_s:.2f} s "
                          f"long; the excerpt needs at least 2 frames")
    stop = motion.n_frames if seconds is None else min(motion.n_frames, start + int(round(seconds * fps)) + 1)
    if stop - start < 2:
        raise ConfigError(f"seconds={seconds:g}: the excerpt of {name} needs at least 2 frames at {fps:g} fps")
    return Movement(name, path, _excerpt(motion, start, stop), start / fps + skipped_s, motion.skeleton,
                    tuple(notes))


def _is_zoo_entry(spec: str) -> bool:
    try:
        return (zoo_dir() / spec).is_dir()
    except FileNotFoundError:
        return False


def _drop_calibration_frame(clip: Clip) -> tuple[Clip, bool]:
    """Without the first frame if a joint jumps into the second faster than the validator's spike speed
    while the next frame is calm (a calibration pose, e.g. the CMU files' T-pose)."""
    if clip.n_frames < 3:
        return clip, False
    start = trim(clip, 0, 3)
    pos = start.world_positions()
    speed = np.linalg.norm(np.diff(pos, axis=0), axis=-1).max(axis=1) * clip.fps
    if speed[0] > SPIKE_SPEED_MPS >= speed[1]:
        return trim(clip, 1, None), True
    return clip, False


def _excerpt(motion: ReferenceMotion, start: int, stop: int) -> ReferenceMotion:
    if (start, stop) == (0, motion.n_frames):
        return motion
    cut = slice(start, stop)
    return dataclasses.replace(
        motion, qpos=motion.qpos[cut], qvel=motion.qvel[cut], positions_m=motion.positions_m[cut],
        foot_contacts=motion.foot_contacts[cut], target_positions_m=motion.target_positions_m[cut],
        meta={**motion.meta, "excerpt": f"frames {start} to {stop - 1} at {motion.fps:g} Hz"})


def qpos_at(motion: ReferenceMotion, frames: np.ndarray) -> np.ndarray:
    """Humanoid qpos at fractional frame indices ``(K,)``: linear, quaternions slerped."""
    x = np.clip(np.asarray(frames, dtype=float), 0.0, motion.n_frames - 1)
    lower = np.minimum(np.floor(x).astype(int), motion.n_frames - 1)
    upper = np.minimum(lower + 1, motion.n_frames - 1)
    t = x - lower
    q0, q1 = motion.qpos[lower], motion.qpos[upper]
    qpos = q0 + t[:, None] * (q1 - q0)
    for joint in humanoid.JOINTS:
        if joint.type in ("free", "ball"):
            adr = humanoid.qpos_address(joint.name) + (3 if joint.type == "free" else 0)
            qpos[:, adr:adr + 4] = quat.slerp(q0[:, adr:adr + 4], q1[:, adr:adr + 4], t)
    return qpos


def interpolate_rows(values: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Rows of ``values`` ``(T, K)`` at fractional frame indices (linear)."""
    x = np.clip(np.asarray(frames, dtype=float), 0.0, len(values) - 1)
    lower = np.minimum(np.floor(x).astype(int), len(values) - 1)
    upper = np.minimum(lower + 1, len(values) - 1)
    t = (x - lower)[:, None]
    return values[lower] + t * (values[upper] - values[lower])


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


def compare(a: str | os.PathLike[str], b: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None,
            joints: Sequence[str] | str = GROUPS, align: str = "dtw", fps: float = 30.0,
            seconds: float | None = None, start_a: float = 0.0, start_b: float = 0.0, side: str = "right",
            anchor: str = "root", width: int = 1080, mapping_a: str | os.PathLike[str] | None = None,
            mapping_b: str | os.PathLike[str] | None = None) -> Comparison:
    """Write the comparison of ``a`` and ``b`` (see the module docstring) and describe it."""
    groups = parse_groups(joints)
    for key, value, choices in (("side", side, SIDES), ("anchor", anchor, ("root", "start"))):
        if value not in choices:
            raise ConfigError(f"{key}: expected one of {', '.join(choices)}, got '{value}'")
    _width(str(width))
    explicit = out is not None
    folder = Path(out).expanduser() if explicit else Path.cwd() / f"compare-{Path(a).stem}-vs-{Path(b).stem}"
    if explicit:
        _check_folder(folder)
    movement_a = load_movement("a", a, fps=fps, start_s=start_a, seconds=seconds, mapping=mapping_a)
    movement_b = load_movement("b", b, fps=fps, start_s=start_b, seconds=seconds, mapping=mapping_b)

    every = motion_angles(movement_a.motion), motion_angles(movement_b.motion)
    alignment = align_movements(every[0].degrees, every[1].degrees, align, fps)
    names = angle_names(groups)
    columns = [every[0].names.index(n) for n in names]
    aligned_a = every[0].degrees[alignment.a_frames][:, columns]
    aligned_b = match_turns(aligned_a, interpolate_rows(every[1].degrees, alignment.b_frames)[:, columns])
    differences = joint_differences(names, aligned_a, aligned_b, fps)

    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".compare-", dir=folder.parent) as tmp_name:
        tmp = Path(tmp_name)
        shown = [n for n in names if n == "trunk" or n.startswith(side)]
        video, key_frames = _render_video(tmp / FILES[0], movement_a, movement_b, alignment, names, shown,
                                          aligned_a, aligned_b, fps, anchor, width)
        header = (f"A  {_describe(movement_a)}", f"B  {_describe(movement_b)}",
                  f"{alignment.description}; {fps:g} fps; {alignment.n_frames / fps:.2f} s compared (A from "
                  f"{movement_a.start_s:.2f} s, B from {movement_b.start_s:.2f} s of its source)")
        write_sheet(tmp / FILES[1], header, names, np.arange(alignment.n_frames) / fps, aligned_a, aligned_b,
                    differences, key_frames)
        write_table(tmp / FILES[2], differences)
        folder = _publish_folder(tmp, folder, explicit)
    return Comparison(folder, dataclasses.replace(video, path=folder / FILES[0]), folder / FILES[1],
                      folder / FILES[2], alignment, tuple(differences), movement_a, movement_b)


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


# ---- video ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    """Pixel layout for a video ``width`` px wide (4:5): title strip, three panels, curves."""

    width: int

    @property
    def height(self) -> int:
        return 2 * int(round(self.width * 5 / 8))

    @property
    def panel(self) -> tuple[int, int]:  # (height, width) of each humanoid panel, 2:3 portrait
        return self.width // 2, self.width // 3

    @property
    def title(self) -> int:
        return 2 * int(round(self.width * 0.055))

    @property
    def curves(self) -> int:
        return self.height - self.title - self.panel[0]

    @property
    def font_px(self) -> float:  # labels of the curves; the title uses 1.1x
        return self.width / 44


class _PairScene:
    """One MuJoCo model holding both humanoids (B's bodies prefixed ``b_``, coloured orange), rendered
    through one camera that follows A. Per frame: A alone and B alone (full renders, floor and sky
    included) and B's silhouette (B alone on black: cheap, only B's pixels are drawn); the ghost view is
    A's image with B's pixels blended over it (B is always in front, as a ghost should be)."""

    def __init__(self, a: ReferenceMotion, b: ReferenceMotion, alignment: Alignment, camera: Camera,
                 height: int, width: int, anchor: str) -> None:
        spec = humanoid.build_humanoid_spec(a.height_m, a.mass_kg, a.sex)
        spec_b = humanoid.build_humanoid_spec(b.height_m, b.mass_kg, b.sex)
        spec.worldbody.add_frame().attach_body(spec_b.body("pelvis"), "b_", "")
        model = self.model = spec.compile()
        self.data = mujoco.MjData(model)
        b_root = model.body("b_pelvis").id
        for g in range(model.ngeom):
            body = model.geom_bodyid[g]
            in_b = model.body_rootid[body] == b_root
            model.geom_group[g] = GROUP_FLOOR if body == 0 else (GROUP_B if in_b else GROUP_A)
        for name, rgb in B_MATERIALS.items():
            model.mat_rgba[model.mat(name).id] = (*rgb, 1.0)
        self._adr_b = int(model.joint("b_pelvis").qposadr[0])
        self.renderer = offscreen_renderer(model, camera, width, height, antialias=False)
        self.camera, self.lookat_z = camera.mjv_camera(), camera.lookat_z_m
        self.options = {}
        for view, groups in (("a", (GROUP_FLOOR, GROUP_A)), ("b", (GROUP_FLOOR, GROUP_B)), ("b_only", (GROUP_B,))):
            option = mujoco.MjvOption()
            option.geomgroup[:] = [int(g in groups) for g in range(len(option.geomgroup))]
            self.options[view] = option
        mujoco.mj_forward(model, self.data)  # lights and everything else once; per frame kinematics only

        # B's placement: turned to A's mean heading, pelvis pinned to A's (every frame, or the first)
        self.qpos_a = a.qpos[alignment.a_frames]
        qpos_b = qpos_at(b, alignment.b_frames)
        yaw = _heading(self.qpos_a) - _heading(qpos_b)
        turn = quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.array(yaw))
        offset = np.zeros_like(qpos_b[:, :2]) if anchor == "root" else qpos_b[:, :2] - qpos_b[0, :2]
        rotation = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
        anchor_xy = self.qpos_a[:, :2] if anchor == "root" else np.broadcast_to(self.qpos_a[0, :2], offset.shape)
        qpos_b[:, :2] = anchor_xy + offset @ rotation.T
        qpos_b[:, 3:7] = quat.multiply(turn, qpos_b[:, 3:7])
        self.qpos_b = qpos_b

    def render(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frame k of the timeline: (A alone, A + ghost B, B alone)."""
        self.camera.lookat[:] = (*self.qpos_a[k, :2], self.lookat_z)
        self.data.qpos[:self._adr_b] = self.qpos_a[k]
        self.data.qpos[self._adr_b:] = self.qpos_b[k]
        mujoco.mj_kinematics(self.model, self.data)
        view_a, view_b = self._render("a"), self._render("b")
        flags = self.renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False
        try:
            silhouette = self._render("b_only").any(axis=-1)  # the background is black without the skybox
        finally:
            flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = True
        ghost = view_a.copy()
        blend = GHOST_ALPHA * view_b[silhouette] + (1.0 - GHOST_ALPHA) * view_a[silhouette]
        ghost[silhouette] = blend.astype(np.uint8)
        return view_a, ghost, view_b

    def _render(self, view: str) -> np.ndarray:
        self.renderer.update_scene(self.data, camera=self.camera, scene_option=self.options[view])
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()


def _heading(qpos: np.ndarray) -> float:
    """Mean facing direction (rad from +x) of the pelvis over the frames (the first frame's if it turns
    around so much that the mean is short)."""
    forward = quat.rotate(qpos[:, 3:7], np.array([1.0, 0.0, 0.0]))[:, :2]
    mean = forward.mean(axis=0)
    mean = mean if np.linalg.norm(mean) > 0.3 else forward[0]
    return math.atan2(mean[1], mean[0])


class _Title:
    """Three lines on the dark strip: A's name, B's name (each with its time in its file, pasted per frame)
    and the alignment."""

    def __init__(self, width: int, height: int, a: Movement, b: Movement, statement: str) -> None:
        self.width, self.height = width, height
        font_px = 1.1 * width / 44
        self.line_px = height // 3
        lines = [(f"A  {_describe(a)}", A_TITLE), (f"B  {_describe(b)}", B_TITLE), (statement, "#d0d4da")]
        figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=TITLE_BG)
        for row, (text, colour) in enumerate(lines):
            figure.text(0.012, 1 - (row + 0.5) / 3, text, color=colour, va="center", ha="left",
                        fontsize=(font_px if row < 2 else 0.85 * font_px) * PT_PER_PX,
                        fontweight="bold" if row < 2 else "normal")
        self.static = figure_image(figure, height, width)
        self.clocks = (GlyphText(font_px, A_TITLE), GlyphText(font_px, B_TITLE))

    def render(self, time_a_s: float, time_b_s: float) -> np.ndarray:
        strip = self.static.copy()
        for row, (clock, time_s) in enumerate(zip(self.clocks, (time_a_s, time_b_s))):
            text = clock.render(f"t = {time_s:.2f} s")
            top = row * self.line_px + (self.line_px - text.shape[0]) // 2
            paste(strip, text, top, self.width - text.shape[1] - int(0.012 * self.width))
        return strip


def _describe(movement: Movement) -> str:
    return f"{movement.name} ({movement.skeleton}, {movement.motion.height_m:.2f} m)"


def _statement(alignment: Alignment, fps: float, anchor: str) -> str:
    placed = "" if anchor == "root" else " | B placed at A's start"
    return f"{alignment.description} | {fps:g} fps{placed}"


def _curves(layout: _Layout, times: np.ndarray, names: Sequence[str], a_deg: np.ndarray, b_deg: np.ndarray,
            a_name: str, b_name: str) -> CurvePanel:
    """The bottom panel: one axes per angle, A solid and B dashed, drawn once."""
    width, height, font_px = layout.width, layout.curves, layout.font_px
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    top_px, bottom_px, left_px = 2.1 * font_px, 2.5 * font_px, 3.2 * font_px
    figure.subplots_adjust(left=left_px / width, right=1 - 0.6 * font_px / width, top=1 - top_px / height,
                           bottom=bottom_px / height, hspace=0.16)
    axes = figure.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    line_w = max(1.5, width / 400)
    for ax, name, a, b in zip(axes, names, a_deg.T, b_deg.T):
        ax.plot(times, a, color=A_COLOUR, linewidth=line_w)
        ax.plot(times, b, color=B_COLOUR, linewidth=line_w, linestyle=(0, (3, 1.5)))
        ax.text(0.008, 0.93, f"{label(name)} (deg)", transform=ax.transAxes, va="top", ha="left",
                fontsize=0.9 * font_px * PT_PER_PX, bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none",
                                                          "pad": 1.0})
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
        ax.tick_params(labelsize=0.8 * font_px * PT_PER_PX, length=3, pad=2)
        ax.grid(True, color="#e6e6e6", linewidth=0.8)
        low, high = min(a.min(), b.min()), max(a.max(), b.max())
        pad = max(5.0, 0.22 * (high - low))
        ax.set_ylim(low - 0.45 * pad, high + pad)
        ax.set_xlim(times[0], max(times[-1], times[0] + 1e-3))
    axes[-1].set_xlabel("time (s)", fontsize=0.85 * font_px * PT_PER_PX, labelpad=1)
    handles = [Line2D([], [], color=A_COLOUR, linewidth=line_w),
               Line2D([], [], color=B_COLOUR, linewidth=line_w, linestyle=(0, (3, 1.5)))]
    figure.legend(handles, [f"A  {a_name}", f"B  {b_name}"], loc="upper center", ncol=2, frameon=False,
                  fontsize=0.85 * font_px * PT_PER_PX, bbox_to_anchor=(0.5, 1.0), handlelength=2.2)
    return CurvePanel(figure, list(axes), height, width, cursor_px=max(2, width // 400), dot_px=max(3, width // 160))


def _panel_tags(layout: _Layout) -> list[np.ndarray]:
    height = int(round(1.45 * layout.font_px))
    tags = []
    for text, colour in (("A", A_COLOUR), ("A + B ghost", "#333333"), ("B", B_COLOUR)):
        tag_w = int(round(layout.font_px * (0.75 * len(text) + 0.9)))
        tags.append(text_image(tag_w, height, text, font_px=0.9 * layout.font_px, colour="white", background=colour,
                               align="center", weight="bold"))
    return tags


def _render_video(target: Path, a: Movement, b: Movement, alignment: Alignment, names: Sequence[str],
                  shown: Sequence[str], a_deg: np.ndarray, b_deg: np.ndarray, fps: float, anchor: str,
                  width: int) -> tuple[Recording, list[tuple[float, np.ndarray]]]:
    """Write the MP4; return it and the key frames (time, overlay panel) for the summary sheet."""
    layout = _Layout(width)
    n_frames = alignment.n_frames
    times = np.arange(n_frames) / fps
    camera = Camera.for_motion(a.motion, height_m=max(a.motion.height_m, b.motion.height_m))
    panel_h, panel_w = layout.panel
    scene = _PairScene(a.motion, b.motion, alignment, camera, panel_h, panel_w, anchor)
    title = _Title(width, layout.title, a, b, _statement(alignment, fps, anchor))
    columns = [list(names).index(n) for n in shown]
    curves = _curves(layout, times, shown, a_deg[:, columns], b_deg[:, columns], a.name, b.name)
    a_rgb, b_rgb = _rgb(A_COLOUR), _rgb(B_COLOUR)
    tags = _panel_tags(layout)
    margin = max(2, width // 200)
    key_indices = set(np.linspace(0, n_frames - 1, N_KEY_FRAMES).round().astype(int).tolist())
    key_frames: list[tuple[float, np.ndarray]] = []
    frame = np.empty((layout.height, width, 3), dtype=np.uint8)
    try:
        with Mp4Writer(target, fps, explicit=True) as video:
            for k in range(n_frames):
                panels = scene.render(k)
                if k in key_indices:
                    key_frames.append((float(times[k]), panels[1].copy()))
                frame[:layout.title] = title.render(a.start_s + alignment.a_frames[k] / fps,
                                                    b.start_s + alignment.b_frames[k] / fps)
                for p, (image, tag) in enumerate(zip(panels, tags)):
                    paste(image, tag, margin, margin)
                    frame[layout.title:layout.title + panel_h, p * panel_w:(p + 1) * panel_w] = image
                frame[layout.title:layout.title + panel_h, panel_w - 1:panel_w + 1] = 255
                frame[layout.title:layout.title + panel_h, 2 * panel_w - 1:2 * panel_w + 1] = 255
                dots = [(i, float(a_deg[k, c]), a_rgb) for i, c in enumerate(columns)]
                dots += [(i, float(b_deg[k, c]), b_rgb) for i, c in enumerate(columns)]
                frame[layout.title + panel_h:] = curves.render(float(times[k]), dots)
                video.append(frame)
    finally:
        scene.close()
    assert video.path is not None
    return Recording(video.path, n_frames, width, layout.height, fps), key_frames


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def main(argv: Sequence[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    options = parse_args(argv)
    result = compare(options.pop("a"), options.pop("b"), **options)
    video = result.video
    print(f"sportsim: wrote {result.folder}: {FILES[0]} ({video.frames} frames, {video.width_px}x{video.height_px} px, "
          f"{video.fps:g} fps), {FILES[1]}, {FILES[2]}")
    print(f"sportsim: {result.alignment.description}")
    for d in sorted(result.differences, key=lambda d: -d.mean_abs_diff_deg)[:HIGHLIGHT_ROWS]:
        print(f"sportsim: {label(d.joint)}: mean |B-A| {d.mean_abs_diff_deg:.1f} deg, peak B-A {d.peak_diff_deg:+.1f} "
              f"deg, timing B-A {d.timing_offset_s:+.2f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
