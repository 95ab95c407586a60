"""A real Xsens MVNX version 3 file (MVN Studio 3.1.5, 2012) reads, and its forward kinematics give the
positions it recorded (issue 14).

The files (two 10-frame takes of a seated person, 60 Hz) live outside the repository in
shared/mocap/corpus/mvnx3 (its SOURCES.md: repository, commit, licence, SHA-256); tests skip, saying
so, where it is absent. What they taught the reader: version 3 writes ``npose`` calibration frames,
and its arm segments' points are in another frame than their orientations (elbows and hands 90 deg off
until the offsets are measured in the motion).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sportsim.mocap import load_clip
from sportsim.mocap.retarget import retarget
from sportsim.mocap.validate import validate

FOLDER = Path(__file__).resolve().parents[2] / "shared" / "mocap" / "corpus" / "mvnx3"
FILES = sorted(FOLDER.glob("*.mvnx"))
FK_TOL_M = 0.005  # forward kinematics from the read offsets and rotations vs the file's recorded positions


@pytest.mark.parametrize("path", FILES or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"no real MVNX version 3 files under {FOLDER}"))], ids=lambda p: p.name if p else "none")
def test_real_mvnx_version_3_reads_and_matches_its_recorded_positions(path: Path) -> None:
    clip = load_clip(path)
    assert clip.meta["mvnx_version"] == "3" and clip.meta["calibration_frames_skipped"] == "2"  # npose, tpose
    assert (clip.n_frames, clip.fps, clip.skeleton, clip.n_joints) == (10, 60.0, "xsens_mvn", 23)
    assert clip.contacts is None  # version 3 has no foot contacts
    error = np.linalg.norm(clip.world_positions() - clip.recorded_positions_m, axis=-1)
    assert float(error.max()) < FK_TOL_M
    remeasured = clip.meta["offsets_from_positions"]
    assert all(f"{side}{segment} (" in remeasured for side in ("Left", "Right") for segment in ("ForeArm", "Hand"))
    assert "UpperLeg" not in remeasured and "Foot" not in remeasured  # only the arms disagree

    report = validate(clip, motion=retarget(clip, plant_feet=True, anatomical_ranges=True))
    assert not [r for r in report.errors], report.table()
