"""From a phone video to a capture: pose estimation as an input (``pip install "sportsim[video]"``).

    video (MP4/MOV/AVI) or image folder --reader--> Landmarks (MediaPipe Pose, per frame, gaps = NaN)
        --skeleton--> Clip (Z-up metres, constant bones, root estimated, foot contacts) --> retarget ...

:func:`read_video_clip` is what :func:`sportsim.mocap.load_clip` calls for a video, so ``python -m
sportsim.mocap info|convert``, ``replay``, ``compare`` and ``train env.motion=`` all take one.
:func:`video_report` gives the lines ``info`` adds (visibility, gaps, jitter, bone-length spread, what is
estimated); :mod:`sportsim.pose.footage` draws the athlete's own frames for ``compare``.

One person per video (``person=(x, y)`` picks the one at that spot); static camera assumed.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from sportsim.mocap.clip import Clip
from sportsim.pose.reader import Landmarks, is_video_path, read_landmarks
from sportsim.pose.skeleton import DEFAULT_CUTOFF_HZ, DEFAULT_FOV_DEG, VideoFit, landmarks_to_clip


def read_video_clip(path: str | os.PathLike[str], *, person: tuple[float, float] | None = None,
                    fps: float | None = None, cutoff_hz: float = DEFAULT_CUTOFF_HZ,
                    fov_deg: float = DEFAULT_FOV_DEG, progress: bool | None = None, mapping: object = None) -> Clip:
    """The :class:`Clip` of the person in a video or image folder (see :mod:`sportsim.pose.skeleton`).
    ``mapping`` (a skeleton map, which the loaders hand every reader) is not used: the clip's skeleton is
    sportsim's own ``mediapipe_pose`` layout."""
    return video_fit(path, person=person, fps=fps, cutoff_hz=cutoff_hz, fov_deg=fov_deg, progress=progress)[1]


def video_fit(path: str | os.PathLike[str], *, person: tuple[float, float] | None = None, fps: float | None = None,
              cutoff_hz: float = DEFAULT_CUTOFF_HZ, fov_deg: float = DEFAULT_FOV_DEG,
              progress: bool | None = None) -> tuple[Landmarks, Clip, VideoFit]:
    """Landmarks, clip and fit figures of a video; pose estimation runs once per file version and
    settings in a process (``info``, ``compare`` and the footage panel share it)."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns, path.stat().st_size
    except OSError:
        stamp = (0, 0)  # the reader reports the missing file
    person = None if person is None else (float(person[0]), float(person[1]))
    key = (str(path), stamp, person, fps, float(cutoff_hz), float(fov_deg))  # progress changes nothing
    if key not in _CACHE:
        marks = read_landmarks(path, person=person, fps=fps, progress=progress)
        clip, fit = landmarks_to_clip(marks, cutoff_hz=cutoff_hz, fov_deg=fov_deg)
        clip = dataclasses.replace(clip, meta={**clip.meta, "video_report": "\n".join(video_report(marks, fit))})
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))  # the oldest entry
        _CACHE[key] = (marks, clip, fit)
    return _CACHE[key]


_CACHE: dict[tuple, tuple[Landmarks, Clip, VideoFit]] = {}
_CACHE_SIZE = 4


def video_report(marks: Landmarks, fit: VideoFit) -> list[str]:
    """The lines ``python -m sportsim.mocap info <video>`` adds to its summary."""
    spread = ", ".join(f"{bone} {pct:.1f} %" for bone, pct in fit.bone_spread_pct.items())
    found = int(marks.found.sum())
    rows = [("video", f"{marks.width_px}x{marks.height_px} px, {marks.n_frames} frames at {marks.fps:g} Hz; "
                      f"person found in {found} ({100.0 * found / marks.n_frames:.0f} %), clip from frame "
                      f"{fit.first_frame}, {fit.n_frames} frames"),
            ("visible", f"mean MediaPipe visibility of shoulders, hips, knees, ankles {fit.visibility:.2f}"),
            ("gaps", f"{fit.gaps} inside the clip ({fit.gap_frames} frames, longest {fit.longest_gap_s:.2f} s), "
                     "filled linearly"),
            ("jitter", f"mean joint acceleration {fit.jitter_raw_mps2 * 1000:.0f} mm/s^2 raw, "
                       f"{fit.jitter_mps2 * 1000:.0f} mm/s^2 after the {fit.cutoff_hz:g} Hz low-pass"),
            ("bones", f"length spread (sd/mean, raw landmarks): {spread}; made constant (medians)"),
            ("estimated", f"root path (static level camera, {fit.fov_deg:g} deg diagonal field of view, stance feet "
                          f"held; stance in {100 * fit.stance_fraction:.0f} % of frames), scale (MediaPipe's body "
                          "size; --height rescales)")]
    return [f"{key:<10}{value}" for key, value in rows]


__all__ = ["Landmarks", "VideoFit", "is_video_path", "read_landmarks", "read_video_clip", "video_fit", "video_report"]
