"""The comparison video of ``python -m sportsim.compare``: two humanoids in one MuJoCo scene through
orthographic cameras that follow athlete A, a title strip with both clocks, and the curves below.

Views (``view``): ``side`` (from A's right), ``front`` (facing A), ``top`` (from above, A's forward
up the picture) each show three panels, A | A with B as a translucent ghost | B; ``all`` shows the
ghost overlay from the side, the front and above. The floor is a light grid so that both feet stay
visible against it; A is blue and B orange, as in the curves (right limbs lighter, left limbs darker).

Rendering: the floor of each view is rendered once, larger than the panel, and every frame takes the
crop under its camera (:class:`FloorPlate`: an orthographic camera over a periodic floor sees the same
picture shifted); per frame and view only the humanoids are rendered, A alone and B alone on black
(cheap: only their pixels are drawn), and pasted on it; the ghost is B's pixels blended over A's
picture (B always in front, as a ghost should be). Nothing hides a foot: the floor is drawn behind the
humanoids. A side read from a video shows the athlete's own frames in its single-view panel instead
(:func:`sportsim.pose.footage.show_footage`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sportsim import humanoid
from sportsim.coach.align import Alignment
from sportsim.coach.angles import axis_label
from sportsim.coach.events import MARKERS, Event
from sportsim.coach.forces import KineticsRow, TimelineKinetics, kinetics_rows
from sportsim.coach.movement import Movement, qpos_at
from sportsim.coach.report import A_COLOUR, B_COLOUR, mark_events
from sportsim.mocap import quat
from sportsim.mocap.reference_motion import ReferenceMotion
from sportsim.pose.footage import show_footage
from sportsim.pose.reader import is_video_path
from sportsim.video import (DPI, PT_PER_PX, TITLE_BG, VIEW_HEIGHT, CurvePanel, GlyphText, Mp4Writer, Recording,
                            figure_image, offscreen_renderer, paste, text_image)

VIEWS = ("side", "front", "top", "all")
A_TITLE, B_TITLE = "#8fbcff", "#ffae52"  # names and clocks (on the dark title strip)
# the humanoids' materials (body, right limbs lighter, left limbs darker): A blue, B orange, as in the plots
A_MATERIALS = {"body": (0.30, 0.50, 0.85), "right": (0.58, 0.72, 0.95), "left": (0.16, 0.30, 0.62)}
B_MATERIALS = {"b_body": (0.86, 0.50, 0.18), "b_right": (0.96, 0.70, 0.42), "b_left": (0.70, 0.36, 0.10)}
FLOOR_RGB = ((0.88, 0.89, 0.87), (0.83, 0.84, 0.82), (0.62, 0.64, 0.66))  # checker 1, 2 and grid lines
GHOST_ALPHA = 0.55  # opacity of B's ghost over A
GROUP_FLOOR, GROUP_A, GROUP_B = 0, 1, 3  # MuJoCo geom groups, switched per panel
N_KEY_FRAMES = 5
QUALITY_SLICES, QUALITY_STACKS = 14, 8  # MuJoCo's defaults: 28, 16
TOP_ELEVATION_DEG = -89.0  # straight down (MuJoCo's free camera needs it just off -90)


@dataclass(frozen=True)
class Layout:
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
        return 2 * int(round(self.width * 0.085))

    @property
    def curves(self) -> int:
        return self.height - self.title - self.panel[0]

    @property
    def font_px(self) -> float:  # labels of the curves; the title uses 1.1x
        return self.width / 44


@dataclass(frozen=True)
class ViewCamera:
    """An orthographic camera looking along azimuth/elevation (deg), ``view_height_m`` visible."""

    azimuth_deg: float
    elevation_deg: float
    view_height_m: float
    lookat_z_m: float

    def mjv_camera(self) -> mujoco.MjvCamera:
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.orthographic = 1
        camera.azimuth, camera.elevation = self.azimuth_deg, self.elevation_deg
        camera.distance = 4.0 * self.view_height_m
        return camera


def cameras(view: str, a: ReferenceMotion, height_m: float) -> list[tuple[str, ViewCamera]]:
    """The (name, camera) of each view shown: side = from A's right, front = facing A, top = from above."""
    heading = math.degrees(_heading(a.qpos))
    size = VIEW_HEIGHT * height_m
    found = {"side": ViewCamera(heading + 90.0, -8.0, size, 0.5 * size - 0.1),
             "front": ViewCamera(heading + 180.0, -8.0, size, 0.5 * size - 0.1),
             "top": ViewCamera(heading, TOP_ELEVATION_DEG, 0.8 * size, 0.0)}
    return [(v, found[v]) for v in (("side", "front", "top") if view == "all" else (view,))]


