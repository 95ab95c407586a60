"""The athlete's own footage for the coach views: the video's frames cropped to the athlete, with the
pose landmarks drawn, on the clip's clock.

    footage = Footage.of(path)                 # None unless ``path`` is a video or image folder
    image = footage.frame_at(t_s, 540, 540)    # RGB uint8, t_s on the clip's clock (its frame 0 at 0 s)

The clip made from a video (:func:`sportsim.pose.read_video_clip`) starts at the first frame where the
person is found; ``frame_at`` adds that offset, so a caller that shows clip time ``t`` gets the video
frame filmed at that instant (the nearest one). The crop follows the athlete's box, smoothed below
0.5 Hz and of one size for the whole clip (the biggest box plus a margin, shaped like the panel), so
the view neither jitters nor zooms. The skeleton is drawn from the filtered image landmarks (what the
clip was made from): the athlete's left side blue, right side red, as in ``replay``; frames where the
person was not found show the picture with the interpolated skeleton in grey.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from sportsim.pose.filters import fill_gaps, lowpass
from sportsim.pose.reader import LANDMARKS, Landmarks, is_video_path, iter_frames, require_video_extra

CROP_MARGIN = 0.15  # around the biggest box of the athlete, on every side
CROP_SMOOTH_HZ = 0.5
LEFT_RGB, RIGHT_RGB, MID_RGB, GAP_RGB = (40, 110, 230), (220, 50, 50), (250, 250, 250), (160, 160, 160)
_BONES = (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
          ("right_shoulder", "right_hip"), ("nose", "left_ear"), ("nose", "right_ear"))
_LIMBS = (("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "index"), ("hip", "knee"), ("knee", "ankle"),
          ("ankle", "heel"), ("heel", "foot_index"), ("ankle", "foot_index"))


@dataclass
class Footage:
    """Frames of one video on its clip's clock (module docstring). Build with :meth:`of`."""

    path: Path
    marks: Landmarks
    first_frame: int
    image: np.ndarray  # (T, 33, 2) filtered, gap-filled image landmarks over the clip's frames
    found: np.ndarray  # (T,) over the clip's frames
    centre: np.ndarray  # (T, 2) crop centre, px
    box: tuple[float, float]  # biggest athlete box (width, height), px
    _state: list | None = field(default=None, repr=False)  # [index, frame, frame iterator] of the decoder

    @classmethod
    def of(cls, path: str | os.PathLike[str], **video_options: Any) -> "Footage | None":
        """The footage of a video or image folder (the clip's own settings: ``person=``, ``fps=``, ...),
        or None for any other file (a capture, a policy)."""
        if not is_video_path(path):
            return None
        from sportsim.pose import video_fit  # noqa: PLC0415

        marks, clip, fit = video_fit(path, **video_options)
        first, stop = fit.first_frame, fit.first_frame + fit.n_frames
        found = marks.found[first:stop]
        image = lowpass(fill_gaps(marks.image[first:stop], found), marks.fps, fit.cutoff_hz)
        low, high = np.nanmin(image, axis=1), np.nanmax(image, axis=1)
        centre = lowpass(0.5 * (low + high), marks.fps, min(CROP_SMOOTH_HZ, 0.3 * marks.fps))
        size = np.percentile(high - low, 98, axis=0)
        return cls(Path(path), marks, first, image, found, centre, (float(size[0]), float(size[1])))

    @property
    def fps(self) -> float:
        return self.marks.fps

    def frame_index(self, t_s: float) -> int:
        """The clip frame filmed nearest to clip time ``t_s`` (clamped to the clip)."""
        return int(np.clip(round(t_s * self.fps), 0, len(self.found) - 1))

    def frame_at(self, t_s: float, height: int, width: int) -> np.ndarray:
        """``(height, width, 3)`` RGB: the video frame at clip time ``t_s``, cropped to the athlete,
        with the skeleton drawn."""
        cv2, _ = require_video_extra(str(self.path))
        j = self.frame_index(t_s)
        frame = self._decoded(self.first_frame + j)
        x0, y0, scale = self._crop(j, height, width)
        matrix = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
        out = cv2.warpAffine(frame, matrix, (width, height), flags=cv2.INTER_AREA, borderValue=(0, 0, 0))
        points = (self.image[j] - [x0, y0]) * scale
        self._draw(cv2, out, points, bool(self.found[j]), max(2, round(height / 180)))
        return out

    # ---- internals -------------------------------------------------------------------------------
    def _crop(self, j: int, height: int, width: int) -> tuple[float, float, float]:
        """Top-left corner (px of the video) and scale of the crop for clip frame ``j``."""
        box_w, box_h = (1 + 2 * CROP_MARGIN) * self.box[0], (1 + 2 * CROP_MARGIN) * self.box[1]
        scale = min(width / max(box_w, 1.0), height / max(box_h, 1.0))
        crop_w, crop_h = width / scale, height / scale
        cx, cy = self.centre[j]
        spare_w, spare_h = self.marks.width_px - crop_w, self.marks.height_px - crop_h  # < 0: crop wider than frame
        x0 = float(np.clip(cx - crop_w / 2, 0.0, spare_w)) if spare_w >= 0 else spare_w / 2
        y0 = float(np.clip(cy - crop_h / 2, 0.0, spare_h)) if spare_h >= 0 else spare_h / 2
        return x0, y0, scale

    def _decoded(self, index: int) -> np.ndarray:
        """Video frame ``index`` (RGB), decoding forwards from the last one asked for (restarting for an
        earlier one): a comparison asks for frames in time order."""
        state = self._state
        if state is None or index < state[0]:
            state = [-1, None, iter_frames(self.path)]
        frames: Iterator[np.ndarray] = state[2]
        while state[0] < index:
            try:
                state[1] = next(frames)
            except StopIteration:
                break
            state[0] += 1
        self._state = state
        return state[1]

    def _draw(self, cv2: Any, out: np.ndarray, points: np.ndarray, found: bool, thickness: int) -> None:
        def xy(name: str) -> tuple[int, int]:
            x, y = points[LANDMARKS.index(name)]
            return int(round(x)), int(round(y))

        segments = [(a, b, MID_RGB) for a, b in _BONES]
        segments += [(f"{s}_{a}", f"{s}_{b}", LEFT_RGB if s == "left" else RIGHT_RGB)
                     for s in ("left", "right") for a, b in _LIMBS]
        for a, b, colour in segments:
            cv2.line(out, xy(a), xy(b), colour if found else GAP_RGB, thickness, cv2.LINE_AA)
        for name in ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
                     "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"):
            colour = (LEFT_RGB if name.startswith("left") else RIGHT_RGB) if found else GAP_RGB
            cv2.circle(out, xy(name), thickness + 1, colour, -1, cv2.LINE_AA)


