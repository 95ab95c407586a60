"""Replay a motion-capture file: the source skeleton beside the retargeted humanoid, in one MP4.

    python -m sportsim.replay mocap=<file> [out=<file.mp4>] [fps=30] [width=480] [height=480] [seconds=<s>]
                              [mapping=<skeleton.yaml>]

``mocap`` is any file :func:`sportsim.mocap.load_clip` reads (BVH, Xsens MVNX, DeepMimic, clip .npz).
The clip is retargeted (:func:`sportsim.mocap.retarget.retarget`, default settings) and resampled to
``fps``. Left panel: the source skeleton as a stick figure (its own joints and end sites, scaled to the
humanoid, source floor at z = 0; left side blue, right side red). Right panel: the humanoid driven
kinematically (qpos set, ``mj_forward``, rendered offscreen). Both use the same orthographic camera -
from the performer's right side (perpendicular to the mean facing direction), 8 degrees above the
horizon, following the root horizontally - and show the same instant; a title strip gives the file
name and the time. ``width`` and ``height`` are the size of each panel in pixels (even numbers, at
least 64), so the video is ``2 x width`` wide. ``seconds`` keeps only the start of the clip.

An existing file is never overwritten: an explicit ``out`` that exists is an error; the default
``./<input stem>-replay.mp4`` becomes ``<stem>-replay-1.mp4``, ``-2``, ... instead.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from sportsim.cli import run_cli
from sportsim.config import command_options
from sportsim.errors import ConfigError
from sportsim import resolve
from sportsim.mocap import Clip, quat
from sportsim.mocap.__main__ import read_clip
from sportsim.mocap.reference_motion import ReferenceMotion, is_reference_motion
from sportsim.mocap.retarget import retarget
from sportsim.mocap.skeletons import SkeletonMap, clip_canonical_indices, load_mapping
from sportsim.record import parse_positive_int
from sportsim.video import DPI, Camera, GlyphText, HumanoidView, Mp4Writer, Recording, fit, paste, text_image

USAGE = __doc__.split("\n\n")[1].strip("\n")
TITLE_PX = 24  # height of the title strip
CLOCK_PX = 96  # width of its clock
TITLE_FONT_PX = 8 / 0.72  # 8 pt
COLOURS = {"left": "#1f5fbf", "right": "#c0392b", "centre": "#333333"}


def _parse_positive_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"expected a positive number, got {text}")
    return value


def _parse_panel_px(text: str) -> int:
    value = parse_positive_int(text)
    if value < 64 or value % 2:
        raise ValueError(f"expected an even number of pixels >= 64, got {value}")
    return value


# option -> (parser, default)
OPTIONS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "mocap": (str, None),
    "out": (str, None),
    "fps": (_parse_positive_float, 30.0),
    "width": (_parse_panel_px, 480),
    "height": (_parse_panel_px, 480),
    "seconds": (_parse_positive_float, None),
    "mapping": (str, None),
}


def parse_args(argv: Sequence[str]) -> dict[str, Any]:
    """``key=value ...`` (overrides of ``configs/replay.yaml``, Hydra's grammar) -> options with defaults
    filled in (``mocap`` is required)."""
    _, options, env_overrides = command_options("replay", argv, OPTIONS, USAGE)
    if env_overrides:
        raise ConfigError(f"replay plays a capture, it has no env settings ('{env_overrides[0].input_line}')")
    if options["mocap"] is None:
        raise ConfigError(f"mocap=<file> is required; usage: {USAGE}")
    return options


def replay(mocap: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None, fps: float = 30.0,
           width: int = 480, height: int = 480, seconds: float | None = None,
           mapping: str | os.PathLike[str] | None = None) -> Recording:
    """Write the side-by-side replay of ``mocap`` (see the module docstring) and describe it."""
    path = resolve.capture(mocap)  # as given, or a shipped clip (mocap/<clip>) from any working directory
    if path.suffix.lower() == ".npz" and is_reference_motion(path):
        raise ConfigError(f"mocap: {path} is a retargeted reference motion; replay the capture file it came from")
    target = Path(out).expanduser() if out is not None else Path.cwd() / f"{path.stem}-replay.mp4"
    if target.suffix.lower() != ".mp4":
        raise ConfigError(f"out: {target} must end in .mp4")
    if out is not None and target.exists():
        raise ConfigError(f"out: {target} already exists; choose another file name")
    skeletons = [load_mapping(mapping)] if mapping is not None else []
    clip = read_clip(path, skeletons[0] if skeletons else None)
    motion = retarget(clip, fps=fps, skeletons=skeletons)
    n_frames = motion.n_frames if seconds is None else max(1, min(motion.n_frames, int(seconds * fps + 1e-9)))
    source = _source_points(clip, motion, n_frames)
    camera = Camera.for_motion(motion)
    skeleton = _StickFigure(clip, skeletons, camera, width, height)
    humanoid = HumanoidView(motion, camera, width, height)
    title = _Title(2 * width, f"{path.name} | source: {clip.skeleton} | humanoid {motion.height_m:.2f} m")
    try:
        with Mp4Writer(target, fps, explicit=out is not None) as video:
            for k in range(n_frames):
                lookat = np.array([*motion.qpos[k, 0:2], camera.lookat_z_m])
                panels = np.hstack([skeleton.render(source[k], lookat), humanoid.render(k, lookat)])
                video.append(np.vstack([title.render(k / fps), panels]))
    finally:
        humanoid.close()
    assert video.path is not None
    return Recording(video.path, n_frames, width_px=2 * width, height_px=height + TITLE_PX, fps=fps)


# ---- what is drawn ----------------------------------------------------------------------------------
def _source_points(clip: Clip, motion: ReferenceMotion, n_frames: int) -> np.ndarray:
    """Source joints then end sites ``(n_frames, J + E, 3)`` at the video's frame times (linear in time),
    scaled to the humanoid, the source floor at z = 0."""
    rot, pos = clip.global_transforms()
    sites = pos[:, clip.end_site_parents] + quat.rotate(rot[:, clip.end_site_parents], clip.end_site_offsets_m)
    points = np.concatenate([pos, sites], axis=1)
    x = np.arange(n_frames) * clip.fps / motion.fps
    lower = np.clip(np.floor(x + 1e-9).astype(int), 0, clip.n_frames - 1)
    upper = np.minimum(lower + 1, clip.n_frames - 1)
    t = (x - lower)[:, None, None]
    points = points[lower] + t * (points[upper] - points[lower])
    points[..., 2] -= float(motion.meta.get("source_floor_m", 0.0))
    return motion.scale * points


class _StickFigure:
    """Matplotlib (Agg) drawing of the source skeleton: bones, joints and the floor."""

    def __init__(self, clip: Clip, skeletons: list[SkeletonMap], camera: Camera, width: int, height: int) -> None:
        self.camera, self.size = camera, (height, width)
        n_joints = clip.n_joints
        self.bones = [(int(clip.parents[j]), j) for j in range(1, n_joints)]
        self.bones += [(int(p), n_joints + e) for e, p in enumerate(clip.end_site_parents)]
        side = _sides(clip, skeletons)
        colours = [COLOURS[side[p]] for p, _ in self.bones]
        self.figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.figure.add_axes((0.0, 0.0, 1.0, 1.0))
        half_h = camera.view_height_m / 2
        ax.set_xlim(-half_h * width / height, half_h * width / height)
        ax.set_ylim(-half_h, half_h)
        ax.axis("off")
        floor_y = float(camera.project(np.zeros(3), np.array([0.0, 0.0, camera.lookat_z_m]))[1])
        ax.axhspan(-half_h, floor_y, color="#d9dde3", zorder=0)
        ax.axhline(floor_y, color="#8a9099", linewidth=1.0, zorder=1)
        self.lines = LineCollection([], colors=colours, linewidths=2.5, capstyle="round", zorder=2)
        ax.add_collection(self.lines)
        (self.joints,) = ax.plot([], [], "o", color="#111111", markersize=2.5, zorder=3)

    def render(self, points: np.ndarray, lookat: np.ndarray) -> np.ndarray:
        xy = self.camera.project(points, lookat)
        self.lines.set_segments([xy[[p, c]] for p, c in self.bones])
        self.joints.set_data(xy[:, 0], xy[:, 1])
        self.canvas.draw()
        return fit(np.asarray(self.canvas.buffer_rgba())[..., :3], *self.size)


def _sides(clip: Clip, skeletons: list[SkeletonMap]) -> list[str]:
    """'left', 'right' or 'centre' for every joint: the side of the canonical hip/shoulder above it."""
    idx = clip_canonical_indices(clip, skeletons)  # built-in layouts, user map or found by structure
    roots = {idx[f"{s}_{part}"]: name for s, name in (("l", "left"), ("r", "right")) for part in ("hip", "shoulder")
             if f"{s}_{part}" in idx}
    sides = []
    for j in range(clip.n_joints):
        k = j
        while k >= 0 and k not in roots:
            k = int(clip.parents[k])
        sides.append(roots.get(k, "centre"))
    return sides


class _Title:
    """The strip above the panels: file and what is shown (drawn once), then the time (pasted per frame)."""

    def __init__(self, width: int, text: str) -> None:
        self.clock_px = min(CLOCK_PX, width // 2)
        self.static = text_image(width - self.clock_px, TITLE_PX, text, font_px=TITLE_FONT_PX)
        self.clock = GlyphText(TITLE_FONT_PX)

    def render(self, time_s: float) -> np.ndarray:
        clock = np.empty((TITLE_PX, self.clock_px, 3), dtype=np.uint8)
        clock[:] = self.static[0, 0]
        text = self.clock.render(f"t = {time_s:6.2f} s")[:, -(self.clock_px - 4):]
        paste(clock, text, (TITLE_PX - text.shape[0]) // 2, self.clock_px - 4 - text.shape[1])
        return np.hstack([self.static, clock])


def main(argv: Sequence[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    options = parse_args(argv)
    video = replay(options.pop("mocap"), **options)
    print(f"sportsim: wrote {video.path} ({video.frames} frames, {video.width_px}x{video.height_px} px, "
          f"{video.fps:g} fps)")
    return 0


if __name__ == "__main__":
    run_cli(main)
