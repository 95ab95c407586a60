"""Video in, pose landmarks out: MediaPipe Pose (BlazePose GHUM 3D, 33 landmarks) over every frame.

Reads MP4/MOV/AVI (and other containers OpenCV's FFmpeg build decodes) or a folder of numbered images
(PNG/JPEG, sorted by name, ``fps`` given). One person per video: MediaPipe's detector picks the most
confident person in the first frame and its tracker follows them; ``person=(x, y)`` (fractions of the
frame width and height) instead follows the person at that spot, through a crop window that moves
with them. Frames where the person is not found, or where a key landmark (shoulders, hips, knees,
ankles) lies outside the picture, are gaps (NaN), never zeros.

Conventions at this boundary (converted to sportsim's Z-up in :mod:`sportsim.pose.skeleton`):
``world_m`` is MediaPipe's metric estimate, origin between the hips, axes of the camera (x right,
y down, z away from the camera); ``image`` holds pixel coordinates (x right, y down) of the full frame.

Needs the ``video`` extra (``pip install "sportsim[video]"``: mediapipe 0.10.14, whose wheel ships the
pose models, so it runs offline, and OpenCV).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from sportsim.errors import MocapError

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".m4v", ".mkv", ".webm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
LANDMARKS = ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
             "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
             "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
             "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
             "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
             "left_foot_index", "right_foot_index")
LM = {name: i for i, name in enumerate(LANDMARKS)}
KEY_LANDMARKS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee",
                 "left_ankle", "right_ankle")
MIN_KEY_VISIBILITY = 0.3  # a key landmark MediaPipe rates below this (hidden, guessed) makes a gap
EDGE_MARGIN = 0.0  # a key landmark outside the picture by more than this fraction makes a gap
MIN_FOUND_FRACTION = 0.5  # fewer usable frames than this: the video is refused, saying why
MODEL_COMPLEXITY = 1  # "full": the landmark model shipped in the mediapipe wheel (2 = heavy is downloaded)
MIN_DETECTION_CONFIDENCE = 0.5
MIN_TRACKING_CONFIDENCE = 0.5
CROP_MARGIN = 0.6  # person=: the crop window extends the body's box by this fraction on every side


@dataclass(frozen=True, eq=False)
class Landmarks:
    """Per-frame pose landmarks of one person in one video.

    Fields: ``fps`` (Hz, the video's), ``world_m`` (T, 33, 3) metric, hip-centred, camera axes;
    ``image`` (T, 33, 2) pixels of the full frame; ``visibility`` (T, 33) in [0, 1] (MediaPipe's
    visibility score); ``found`` (T,) bool, False = gap (arrays NaN there); ``width_px``/``height_px``;
    ``source``; ``reason`` (T,) str why a frame is a gap ("" where found).
    """

    fps: float
    world_m: np.ndarray
    image: np.ndarray
    visibility: np.ndarray
    found: np.ndarray
    width_px: int
    height_px: int
    source: str
    reason: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="<U16"))

    @property
    def n_frames(self) -> int:
        return int(self.found.shape[0])


def is_video_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a video file or a folder of images (what :func:`read_landmarks` reads)."""
    path = Path(path)
    if path.is_dir():
        return any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir())
    return path.suffix.lower() in VIDEO_SUFFIXES


