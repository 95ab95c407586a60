"""The two CMU walks shipped in mocap/: subject 02 (the zoo walk's clip) and subject 06 (issue 15's knee
question). Pinned on the retarget the Imitation envs use (planted feet, anatomical ranges, smoothed root):
both validate without errors, and subject 06's stance knees flex ~9 deg less than subject 02's - the reason
06_01 is shipped: to see whether a less crouched capture lowers the walk's knee moment (it did not:
training/imitation_v9_cmu06_walk_ppo, 1.76 N m/kg with the peak in late stance)."""

from __future__ import annotations

import numpy as np
import pytest

from sportsim.mocap import load_clip
from sportsim.mocap.retarget import retarget
from sportsim.mocap.validate import validate
from sportsim.paths import resource_dir

MOCAP = resource_dir("mocap")


@pytest.fixture(scope="module")
def walks():
    return {name: retarget(load_clip(MOCAP / f"cmu_{name}_walk.bvh"), plant_feet=True, anatomical_ranges=True,
                           smooth_root=True) for name in ("02_01", "06_01")}


def _knees(motion, key="stance_knee_flexion_deg") -> list[float]:
    return [float(v) for v in motion.meta[key].split()]


def test_both_walks_validate_without_errors(walks) -> None:
    for name, motion in walks.items():
        report = validate(load_clip(MOCAP / f"cmu_{name}_walk.bvh"), motion)
        errors = [row for row in report.rows if row.status == "error"]
        assert not errors, (name, errors)


def test_subject_06_walks_with_straighter_stance_knees_than_subject_02(walks) -> None:
    """Median stance knee flexion per foot (right, left), measured 2026-12-07: 02_01 32.4 / 32.3 deg
    (source 27.8 / 28.5), 06_01 23.1 / 23.9 (source 23.0 / 22.0). Bands +-2.5 deg around them."""
    knee_02, knee_06 = _knees(walks["02_01"]), _knees(walks["06_01"])
    assert all(29.9 < k < 34.9 for k in knee_02), knee_02
    assert all(20.6 < k < 26.4 for k in knee_06), knee_06
    assert min(knee_02) - max(knee_06) > 6.0
    assert all(20.0 < k < 25.0 for k in _knees(walks["06_01"], "source_stance_knee_flexion_deg"))


def test_subject_06_walks_straight_at_about_one_metre_per_second(walks) -> None:
    motion = walks["06_01"]
    xy = motion.qpos[:, :2]
    seconds = (len(xy) - 1) / motion.fps
    speed = np.linalg.norm(xy[-1] - xy[0]) / seconds
    assert 0.9 < speed < 1.15, speed
    path = xy - xy[0]
    direction = (xy[-1] - xy[0]) / np.linalg.norm(xy[-1] - xy[0])
    lateral = np.abs(path[:, 0] * direction[1] - path[:, 1] * direction[0])
    assert lateral.max() < 0.15, lateral.max()  # metres off the straight line from start to end