class FloorPlate:
    """The floor as one orthographic view sees it, rendered once: larger than the panel by a texture period
    (and a half) on every side, so that the view from any lookat is a crop of it - an orthographic camera
    moved along a floor whose texture repeats every period sees the same picture shifted (lighting is
    the same everywhere: a headlight and a directional light). The crop is rounded to whole pixels."""

    def __init__(self, image: np.ndarray, view: ViewCamera, height: int, width: int, margin: int,
                 period_m: np.ndarray) -> None:
        self.image, self.height, self.width, self.margin, self.period_m = image, height, width, margin, period_m
        self.px_per_m = height / view.view_height_m
        az, el = math.radians(view.azimuth_deg), math.radians(view.elevation_deg)
        forward = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        self.up = np.array([-math.sin(el) * math.cos(az), -math.sin(el) * math.sin(az), math.cos(el)])
        self.right = np.cross(forward, self.up)

    @classmethod
    def for_views(cls, model: mujoco.MjModel, data: mujoco.MjData, views: Sequence[ViewCamera], height: int,
                  width: int, option: mujoco.MjvOption) -> list["FloorPlate"]:
        """One plate per view (``option`` shows the floor only), through one renderer of the largest size."""
        material = model.mat("grid").id
        period_m = 1.0 / np.maximum(model.mat_texrepeat[material], 1e-9)  # texuniform: repeats per metre
        margin = max(int(math.ceil(1.5 * float(period_m.max()) * height / v.view_height_m)) + 2 for v in views)
        big_h, big_w = height + 2 * margin, width + 2 * margin
        vis = model.vis.global_
        vis.offwidth, vis.offheight = max(vis.offwidth, big_w), max(vis.offheight, big_h)
        fovy = vis.fovy
        renderer = mujoco.Renderer(model, big_h, big_w)
        plates = []
        try:
            for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION):
                renderer.scene.flags[flag] = False
            for view in views:
                vis.fovy = view.view_height_m * big_h / height
                camera = view.mjv_camera()
                camera.lookat[:] = (0.0, 0.0, view.lookat_z_m)
                renderer.update_scene(data, camera=camera, scene_option=option)
                plates.append(cls(renderer.render().copy(), view, height, width, margin, period_m))
        finally:
            renderer.close()
            vis.fovy = fovy
        return plates

    def at(self, x_m: float, y_m: float) -> np.ndarray:
        """The floor seen with the camera's lookat over (x, y) (a view of the panel's size)."""
        shift = np.array([x_m % self.period_m[0], y_m % self.period_m[1], 0.0])
        col = self.margin + int(round(float(shift @ self.right) * self.px_per_m))
        row = self.margin - int(round(float(shift @ self.up) * self.px_per_m))
        return self.image[row:row + self.height, col:col + self.width]


