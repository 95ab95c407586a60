"""A policy compared with its own reference clip (sportsim.compare, align=auto): paired by the policy's
phase, not time-warped; what is left out is stated, and the video, the summary and the terminal give the
same start times. The zoo's CMU walk policy against the shipped CMU walk is the issue's target: mean
knee and hip differences within 2 deg of the joint-angle error ``enjoy`` reports for it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sportsim.coach import video as coach_video
from sportsim.coach.align import Coverage, by_policy_phase
from sportsim.coach.angles import motion_angles
from sportsim.coach.rollout import ClipPhase
from sportsim.compare import compare, load_movement, main
from sportsim.errors import ConfigError
from sportsim.paths import resource_dir

WALK = resource_dir("mocap") / "cmu_02_01_walk.bvh"
ZOO_WALK = "imitation/walk/ppo"


# ---- the pairing and the statements, on made-up clocks ------------------------------------------------------
def test_a_looped_clip_is_paired_over_whole_cycles() -> None:
    """A 10-frame cycle starting at clip frame 30 (1.0 s on a clip whose excerpt starts at 0 s), a
    policy of 35 frames: 3 whole cycles (30 frames) are kept, clip frames 30..39 three times."""
    clip_times = (30 + np.arange(35) % 10) / 30.0
    result = by_policy_phase(clip_times, 0.0, 86, 30.0, 10 / 30.0, True, (1.0, 40 / 30.0))
    assert result.method == "policy" and result.n_frames == 30
    assert np.array_equal(result.a_frames, np.arange(30))
    assert np.array_equal(result.b_frames, np.tile(np.arange(30, 40), 3))
    assert "cycle 1.00-1.33 s, 3 whole cycles" in result.description
    swapped = by_policy_phase(clip_times, 0.0, 86, 30.0, 10 / 30.0, False, (1.0, 40 / 30.0))
    assert np.array_equal(swapped.a_frames, result.b_frames) and np.array_equal(swapped.b_frames, result.a_frames)
    cover = Coverage.of("B", result.b_frames / 30.0, (0.0, 85 / 30.0), 30.0)
    assert cover.repeats == 3 and cover.text() == "B 1.00-1.30 s x3 of 0.00-2.83 s (left out 0.00-1.00 s, 1.30-2.83 s)"
    with pytest.raises(ConfigError, match=r"lacks part of what the policy imitated \(1.00-1.30 s\)"):
        by_policy_phase(clip_times, 1.1, 40, 30.0, 10 / 30.0, True, (1.0, 40 / 30.0))


def test_the_env_reference_is_found_frame_by_frame_in_the_clip() -> None:
    """ClipPhase.clip_frames on a made-up reference: the clip's frames 5..9 looped twice, then held."""
    motion = load_movement("b", WALK).motion
    steps = np.concatenate([np.arange(5, 10), np.arange(5, 10), [9, 9]])
    phase = ClipPhase(WALK, hz=30.0, cyclic=True, period=5, qpos=motion.qpos[steps])
    frames, worst = phase.clip_frames(motion, np.arange(len(steps)) / 30.0)
    assert np.array_equal(frames, steps) and worst == pytest.approx(0.0, abs=1e-6)


def test_coverage_of_a_whole_source_says_so() -> None:
    cover = Coverage.of("A", np.arange(31) / 30.0, (0.0, 1.0), 30.0)
    assert cover.left_out() == [] and cover.text() == "A 0.00-1.00 s of 0.00-1.00 s (all of it)"


# ---- the zoo walk: the target --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def enjoy_angle_error_deg() -> float:
    """``python -m sportsim.enjoy env=imitation``'s joint_angle_error_deg_mean for the zoo walk (its
    episodes all start at the clip's first frame and are deterministic: one is all of them)."""
    from sportsim import runs, zoo
    from sportsim.evaluation import EVALUATION_SEED, evaluate_policy

    entry = next(e for e in zoo.load_manifest() if e.name == ZOO_WALK)
    loaded = runs.open_policy(zoo.locate(entry), "cpu")
    try:
        return float(evaluate_policy(loaded, 1, EVALUATION_SEED, True)["joint_angle_error_deg_mean"])
    finally:
        loaded.close()


