"""Video building blocks shared by ``replay``, ``record`` and ``compare``: MP4 files that never replace a
file, the orthographic camera and offscreen humanoid view, text strips, and curve panels whose
background is drawn once with matplotlib (Agg) while the moving cursor is drawn per frame with numpy.

Images are ``(height, width, 3)`` uint8 RGB arrays, row 0 at the top. MP4s are H.264 (libx264, yuv420p),
which phones and browsers play; their sizes must be even.
"""

from __future__ import annotations

import errno
import itertools
import math
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import imageio.v2 as imageio
import mujoco
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator

from sportsim.errors import ConfigError
from sportsim.mocap import quat
from sportsim.mocap.reference_motion import ReferenceMotion

DPI = 100  # matplotlib figures: 1 inch = 100 px
PT_PER_PX = 72.0 / DPI
TITLE_BG = "#20242a"
ELEVATION_DEG = -8.0  # camera slightly above the horizon, looking down
VIEW_HEIGHT = 1.4  # visible height, in humanoid statures
MONO_FONT = "DejaVu Sans Mono"  # matplotlib's bundled monospace font (advance 0.602 em)


# ---- files ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recording:
    path: Path
    frames: int
    width_px: int
    height_px: int
    fps: float


def free_path(out: Path, explicit: bool) -> Path:
    """``out`` if it does not exist yet; else an error for an ``explicit`` choice, or the first free
    ``<stem>-<n><suffix>`` beside it."""
    if not out.exists():
        return out
    if explicit:
        raise ConfigError(f"out: {out} already exists; choose another file name")
    return next(c for n in itertools.count(1) if not (c := out.with_name(f"{out.stem}-{n}{out.suffix}")).exists())


def publish(tmp: Path, out: Path, explicit: bool) -> Path:
    """Hard-link the finished file to ``out`` (or the first free ``<stem>-<n><suffix>``); never overwrite."""
    numbered = (out.with_name(f"{out.stem}-{n}{out.suffix}") if n else out for n in itertools.count())
    candidates = [out] if explicit else numbered
    for candidate in candidates:
        try:
            os.link(tmp, candidate)  # atomic, and fails instead of replacing an existing file
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"out: {out} already exists; choose another file name")


def default_file_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give (mkstemp's temporaries are 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class Mp4Writer:
    """An MP4 written to a temporary sibling of ``target`` and published on a clean exit (:func:`publish`:
    ``target``, or with ``explicit=False`` the first free numbered name); ``path`` is then the file written.

        with Mp4Writer(target, fps=30, explicit=False) as video:
            video.append(frame)
    """

    def __init__(self, target: Path, fps: float, *, explicit: bool) -> None:
        self.target, self.fps, self.explicit = Path(target), float(fps), explicit
        self.frames = 0
        self.size: tuple[int, int] | None = None  # (width, height) of the first frame
        self.path: Path | None = None
        self._tmp: Path | None = None
        self._writer: Any = None

    def __enter__(self) -> "Mp4Writer":
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{self.target.stem}.", suffix=".mp4", dir=self.target.parent)
        except OSError as exc:  # reported with the file the user named, not the temporary one
            raise OSError(exc.errno, exc.strerror, str(self.target)) from None
        os.close(fd)
        self._tmp = Path(name)
        try:
            os.chmod(self._tmp, default_file_mode())
            self._writer = imageio.get_writer(self._tmp, format="FFMPEG", fps=self.fps, codec="libx264",
                                              macro_block_size=2, ffmpeg_log_level="error")
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise
        return self

    def append(self, frame: np.ndarray) -> None:
        frame = np.asarray(frame)
        if self.size is None:
            self.size = (int(frame.shape[1]), int(frame.shape[0]))
        self._writer.append_data(frame)
        self.frames += 1

    def _close_encoder(self) -> None:
        self._writer.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._tmp is not None
        try:
            self._close_encoder()
            if exc_type is None:
                check_mp4(self._tmp, self.target)  # ffmpeg's exit status is not reported by imageio
                with open(self._tmp, "rb+") as file:
                    os.fsync(file.fileno())
                self.path = publish(self._tmp, self.target, self.explicit)
        finally:
            self._tmp.unlink(missing_ok=True)


def check_mp4(path: Path, target: Path) -> None:
    """Raise an OSError naming ``target`` unless ``path`` is a complete MP4: top-level boxes that tile the
    file exactly, with ``ftyp``, ``mdat`` and the ``moov`` index the encoder writes last. An encoder cut
    short (a full disk, a killed ffmpeg) leaves no index, so nothing undecodable is ever published."""
    size, offset, boxes = path.stat().st_size, 0, set()
    with open(path, "rb") as file:
        while offset < size:
            file.seek(offset)
            header = file.read(16)
            if len(header) < 8:
                break
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if length == 1 and len(header) == 16:
                length = int.from_bytes(header[8:16], "big")
            elif length == 0:
                length = size - offset
            if length < 8:
                break
            boxes.add(kind)
            offset += length
    if offset != size or not {b"ftyp", b"mdat", b"moov"} <= boxes:
        full = shutil.disk_usage(path.parent).free < 1 << 20
        reason = "no space left on the device" if full else "the video encoder did not finish the file"
        raise OSError(errno.ENOSPC if full else errno.EIO, reason, str(target))


class FrameStore:
    """Frames kept zlib-compressed in memory (level 1: ~10-30x smaller for rendered scenes), for videos
    whose panel can only be drawn once every frame of an episode is known."""

    def __init__(self) -> None:
        self._frames: list[tuple[tuple[int, ...], bytes]] = []

    def append(self, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        self._frames.append((frame.shape, zlib.compress(frame.tobytes(), 1)))

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self) -> Iterator[np.ndarray]:
        for shape, data in self._frames:
            yield np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(shape)


# ---- images and text --------------------------------------------------------------------------------
def fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Crop or pad (white) to exactly ``height x width`` (figure sizes round to whole pixels)."""
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    h, w = min(height, image.shape[0]), min(width, image.shape[1])
    out[:h, :w] = image[:h, :w]
    return out


def figure_image(figure: Figure, height: int, width: int) -> np.ndarray:
    """Draw a matplotlib figure (Agg) into an exactly ``height x width`` RGB image."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return fit(np.asarray(canvas.buffer_rgba())[..., :3], height, width)


def text_image(width: int, height: int, text: str, *, font_px: float, colour: str = "white",
               background: str = TITLE_BG, align: str = "left", weight: str = "normal") -> np.ndarray:
    """One line of ``text`` on a ``height x width`` strip (vertically centred, 1 % margin)."""
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=background)
    x = {"left": 0.01, "center": 0.5, "right": 0.99}[align]
    figure.text(x, 0.5, text, color=colour, fontsize=font_px * PT_PER_PX, va="center", ha=align,
                fontweight=weight)
    return figure_image(figure, height, width)


