"""How good is a capture from one phone video? Consistency figures of the video path (sportsim.pose).

No public video with simultaneous marker motion capture of the same movement was found small and
licensed for this repository (tests/data/video/SOURCES.md), so the issue's accuracy target (knee and
hip flexion within 8 deg of a simultaneous capture) cannot be checked here. What is measured instead,
on real videos, with the humanoid's joint angles that ``compare`` shows (:mod:`sportsim.coach.angles`,
after retargeting):

* **two views of one movement** (Pose2Sim's one-leg balance, filmed at the same time by two lab
  cameras from two sides, 60 fps, 1.7 s): mean absolute difference between the two videos' angles,
  at the time shift (within +-10 frames) that fits best. Measured 2026-12-06: knee 10.8 / 13.9 deg
  (left / right), hip 19.5 / 26.2 deg, elbow 5.3 / 24.8 deg, best shift -10 frames (at 0: knee
  15.2 / 16.0, hip 18.5 / 23.7). Monocular depth is the weak part: each view alone is better than
  this disagreement only if the errors do not add up, so read it as an upper bound on neither;
* **left/right symmetry in gait** (the Sports2D walk, side view): peak knee flexion (95th percentile)
  of the near leg 52 deg and of the far, partly hidden leg 74 deg - a healthy walk peaks at about
  60-65 deg on both sides (Winter 2009, gait data), so one video from the side measures the far leg
  worst;
* **bone-length spread** of MediaPipe's raw landmarks (a real bone has one length): thigh 4.5-8.8 %,
  shank 4.7-7.2 %, upper arm 5.4-8.6 %, forearm 9.9-13.2 % (the clip makes them constant);
* **jitter** (mean hip-relative joint acceleration): the 6 Hz low-pass removes 60-90 % of it;
* **the estimated path** of the walk: about 5.5 m across the picture in 5.1 s (1.1 m/s, a walking speed),
  a foot on the ground in most frames.

The asserts pin these figures with a margin, so a change that makes the video path worse fails here.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import video_test_data

DATA = video_test_data()  # skips this module, saying why, without the extra or the videos


from sportsim.coach.angles import motion_angles  # noqa: E402
from sportsim.mocap.retarget import retarget  # noqa: E402
from sportsim.pose import video_fit  # noqa: E402

MAX_SHIFT_FRAMES = 10


@pytest.fixture(scope="module")
def two_views():
    out = []
    for cam in ("cam01", "cam03"):
        _, clip, fit = video_fit(DATA / f"pose2sim_balance_{cam}.mp4", progress=False)
        out.append((motion_angles(retarget(clip)), fit))
    return out


@pytest.fixture(scope="module")
def walk():
    _, clip, fit = video_fit(DATA / "sports2d_walk.mp4", progress=False)
    return motion_angles(retarget(clip)), fit, clip


def _best_shift(a, b, names):
    """(mean |a - b| per name, shift) at the shift within MAX_SHIFT_FRAMES that fits knees and hips best."""
    best = None
    for shift in range(-MAX_SHIFT_FRAMES, MAX_SHIFT_FRAMES + 1):
        diffs = {}
        for name in names:
            x, y = a.series(name), b.series(name)
            x, y = x[max(0, shift):len(x) + min(0, shift)], y[max(0, -shift):len(y) + min(0, -shift)]
            n = min(len(x), len(y))
            diffs[name] = float(np.mean(np.abs(x[:n] - y[:n])))
        score = np.mean([diffs[n] for n in names if "knee" in n or "hip" in n])
        if best is None or score < best[0]:
            best = (score, diffs, shift)
    return best[1], best[2]


def test_two_views_of_one_movement_agree(two_views):
    (a, _), (b, _) = two_views
    names = ("left_knee", "right_knee", "left_hip", "right_hip", "left_elbow", "right_elbow")
    diffs, shift = _best_shift(a, b, names)
    print("two views, mean |difference| (deg):", {k: round(v, 1) for k, v in diffs.items()}, "shift", shift)
    assert max(diffs["left_knee"], diffs["right_knee"]) < 18.0
    assert max(diffs["left_hip"], diffs["right_hip"]) < 32.0
    # the movement itself is seen by both: a one-leg balance bends the knees by 40+ deg in each view
    assert np.ptp(a.series("left_knee")) > 30 and np.ptp(b.series("left_knee")) > 30


def test_gait_symmetry_from_the_side(walk):
    angles = walk[0]
    peaks = {side: float(np.percentile(angles.series(f"{side}_knee"), 95)) for side in ("left", "right")}
    print("walk, knee flexion 95th percentile (deg):", {k: round(v, 1) for k, v in peaks.items()})
    assert all(40.0 < p < 90.0 for p in peaks.values())  # a walk's swing-phase knee, both legs
    assert abs(peaks["left"] - peaks["right"]) < 30.0


def test_bone_spread_and_jitter(two_views, walk):
    fits = [fit for _, fit in two_views] + [walk[1]]
    for fit in fits:
        print("bone spread (%):", {k: round(v, 1) for k, v in fit.bone_spread_pct.items()},
              f"jitter {fit.jitter_raw_mps2:.1f} -> {fit.jitter_mps2:.1f} m/s^2")
        assert fit.bone_spread_pct["thigh"] < 12 and fit.bone_spread_pct["shank"] < 12
        assert fit.bone_spread_pct["upper arm"] < 12 and fit.bone_spread_pct["forearm"] < 18
        assert fit.jitter_mps2 < 0.5 * fit.jitter_raw_mps2


def test_walk_root_moves_with_the_walker(walk):
    _, fit, clip = walk
    # she walks right to left across the picture (camera along +X, +Y to the image's left)
    travel = clip.root_pos_m[-1] - clip.root_pos_m[0]
    speed = np.linalg.norm(travel[:2]) / clip.duration_s
    assert travel[1] > 3.0 and 0.7 < speed < 1.8, (travel, speed)  # a walking speed, not a drift
    assert fit.stance_fraction > 0.6  # walking: a foot is down most of the time