def test_the_zoo_walk_against_its_clip_tells_the_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        enjoy_angle_error_deg: float) -> None:
    clocks: list[tuple[float, float]] = []
    render = coach_video.Title.render
    monkeypatch.setattr(coach_video.Title, "render", lambda self, ta, tb: clocks.append((ta, tb)) or render(self, ta, tb))
    headers: list[tuple[str, ...]] = []
    from sportsim import compare as compare_module
    sheet = compare_module.write_sheet
    monkeypatch.setattr(compare_module, "write_sheet", lambda path, header, *args: headers.append(tuple(header))
                        or sheet(path, header, *args))
    assert main([f"a={ZOO_WALK}", f"b={WALK}", f"out={tmp_path / 'walk'}", "width=240"]) == 0
    stdout = capsys.readouterr().out

    # paired by phase over the policy's whole cycles: the first frames are the same pose
    assert "paired by the policy's phase" in stdout and "whole cycles" in stdout
    differences = {}
    for line in (tmp_path / "walk" / "joint_differences.csv").read_text().splitlines()[1:]:
        joint, mean, *_ = line.split(",")
        differences[joint] = float(mean)
    for joint in ("left_knee", "right_knee", "left_hip", "right_hip"):
        assert abs(differences[joint] - enjoy_angle_error_deg) <= 2.0, (joint, differences[joint], enjoy_angle_error_deg)

    # the same statements and start times in the terminal, the summary and the video
    stated = re.findall(r"compared: ([AB]) (\d+\.\d\d)-(\d+\.\d\d) s", stdout)
    assert [s[0] for s in stated] == ["A", "B"]
    (header,) = headers
    assert [line for line in header[2:]] == [line.removeprefix("sportsim: ") for line in stdout.splitlines()[1:4]]
    first_a, first_b = clocks[0]
    assert f"{first_a:.2f}" == stated[0][1] == "0.00" and f"{first_b:.2f}" == stated[1][1]
    frames = (tmp_path / "walk" / "frames.csv").read_text().splitlines()
    assert len(clocks) == len(frames) - 1
    # the policy side's kinetics: per frame in frames.csv, peaks in the terminal
    columns = frames[0].split(",")
    assert "a_right_vertical_grf_bw" in columns and "a_right_knee_moment_nm_per_kg" in columns
    assert not any(c.startswith("b_") and c.endswith(("_bw", "_per_kg")) for c in columns)
    assert "A kinetics (filtered at 15 Hz): right vertical GRF (BW)" in stdout
    # the policy's feet (simulated contacts) land when the clip's do (foot height): within 3 frames
    import csv
    with (tmp_path / "walk" / "events.csv").open(newline="") as f:
        strikes = [row for row in csv.DictReader(f) if row["event"] == "foot strike"]
    paired = [float(row["timing_b_minus_a_s"]) for row in strikes if row["timing_b_minus_a_s"]]
    assert len(paired) >= 16 and max(abs(t) for t in paired) <= 0.1 + 1e-9


def test_a_tiny_policy_is_paired_with_its_clip_from_the_same_pose(tmp_path: Path) -> None:
    """Frame 0 of the rollout is the reference pose of the clip frame it is paired with."""
    result = compare(ZOO_WALK, WALK, out=tmp_path / "short", width=240, seconds=1.0)
    assert result.alignment.method == "policy"
    a0 = motion_angles(result.a.motion).degrees[0]
    b_frame = int(result.alignment.b_frames[0])
    assert b_frame == result.alignment.b_frames[0]
    assert np.abs(motion_angles(result.b.motion).degrees[b_frame] - a0).max() < 0.5
    assert result.coverage[0].text().startswith("A 0.00-")
