"""Speed of the video path: a 10 s, 30 fps, 720p phone-style video to a reference motion.

    python scripts/bench_video_pose.py [--video my.mp4] [--rounds 2]

Without ``--video`` the test clip ``../shared/video/sports2d_walk.mp4`` (a woman walking, side view)
is made into 1280x720 (scaled to the width, letterboxed) and played forwards then backwards to 300
frames, 10 s at 30 fps (written to a temporary folder, deleted afterwards). Measured, each the median
of ``--rounds`` rounds:

* the pose stage (:func:`sportsim.pose.read_landmarks`: decode + MediaPipe Pose per frame), in frames/s,
  side by side with its peer, a bare loop of OpenCV decoding and MediaPipe's ``solutions.pose`` with
  the same settings (the ratio is sportsim's overhead), and with decoding alone;
* the whole conversion, ``python -m sportsim.mocap convert <video> out.npz`` in process (pose, clip,
  retargeting, validation, writing), in seconds. The target: <= 30 s on the 2-core machine.

Needs the video extra. Run it with ``nice`` on a shared machine and say how loaded it was.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "video" / "sports2d_walk.mp4"  # tests/data/video/SOURCES.md


def make_phone_video(path: Path) -> Path:
    """300 frames of 1280x720 at 30 fps from the test walk (scaled, letterboxed, forwards then backwards)."""
    import cv2
    import imageio.v2 as imageio

    from sportsim.pose.reader import iter_frames

    frames = []
    for frame in iter_frames(SOURCE):
        height = int(round(frame.shape[0] * 1280 / frame.shape[1]))
        canvas = np.zeros((720, 1280, 3), np.uint8)
        top = (720 - height) // 2
        canvas[top:top + height] = cv2.resize(frame, (1280, height), interpolation=cv2.INTER_AREA)
        frames.append(canvas)
    sequence = (frames + frames[::-1]) * 2
    with imageio.get_writer(path, fps=30, codec="libx264", macro_block_size=2, quality=7) as writer:
        for frame in sequence[:300]:
            writer.append_data(frame)
    return path


def bare_mediapipe(path: Path) -> int:
    """The peer: OpenCV decoding and MediaPipe Pose, nothing else."""
    import cv2
    import mediapipe

    capture = cv2.VideoCapture(str(path))
    n = 0
    with mediapipe.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=False) as pose:
        while True:
            ok, image = capture.read()
            if not ok:
                break
            pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            n += 1
    capture.release()
    return n


def decode_only(path: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(path))
    n = 0
    while capture.read()[0]:
        n += 1
    capture.release()
    return n


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, help="a video to measure instead of the 10 s 720p test video")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from sportsim.mocap.__main__ import main as mocap_main
    from sportsim.pose import _CACHE, read_landmarks
    from sportsim.pose.reader import video_info

    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or make_phone_video(Path(tmp) / "phone_720p_10s.mp4")
        fps, count, width, height = video_info(video)
        print(f"video: {video.name}, {width}x{height}, {count} frames at {fps:g} fps ({count / fps:.1f} s); "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        rows = {"decode only (OpenCV)": [], "bare MediaPipe (peer)": [], "sportsim read_landmarks": [],
                "sportsim convert (s)": []}
        for r in range(args.rounds):  # alternate, so a load change hits all alike
            rows["decode only (OpenCV)"].append(count / timed(decode_only, video)[0])
            rows["bare MediaPipe (peer)"].append(count / timed(bare_mediapipe, video)[0])
            rows["sportsim read_landmarks"].append(count / timed(lambda: read_landmarks(video, progress=False))[0])
            _CACHE.clear()
            out = Path(tmp) / f"out{r}.npz"
            with contextlib.redirect_stdout(io.StringIO()):  # the validation table
                seconds, _ = timed(mocap_main, ["convert", str(video), str(out), "--force"])
            rows["sportsim convert (s)"].append(seconds)
        print(f"{'stage':<26}{'median':>10}  rounds")
        for name, values in rows.items():
            unit = "s" if name.endswith("(s)") else "fps"
            print(f"{name:<26}{statistics.median(values):>9.1f} {unit}  {', '.join(f'{v:.1f}' for v in values)}")
        pose_fps = statistics.median(rows["sportsim read_landmarks"])
        print(f"pose stage: {pose_fps:.1f} frames/s = {pose_fps / fps:.2f} x real time; "
              f"{pose_fps / statistics.median(rows['bare MediaPipe (peer)']):.2f} x the bare MediaPipe loop")
        total = statistics.median(rows["sportsim convert (s)"])
        print(f"convert: {total:.1f} s for {count / fps:.1f} s of video (target <= 30 s): "
              f"{'met' if total <= 30 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