def require_video_extra(what: str) -> Any:
    """Import mediapipe and OpenCV, or a one-line MocapError naming the extra to install."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ log lines (TFLite delegate notes)
    try:
        import cv2  # noqa: PLC0415 - optional dependency
        import mediapipe  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise MocapError(f"{what}: reading video needs the video extra (mediapipe 0.10.14, OpenCV): "
                         f"pip install \"sportsim[video]\" ({exc})") from exc
    import google.protobuf  # noqa: PLC0415 - mediapipe's dependency

    if int(google.protobuf.__version__.split(".")[0]) >= 5:  # its solutions call APIs protobuf 5+ removed
        raise MocapError(f"{what}: mediapipe 0.10.14 needs protobuf < 5, but protobuf {google.protobuf.__version__} "
                         "is installed (another package upgraded it): pip install \"protobuf>=4.25.3,<5\"")
    return cv2, mediapipe


# ---- frames ------------------------------------------------------------------------------------
def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def video_info(path: Path, fps: float | None = None) -> tuple[float, int, int, int]:
    """(fps, frame count estimate, width, height) of a video file or image folder; MocapError if unreadable."""
    cv2, _ = require_video_extra(str(path))
    if path.is_dir():
        files = image_files(path)
        if not files:
            raise MocapError(f"{path}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        first = cv2.imread(str(files[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise MocapError(f"{files[0]}: not a readable image")
        return float(fps or 30.0), len(files), first.shape[1], first.shape[0]
    if not path.is_file():
        raise MocapError(f"{path}: no such file")
    with _quiet_native_stderr():  # FFmpeg's own complaint about a broken file ("moov atom not found")
        capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise MocapError(f"{path}: not a readable video (OpenCV/FFmpeg cannot open it)")
        rate = float(fps or capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    if not (np.isfinite(rate) and 0 < rate <= 1000):
        raise MocapError(f"{path}: the video declares no usable frame rate ({rate}); pass fps=")
    if width <= 0 or height <= 0:
        raise MocapError(f"{path}: not a readable video (no frame size)")
    return rate, count, width, height


def iter_frames(path: Path) -> Iterator[np.ndarray]:
    """RGB frames ``(H, W, 3)`` uint8 of a video file or an image folder, in order."""
    cv2, _ = require_video_extra(str(path))
    if path.is_dir():
        for file in image_files(path):
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if image is None:
                raise MocapError(f"{file}: not a readable image")
            yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        return
    capture = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


# ---- pose estimation -----------------------------------------------------------------------------
def read_landmarks(path: str | os.PathLike[str], *, person: tuple[float, float] | None = None,
                   fps: float | None = None, progress: bool | None = None) -> Landmarks:
    """Run MediaPipe Pose over every frame of ``path`` (module docstring). ``fps`` overrides the rate
    the file declares (needed for image folders: default 30 Hz). ``progress``: a tqdm bar on stderr
    (default: when stderr is a terminal). MocapError (one line) for an unreadable or empty video, one
    with nobody in it, or one where the person is cut off by the frame edge in most frames."""
    path = Path(path)
    _, mediapipe = require_video_extra(str(path))
    rate, count, width, height = video_info(path, fps)
    if person is not None and not all(0.0 <= float(v) <= 1.0 for v in person):
        raise MocapError(f"{path}: person={person}: give the person's position as fractions (x, y) of the "
                         "frame width and height, each in [0, 1]")
    show = sys.stderr.isatty() if progress is None else progress
    with warnings.catch_warnings():  # mediapipe 0.10.14 calls a protobuf API that warns on every frame
        warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
        world, image, vis, reason = _run(path, mediapipe, width, height, count, person, show)
    if not world:
        raise MocapError(f"{path}: no frames (an empty or corrupt video)")
    found = np.array([r == "" for r in reason])
    marks = Landmarks(fps=rate, world_m=np.array(world), image=np.array(image), visibility=np.array(vis),
                      found=found, width_px=width, height_px=height, source=str(path),
                      reason=np.array(reason, dtype="<U16"))
    check_usable(marks)
    return marks


def _run(path: Path, mediapipe: Any, width: int, height: int, count: int, person: tuple[float, float] | None,
         show: bool) -> tuple[list, list, list, list]:
    """MediaPipe Pose over every frame: per-frame world, image, visibility and gap reason."""
    window = None if person is None else _window_at(person, width, height)
    with _quiet_native_stderr() as progress_file:  # TFLite/absl notes, written by C++ threads to descriptor 2
        return _frames_to_landmarks(path, mediapipe, width, height, count, window, show, progress_file)


def _frames_to_landmarks(path: Path, mediapipe: Any, width: int, height: int, count: int,
                         window: tuple[int, int, int, int] | None, show: bool, progress_file: Any
                         ) -> tuple[list, list, list, list]:
    from tqdm import tqdm  # noqa: PLC0415

    world: list = []
    image: list = []
    vis: list = []
    reason: list = []
    pose = mediapipe.solutions.pose.Pose(static_image_mode=False, model_complexity=MODEL_COMPLEXITY,
                                         smooth_landmarks=False, enable_segmentation=False,
                                         min_detection_confidence=MIN_DETECTION_CONFIDENCE,
                                         min_tracking_confidence=MIN_TRACKING_CONFIDENCE)
    try:
        with tqdm(total=count or None, desc=f"pose {path.name}", unit="frame", disable=not show, leave=False,
                  file=progress_file) as bar:
            for frame in iter_frames(path):
                if frame.shape[:2] != (height, width):
                    raise MocapError(f"{path}: frame {len(world)} is {frame.shape[1]}x{frame.shape[0]}, "
                                     f"the first is {width}x{height}")
                w, im, v, why = _estimate(pose, frame, window)
                if window is not None and why == "":
                    window = _follow(im, width, height)
                world.append(w), image.append(im), vis.append(v), reason.append(why)
                bar.update(1)
    except MocapError:
        raise
    except Exception as exc:  # a decoder failure mid-file surfaces as cv2.error or similar
        raise MocapError(f"{path}: video unreadable at frame {len(world)}: {type(exc).__name__}: {exc}") from exc
    finally:
        pose.close()
    return world, image, vis, reason


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[Any]:
    """Send file descriptor 2 to /dev/null for the block (native libraries' log lines), then restore it;
    yields a text file on the original stderr (for the progress bar)."""
    sys.stderr.flush()
    saved = os.dup(2)
    original = os.fdopen(os.dup(saved), "w")
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield original
    finally:
        original.close()
        os.dup2(saved, 2)
        os.close(saved)


def check_usable(marks: Landmarks) -> None:
    """One-line MocapError when too few frames hold the whole person (nobody; cut off at the edge)."""
    n = marks.n_frames
    kinds = {r: int(np.sum(marks.reason == r)) for r in set(marks.reason.tolist()) if r}
    if marks.found.sum() >= MIN_FOUND_FRACTION * n:
        return
    if kinds.get("no person", 0) == n:
        raise MocapError(f"{marks.source}: nobody found in any of its {n} frames")
    edge = sum(v for k, v in kinds.items() if k.startswith("edge"))
    if edge >= max(kinds.values()):
        worst = max((k for k in kinds if k.startswith("edge")), key=kinds.get)
        raise MocapError(f"{marks.source}: the person is cut off at the frame edge in {edge} of {n} frames "
                         f"({worst.removeprefix('edge ')} outside the picture); film the whole body")
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items()))
    raise MocapError(f"{marks.source}: the whole person is visible in only {int(marks.found.sum())} of {n} frames "
                     f"(needs {MIN_FOUND_FRACTION:.0%}; {detail})")


def _estimate(pose: Any, frame: np.ndarray, window: tuple[int, int, int, int] | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    nan3, nan2, zero = np.full((33, 3), np.nan), np.full((33, 2), np.nan), np.zeros(33)
    height, width = frame.shape[:2]
    x0, y0, x1, y1 = window if window is not None else (0, 0, width, height)
    result = pose.process(np.ascontiguousarray(frame[y0:y1, x0:x1]))
    if result.pose_landmarks is None or result.pose_world_landmarks is None:
        return nan3, nan2, zero, "no person"
    lms = result.pose_landmarks.landmark
    image = np.array([[x0 + lm.x * (x1 - x0), y0 + lm.y * (y1 - y0)] for lm in lms])
    visibility = np.array([lm.visibility for lm in lms])
    world = np.array([[lm.x, lm.y, lm.z] for lm in result.pose_world_landmarks.landmark])
    for name in KEY_LANDMARKS:
        x, y = image[LM[name]]
        margin_x, margin_y = EDGE_MARGIN * width, EDGE_MARGIN * height
        if not (-margin_x <= x <= width + margin_x and -margin_y <= y <= height + margin_y):
            return nan3, image, visibility, f"edge {name}"
    hidden = [n for n in KEY_LANDMARKS if visibility[LM[n]] < MIN_KEY_VISIBILITY]
    if hidden:
        return nan3, image, visibility, f"hidden {hidden[0]}"
    return world, image, visibility, ""


def _window_at(person: tuple[float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """First crop window for person=: a box a third of the frame around the given spot."""
    cx, cy = person[0] * width, person[1] * height
    half = max(width, height) / 6
    return _clamp(cx - half, cy - 2 * half, cx + half, cy + 2 * half, width, height)


def _follow(image: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """Crop window around the body's box in this frame, grown by CROP_MARGIN on every side."""
    x0, y0 = np.nanmin(image, axis=0)
    x1, y1 = np.nanmax(image, axis=0)
    mx, my = CROP_MARGIN * (x1 - x0 + 1), CROP_MARGIN * (y1 - y0 + 1)
    return _clamp(x0 - mx, y0 - my, x1 + mx, y1 + my, width, height)


def _clamp(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    if x1 - x0 < 32 or y1 - y0 < 32:
        return 0, 0, width, height
    return x0, y0, x1, y1