class PairScene:
    """One MuJoCo model holding both humanoids (B's bodies prefixed ``b_``, coloured orange)."""

    def __init__(self, a: ReferenceMotion, b: ReferenceMotion, alignment: Alignment,
                 views: list[tuple[str, ViewCamera]], height: int, width: int, anchor: str) -> None:
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
        for name, rgb in (A_MATERIALS | B_MATERIALS).items():
            model.mat_rgba[model.mat(name).id] = (*rgb, 1.0)
        _lighten_floor(model)
        # capsules and ellipsoids with half MuJoCo's default facets: the same picture at these sizes, and the
        # humanoids' triangles are most of the software-rendering time (a third less per frame)
        model.vis.quality.numslices, model.vis.quality.numstacks = QUALITY_SLICES, QUALITY_STACKS
        self._adr_b = int(model.joint("b_pelvis").qposadr[0])
        self.options = {}
        for key, groups in (("floor", (GROUP_FLOOR,)), ("a_only", (GROUP_A,)), ("b_only", (GROUP_B,))):
            option = mujoco.MjvOption()
            option.geomgroup[:] = [int(g in groups) for g in range(len(option.geomgroup))]
            self.options[key] = option
        mujoco.mj_forward(model, self.data)  # lights and everything else once; per frame kinematics only
        self.plates = FloorPlate.for_views(model, self.data, [v for _, v in views], height, width, self.options["floor"])
        self.renderer = offscreen_renderer(model, views[0][1], width, height, antialias=False)  # type: ignore[arg-type]
        self.renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False  # humanoids on black
        self.views = [(name, camera, camera.mjv_camera()) for name, camera in views]

        # B's placement: turned to A's mean heading, pelvis pinned to A's (every frame, or the first)
        self.qpos_a = qpos_at(a, alignment.a_frames)
        qpos_b = qpos_at(b, alignment.b_frames)
        yaw = _heading(self.qpos_a) - _heading(qpos_b)
        turn = quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.array(yaw))
        offset = np.zeros_like(qpos_b[:, :2]) if anchor == "root" else qpos_b[:, :2] - qpos_b[0, :2]
        rotation = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
        anchor_xy = self.qpos_a[:, :2] if anchor == "root" else np.broadcast_to(self.qpos_a[0, :2], offset.shape)
        qpos_b[:, :2] = anchor_xy + offset @ rotation.T
        qpos_b[:, 3:7] = quat.multiply(turn, qpos_b[:, 3:7])
        self.qpos_b = qpos_b

    def render(self, k: int) -> list[np.ndarray]:
        """Frame k of the timeline: [A alone, A + ghost B, B alone] for one view, or the ghost of each."""
        self.data.qpos[:self._adr_b] = self.qpos_a[k]
        self.data.qpos[self._adr_b:] = self.qpos_b[k]
        mujoco.mj_kinematics(self.model, self.data)
        single = len(self.views) == 1
        out = []
        for (_, view, camera), plate in zip(self.views, self.plates):
            x, y = self.qpos_a[k, :2]
            camera.lookat[:] = (x, y, view.lookat_z_m)
            self.model.vis.global_.fovy = view.view_height_m  # orthographic: the visible height (m)
            floor = plate.at(x, y)
            a_only, b_only = self._render(camera, "a_only"), self._render(camera, "b_only")  # on black
            view_a = _paste_over(floor, a_only)
            ghost = _paste_over(view_a, b_only, GHOST_ALPHA)
            out += [view_a, ghost, _paste_over(floor, b_only)] if single else [ghost]
        return out

    def _render(self, camera: mujoco.MjvCamera, key: str) -> np.ndarray:
        self.renderer.update_scene(self.data, camera=camera, scene_option=self.options[key])
        return self.renderer.render()

    def close(self) -> None:
        self.renderer.close()