# ---- the hook the coach views call ---------------------------------------------------------------------
@lru_cache(maxsize=4)
def _footage_of(path: str, stamp: tuple[int, int]) -> Footage | None:
    return Footage.of(path)


def footage_for(path: str | os.PathLike[str]) -> Footage | None:
    """:meth:`Footage.of` with the default settings, built once per file version in a process."""
    path = Path(path)
    if not is_video_path(path):
        return None
    stat = path.stat()
    return _footage_of(str(path), (stat.st_mtime_ns, stat.st_size))


def show_footage(panels: list[np.ndarray], a: Any, b: Any, time_a_s: float, time_b_s: float, view: str) -> None:
    """In ``compare``'s frame (one view: panels A | A with B as a ghost | B), a side that is a video shows
    the athlete's own frames instead of its humanoid alone, at the same instant (``time_*_s`` on the
    movement's source clock, which for a video is its clip's clock); the ghost panel and the curves stay
    as they are. ``a``/``b``: the movements (anything with a ``path``). The three-view layout is left as
    it is."""
    if view == "all" or len(panels) != 3:
        return
    for index, movement, t_s in ((0, a, time_a_s), (2, b, time_b_s)):
        footage = footage_for(movement.path)
        if footage is not None:
            height, width = panels[index].shape[:2]
            panels[index] = footage.frame_at(t_s, height, width)