class GlyphText:
    """Text that changes every frame (time codes) without a matplotlib draw per frame: monospace glyphs
    drawn once each, then pasted side by side. ``render(text)`` is ``height x len(text) * cell`` px."""

    def __init__(self, font_px: float, colour: str = "white", background: str = TITLE_BG) -> None:
        self.font_px, self.colour, self.background = font_px, colour, background
        self.height = int(math.ceil(1.35 * font_px))
        self.cell = int(math.ceil(0.61 * font_px))
        self._glyphs: dict[str, np.ndarray] = {}

    def _glyph(self, char: str) -> np.ndarray:
        if char not in self._glyphs:
            figure = Figure(figsize=(self.cell / DPI, self.height / DPI), dpi=DPI, facecolor=self.background)
            figure.text(0.5, 0.27, char, color=self.colour, fontsize=self.font_px * PT_PER_PX, ha="center",
                        va="baseline", family=MONO_FONT)
            self._glyphs[char] = figure_image(figure, self.height, self.cell)
        return self._glyphs[char]

    def render(self, text: str) -> np.ndarray:
        return np.hstack([self._glyph(c) for c in text])


def paste(canvas: np.ndarray, image: np.ndarray, top: int, left: int) -> None:
    """Copy ``image`` into ``canvas`` with its top-left corner at (top, left), clipped to the canvas."""
    skip_y, skip_x = max(0, -top), max(0, -left)
    top, left = max(0, top), max(0, left)
    h = max(0, min(image.shape[0] - skip_y, canvas.shape[0] - top))
    w = max(0, min(image.shape[1] - skip_x, canvas.shape[1] - left))
    canvas[top:top + h, left:left + w] = image[skip_y:skip_y + h, skip_x:skip_x + w]