def _paste_over(background: np.ndarray, layer: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """``background`` with the non-black pixels of ``layer`` (rendered on black) over it, at opacity
    ``alpha``; the work is limited to the box around those pixels (a humanoid fills a small part)."""
    out = background.copy()
    drawn = (layer[..., 0] | layer[..., 1] | layer[..., 2]) != 0  # (a reduction over the last axis is slow)
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    if rows.size == 0:
        return out
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    mask = drawn[box][..., None]
    top = layer[box]
    if alpha < 1.0:
        top = (alpha * top + (1.0 - alpha) * out[box]).astype(np.uint8)
    np.copyto(out[box], top, where=mask)
    return out


def _lighten_floor(model: mujoco.MjModel) -> None:
    """The floor's checker texture redrawn light (:data:`FLOOR_RGB`): the humanoid's darker left limbs
    and both feet stand out against it."""
    tex = model.texture("grid")
    w, h = int(tex.width[0]), int(tex.height[0])
    n_channels = int(model.tex_nchannel[tex.id])
    adr = int(model.tex_adr[tex.id])
    yy, xx = np.mgrid[0:h, 0:w]
    half_w, half_h = w // 2, h // 2
    checker = ((xx < half_w) ^ (yy < half_h)).astype(int)
    line = (xx % half_w < 2) | (yy % half_h < 2)
    colours = np.array(FLOOR_RGB) * 255
    rgb = np.where(line[..., None], colours[2], colours[checker])
    data = model.tex_data[adr:adr + w * h * n_channels].reshape(h, w, n_channels)
    data[..., :3] = rgb.astype(np.uint8)


def _heading(qpos: np.ndarray) -> float:
    """Mean facing direction (rad from +x) of the pelvis over the frames (the first frame's if it turns
    around so much that the mean is short)."""
    forward = quat.rotate(qpos[:, 3:7], np.array([1.0, 0.0, 0.0]))[:, :2]
    mean = forward.mean(axis=0)
    mean = mean if np.linalg.norm(mean) > 0.3 else forward[0]
    return math.atan2(mean[1], mean[0])


class Title:
    """Lines on the dark strip: A's and B's names (each with its source clock, pasted per frame), then
    ``notes`` (the alignment; what of each source is compared, :class:`sportsim.coach.align.Coverage`)."""

    def __init__(self, width: int, height: int, a: Movement, b: Movement, notes: Sequence[str]) -> None:
        self.width, self.height = width, height
        font_px = 1.1 * width / 44
        lines = [(f"A  {a.describe()}", A_TITLE), (f"B  {b.describe()}", B_TITLE), *((n, "#d0d4da") for n in notes)]
        self.line_px = height // len(lines)
        figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=TITLE_BG)
        for row, (text, colour) in enumerate(lines):
            figure.text(0.012, 1 - (row + 0.5) / len(lines), text, color=colour, va="center", ha="left",
                        fontsize=(0.9 * font_px if row < 2 else 0.72 * font_px) * PT_PER_PX,
                        fontweight="bold" if row < 2 else "normal")
        self.static = figure_image(figure, height, width)
        self.clocks = (GlyphText(0.9 * font_px, A_TITLE), GlyphText(0.9 * font_px, B_TITLE))

    def render(self, time_a_s: float, time_b_s: float) -> np.ndarray:
        strip = self.static.copy()
        for row, (clock, time_s) in enumerate(zip(self.clocks, (time_a_s, time_b_s))):
            text = clock.render(f"t = {time_s:5.2f} s")
            top = row * self.line_px + (self.line_px - text.shape[0]) // 2
            paste(strip, text, top, self.width - text.shape[1] - int(0.012 * self.width))
        return strip