# ---- the humanoid from an orthographic camera -----------------------------------------------------------
class Camera:
    """An orthographic view: direction (azimuth, elevation), visible height and lookat height."""

    def __init__(self, azimuth_deg: float, view_height_m: float, lookat_z_m: float) -> None:
        self.azimuth_deg, self.view_height_m, self.lookat_z_m = azimuth_deg, view_height_m, lookat_z_m
        az, el = math.radians(azimuth_deg), math.radians(ELEVATION_DEG)
        self.forward = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        self.up = np.array([-math.sin(el) * math.cos(az), -math.sin(el) * math.sin(az), math.cos(el)])
        self.right = np.cross(self.forward, self.up)

    @classmethod
    def for_motion(cls, motion: ReferenceMotion, height_m: float | None = None) -> "Camera":
        """Looking along the performer's mean left direction, i.e. from their right side, framing a
        person of ``height_m`` (default: the motion's humanoid)."""
        left = quat.rotate(motion.qpos[:, 3:7], np.array([0.0, 1.0, 0.0]))[:, :2].mean(axis=0)
        azimuth = math.degrees(math.atan2(left[1], left[0])) if np.linalg.norm(left) > 0.3 else 90.0
        height_m = motion.height_m if height_m is None else height_m
        return cls(azimuth, VIEW_HEIGHT * height_m, 0.5 * VIEW_HEIGHT * height_m - 0.1)

    def project(self, points: np.ndarray, lookat: np.ndarray) -> np.ndarray:
        """Image-plane coordinates (m, x right, y up, lookat at 0) of world points ``(..., 3)``."""
        rel = points - lookat
        return np.stack([rel @ self.right, rel @ self.up], axis=-1)

    def mjv_camera(self) -> mujoco.MjvCamera:
        """This view as a free, orthographic MuJoCo camera (set its ``lookat`` per frame)."""
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.orthographic = 1
        camera.azimuth, camera.elevation = self.azimuth_deg, ELEVATION_DEG
        camera.distance = 4.0 * self.view_height_m
        return camera


def offscreen_renderer(model: mujoco.MjModel, camera: Camera, width: int, height: int,
                       antialias: bool = True) -> mujoco.Renderer:
    """A ``mujoco.Renderer`` for ``camera``'s orthographic view: shadows and reflections off (they cost
    most of the software-rendering time); ``antialias=False`` also drops multisampling (about 3x faster)."""
    vis = model.vis.global_
    vis.fovy = camera.view_height_m  # an orthographic camera reads fovy as the visible height (m)
    vis.offwidth, vis.offheight = max(vis.offwidth, width), max(vis.offheight, height)
    if not antialias:
        model.vis.quality.offsamples = 0
    renderer = mujoco.Renderer(model, height, width)
    for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION):
        renderer.scene.flags[flag] = False
    return renderer


class HumanoidView:
    """The humanoid at each motion frame, rendered offscreen through a :class:`Camera`."""

    def __init__(self, motion: ReferenceMotion, camera: Camera, width: int, height: int) -> None:
        self.motion = motion
        self.model = motion.build_model()
        self.data = mujoco.MjData(self.model)
        self.renderer = offscreen_renderer(self.model, camera, width, height)
        self.camera = camera.mjv_camera()

    def render(self, frame: int, lookat: np.ndarray) -> np.ndarray:
        self.data.qpos[:] = self.motion.qpos[frame]
        mujoco.mj_forward(self.model, self.data)
        self.camera.lookat[:] = lookat
        self.renderer.update_scene(self.data, camera=self.camera)
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()