def curves(layout: Layout, times: np.ndarray, names: Sequence[str], a_deg: np.ndarray, b_deg: np.ndarray,
           a_name: str, b_name: str, events: tuple[Sequence[Event], Sequence[Event]] = ((), ()),
           foot: str = "right", extra: Sequence[KineticsRow] = ()) -> CurvePanel:
    """The bottom panel: one axes per angle (its label with unit and sign above it, outside the plot),
    A solid and B dashed, ``foot``'s events marked on both curves, a legend naming A and B; then the
    ``extra`` kinetics rows."""
    width, height, font_px = layout.width, layout.curves, layout.font_px
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    top_px, bottom_px, left_px = 3.4 * font_px, 2.5 * font_px, 3.2 * font_px
    figure.subplots_adjust(left=left_px / width, right=1 - 0.6 * font_px / width, top=1 - top_px / height,
                           bottom=bottom_px / height, hspace=0.55 if not extra else 0.75)
    axes = figure.subplots(len(names) + len(extra), 1, sharex=True, squeeze=False)[:, 0]
    line_w = max(1.5, width / 400)
    mark_px = max(4.0, width / 150)
    rows: list[tuple[str, list[tuple[np.ndarray, str, Any, str | None]]]] = [
        (axis_label(name), [(a, A_COLOUR, "-", None), (b, B_COLOUR, (0, (3, 1.5)), None)])
        for name, a, b in zip(names, a_deg.T, b_deg.T)]
    rows += [(row.title, list(row.lines)) for row in extra]
    for index, (ax, (title, lines)) in enumerate(zip(axes, rows)):
        for values, colour, style, name in lines:
            ax.plot(times, values, color=colour, linewidth=line_w if name is None else 0.8 * line_w, linestyle=style,
                    label=name)
        if index < len(names):
            for (values, _, _, _), found, colour in zip(lines, events, (A_COLOUR, B_COLOUR)):
                mark_events(ax, times, values, found, foot, colour, mark_px * PT_PER_PX * 2)
        else:
            seen = dict.fromkeys(n for _, _, _, n in lines)
            handles = [Line2D([], [], color=next(c for _, c, _, n in lines if n == name), linewidth=line_w)
                       for name in seen]
            ax.legend(handles, list(seen), loc="lower right", bbox_to_anchor=(1.0, 0.98), ncol=len(seen),
                      frameon=False, fontsize=0.7 * font_px * PT_PER_PX, handlelength=1.2, borderaxespad=0.0,
                      columnspacing=0.8)
        ax.set_title(title, fontsize=(0.85 if index < len(names) else 0.75) * font_px * PT_PER_PX, loc="left", pad=2)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=index < len(names)))
        ax.tick_params(labelsize=0.8 * font_px * PT_PER_PX, length=3, pad=2)
        ax.grid(True, color="#e6e6e6", linewidth=0.8)
        low = min(float(np.min(v)) for v, *_ in lines)
        high = max(float(np.max(v)) for v, *_ in lines)
        pad = max(3.0 if index < len(names) else 0.1, 0.12 * (high - low))
        ax.set_ylim(low - pad, high + pad)
        ax.set_xlim(times[0], max(times[-1], times[0] + 1e-3))
    axes[-1].set_xlabel("time on the comparison's clock (s)", fontsize=0.85 * font_px * PT_PER_PX, labelpad=1)
    handles = [Line2D([], [], color=A_COLOUR, linewidth=line_w),
               Line2D([], [], color=B_COLOUR, linewidth=line_w, linestyle=(0, (3, 1.5)))]
    labels = [f"A  {a_name}", f"B  {b_name}"]
    kinds = sorted({e.kind for side in events for e in side if e.foot in (foot, "both")}, key=list(MARKERS).index)
    for kind in kinds:
        filled = kind in ("foot strike", "landing")
        handles.append(Line2D([], [], linestyle="none", marker=MARKERS[kind], color="#444444",
                              markerfacecolor="#444444" if filled else "white", markersize=mark_px * PT_PER_PX * 2))
        labels.append(kind if kind in ("take-off", "landing") else f"{foot} {kind}")
    figure.legend(handles, labels, loc="upper center", ncol=min(len(handles), 3), frameon=False,
                  fontsize=0.8 * font_px * PT_PER_PX, bbox_to_anchor=(0.5, 1.0), handlelength=2.0,
                  columnspacing=1.2, borderaxespad=0.2)
    return CurvePanel(figure, list(axes), height, width, cursor_px=max(2, width // 400), dot_px=max(3, width // 160))


def panel_tags(layout: Layout, view: str) -> list[np.ndarray]:
    height = int(round(1.45 * layout.font_px))
    if view == "all":
        tags = [(f"A + B ghost, {v}", "#333333") for v in ("side", "front", "top")]
    else:
        tags = [(f"A, {view}", A_COLOUR), ("A + B ghost", "#333333"), (f"B, {view}", B_COLOUR)]
    images = []
    for text, colour in tags:
        tag_w = int(round(layout.font_px * (0.6 * len(text) + 0.9)))
        images.append(text_image(tag_w, height, text, font_px=0.85 * layout.font_px, colour="white",
                                  background=colour, align="center", weight="bold"))
    return images


def render_video(target: Path, a: Movement, b: Movement, alignment: Alignment, shown: Sequence[str],
                 a_deg: np.ndarray, b_deg: np.ndarray, fps: float, anchor: str, width: int, view: str,
                 notes: Sequence[str], events: tuple[Sequence[Event], Sequence[Event]] = ((), ()),
                 foot: str = "right", kinetics: tuple[TimelineKinetics | None, TimelineKinetics | None] = (None, None)
                 ) -> tuple[Recording, list[tuple[float, np.ndarray]]]:
    """Write the MP4 (``a_deg``/``b_deg``: the aligned angles of ``shown``; ``notes``: the title's lines
    under the names); return it and the key frames (time, overlay panel of the first view) for the
    summary sheet."""
    layout = Layout(width)
    n_frames = alignment.n_frames
    times = np.arange(n_frames) / fps
    panel_h, panel_w = layout.panel
    scene = PairScene(a.motion, b.motion, alignment, cameras(view, a.motion, max(a.motion.height_m, b.motion.height_m)),
                      panel_h, panel_w, anchor)
    title = Title(width, layout.title, a, b, notes)
    extra = kinetics_rows(kinetics)
    panel = curves(layout, times, shown, a_deg, b_deg, a.name, b.name, events, foot, extra)
    extra_dots = [(len(shown) + r, values, _rgb(colour)) for r, row in enumerate(extra) for values, colour, _, _ in row.lines]
    a_rgb, b_rgb = _rgb(A_COLOUR), _rgb(B_COLOUR)
    tags = panel_tags(layout, view)
    margin = max(2, width // 200)
    key_indices = set(np.linspace(0, n_frames - 1, N_KEY_FRAMES).round().astype(int).tolist())
    key_panel = 1 if view != "all" else 0
    key_frames: list[tuple[float, np.ndarray]] = []
    time_a, time_b = a.source_time_s(alignment.a_frames), b.source_time_s(alignment.b_frames)
    footage = any(m.kind == "capture" and is_video_path(m.path) for m in (a, b))
    frame = np.empty((layout.height, width, 3), dtype=np.uint8)
    try:
        with Mp4Writer(target, fps, explicit=True) as video:
            for k in range(n_frames):
                panels = scene.render(k)
                if footage:  # a side read from a video shows the athlete's own frames (sportsim.pose.footage)
                    show_footage(panels, a, b, float(time_a[k]), float(time_b[k]), view)
                if k in key_indices:
                    key_frames.append((float(times[k]), panels[key_panel].copy()))
                frame[:layout.title] = title.render(float(time_a[k]), float(time_b[k]))
                for p, (image, tag) in enumerate(zip(panels, tags)):
                    paste(image, tag, margin, margin)
                    frame[layout.title:layout.title + panel_h, p * panel_w:(p + 1) * panel_w] = image
                frame[layout.title:layout.title + panel_h, panel_w - 1:panel_w + 1] = 255
                frame[layout.title:layout.title + panel_h, 2 * panel_w - 1:2 * panel_w + 1] = 255
                dots = [(i, float(a_deg[k, i]), a_rgb) for i in range(len(shown))]
                dots += [(i, float(b_deg[k, i]), b_rgb) for i in range(len(shown))]
                dots += [(i, float(values[k]), rgb) for i, values, rgb in extra_dots]
                frame[layout.title + panel_h:] = panel.render(float(times[k]), dots)
                video.append(frame)
    finally:
        scene.close()
    assert video.path is not None
    return Recording(video.path, n_frames, width, layout.height, fps), key_frames


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