# ---- curve panels -----------------------------------------------------------------------------------
class CurvePanel:
    """A matplotlib figure drawn once; :meth:`render` returns that image with a cursor - a vertical line
    at time ``t`` across every axes - and optional dots, drawn with numpy (no matplotlib per frame).
    The axes' x data must be time in seconds."""

    def __init__(self, figure: Figure, axes: Sequence[Axes], height: int, width: int,
                 cursor_rgb: tuple[int, int, int] = (30, 30, 30), cursor_px: int = 2, dot_px: int = 6) -> None:
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        self.image = fit(np.asarray(canvas.buffer_rgba())[..., :3], height, width)
        full_h = int(canvas.get_width_height()[1])
        self._axes = []
        for ax in axes:
            box = ax.get_window_extent()  # display pixels, origin at the bottom left
            rows = (max(0, int(round(full_h - box.y1))), min(height, int(round(full_h - box.y0))))
            cols = (max(0, int(round(box.x0))), min(width, int(round(box.x1))))
            self._axes.append((ax.transData.frozen(), rows, cols, full_h))
        self.cursor_rgb, self.cursor_px = np.array(cursor_rgb, dtype=np.uint8), max(1, cursor_px)
        r = max(1, dot_px)
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
        self._disc = (xx**2 + yy**2 <= r * r, xx**2 + yy**2 <= (r - max(1, r // 3)) ** 2, r)

    def pixel(self, axes_index: int, t: float, y: float) -> tuple[int, int]:
        """(row, column) of data point (t, y) of one axes."""
        transform, _, _, full_h = self._axes[axes_index]
        x_px, y_px = transform.transform((t, y))
        return int(round(full_h - y_px)), int(round(x_px))

    def render(self, t: float, dots: Sequence[tuple[int, float, tuple[int, int, int]]] = ()) -> np.ndarray:
        """The panel at time ``t``: the cursor, and a dot at (t, y) in axes ``i`` for each ``(i, y, rgb)``."""
        image = self.image.copy()
        half = self.cursor_px // 2
        for index, (_, rows, cols, _) in enumerate(self._axes):
            _, col = self.pixel(index, t, 0.0)
            if cols[0] <= col <= cols[1]:
                image[rows[0]:rows[1], max(cols[0], col - half):min(cols[1], col - half + self.cursor_px)] = \
                    self.cursor_rgb
        outer, inner, r = self._disc
        for index, y, rgb in dots:
            if not math.isfinite(y):
                continue
            row, col = self.pixel(index, t, y)
            _, rows, cols, _ = self._axes[index]
            if not (rows[0] + r <= row < rows[1] - r and cols[0] + r <= col < cols[1] - r):
                continue
            patch = image[row - r:row + r + 1, col - r:col + r + 1]
            patch[outer] = (255, 255, 255)
            patch[inner] = rgb
        return image


# ---- sport panels (python -m sportsim.record) -------------------------------------------------------------
SPAN_COLOUR = "#bfe3c4"
PANEL_COLOURS = ("#1f5fbf", "#d35400", "#2e8b57", "#8e44ad")


def sport_panel_spec(env: Any) -> Mapping[str, Any] | None:
    """The env's sport panel description, ``env.unwrapped.metadata["sport_panel"]``, or None; ``env`` may
    also be an env class (its class-level metadata: ``python -m sportsim.record`` reads it before it
    builds the env).

    Format: ``{"values": f(obs, info) -> {key: float}`` (one sample per video frame), ``"rows":`` a
    sequence of ``{"ylabel": str, "curves": [(key, label), ...], "levels": [(key, label), ...],
    "ygrid": (step, offset)}`` (one axes each, top to bottom; a level is a dashed horizontal line at the
    key's first value; ``ygrid`` puts the y ticks at offset + k step; both optional), and
    optionally ``"spans": (key, label)`` (shaded wherever the key's value is above 0.5, e.g. pumping) and
    ``"env_kwargs"`` (arguments the env needs for the panel's values, e.g. Imitation's ``kinetics=True``)}.
    """
    owner = env if isinstance(env, type) else getattr(env, "unwrapped", env)
    metadata = getattr(owner, "metadata", None) or {}
    return metadata.get("sport_panel")


def spans(flags: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index ranges (stop exclusive) where ``flags`` is true."""
    padded = np.concatenate([[False], np.asarray(flags, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def sport_panel(spec: Mapping[str, Any], samples: Sequence[Mapping[str, float]], fps: float,
                width: int) -> CurvePanel:
    """The curves of one episode (``samples[k]`` belongs to video frame k, at k / fps s) under frames
    ``width`` px wide: one axes per row of ``spec``, the time axis shared, shaded spans counted."""
    rows = list(spec["rows"])
    font_px = max(9.0, width / 48)
    row_px = int(round(max(70.0, width * 0.16)))
    height = 2 * (int(round(row_px * len(rows) + 3.8 * font_px + 6)) // 2)
    times = np.arange(len(samples)) / fps
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    bottom_px, top_px = 3.0 * font_px, 0.4 * font_px
    left_px = 5.2 * font_px
    figure.subplots_adjust(left=left_px / width, right=1 - 0.4 * font_px / width, bottom=bottom_px / height,
                           top=1 - top_px / height, hspace=0.12)
    axes = figure.subplots(len(rows), 1, sharex=True, squeeze=False)[:, 0]
    span_key, span_label = spec.get("spans", (None, None))
    marked = spans(np.array([s[span_key] > 0.5 for s in samples])) if span_key else []
    for ax, row in zip(axes, rows):
        for colour, (key, label) in zip(itertools.cycle(PANEL_COLOURS), row["curves"]):
            ax.plot(times, [s[key] for s in samples], color=colour, linewidth=max(1.2, width / 500), label=label)
        for key, label in row.get("levels", ()):
            ax.axhline(samples[0][key], color="#555555", linestyle="--", linewidth=1.0, label=label)
        for start, stop in marked:
            ax.axvspan(times[start], times[min(stop, len(times) - 1)], color=SPAN_COLOUR, linewidth=0, zorder=0)
        if marked and ax is axes[0]:
            ax.axvspan(0, 0, color=SPAN_COLOUR, label=f"{span_label} ({len(marked)})")
        if "ygrid" in row:
            ax.yaxis.set_major_locator(MultipleLocator(*row["ygrid"]))
        ax.set_ylabel(row["ylabel"], fontsize=font_px * PT_PER_PX)
        ax.tick_params(labelsize=0.9 * font_px * PT_PER_PX)
        ax.grid(True, color="#e3e3e3", linewidth=0.6)
        ax.legend(loc="upper left", fontsize=0.85 * font_px * PT_PER_PX, ncol=4, frameon=True, framealpha=0.8,
                  borderpad=0.25, handlelength=1.5, columnspacing=1.0)
        ax.set_xlim(0.0, max(times[-1], 1.0 / fps))
    axes[-1].set_xlabel("time (s)", fontsize=font_px * PT_PER_PX, labelpad=1)
    return CurvePanel(figure, list(axes), height, width)
