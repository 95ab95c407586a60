"""``python -m sportsim.compare`` and its parts: joint angles against known and independent angles, the
time alignment against known shifts and stretches, the written video/sheet/table, and bad inputs.

Clips: the shipped CMU walk and jumps (mocap/), and files from shared/mocap where a test says so
(skipped when absent). Videos are 324 px wide and a second or less long."""

from __future__ import annotations

import csv
import dataclasses
import math
import re
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
from helpers import env_available

from sportsim import humanoid
from sportsim.cli import run_cli
from sportsim.coach import align, angle_names, joint_angles, motion_angles
from sportsim.coach.angles import GROUPS
from sportsim.coach.report import CSV_COLUMNS, joint_differences, match_turns
from sportsim.compare import FILES, compare, load_movement, main
from sportsim.errors import ConfigError
from sportsim.mocap.retarget import POINT_NAMES, resample
from sportsim.paths import resource_dir

MOCAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "mocap"
needs_data = pytest.mark.skipif(not MOCAP_DIR.is_dir(), reason=f"real capture files not found at {MOCAP_DIR}")
WALK = resource_dir("mocap") / "cmu_02_01_walk.bvh"
JUMPS = resource_dir("mocap") / "cmu_01_01_forward_jumps.bvh"
SMALL = {"width": 324, "seconds": 1.0}  # 324 x 404 px videos, 1 s excerpts


# ---- joint angles --------------------------------------------------------------------------------------
def _points(named: dict[str, tuple[float, float, float]]) -> np.ndarray:
    """A ``(P, 3)`` pose in POINT_NAMES order from a dict (points the angles do not use stay at 0)."""
    out = np.zeros((len(POINT_NAMES), 3))
    for name, xyz in named.items():
        out[POINT_NAMES.index(name)] = xyz
    return out


def test_angles_of_a_hand_built_sitting_pose() -> None:
    """Seated, facing +x: thighs forward (hip 90), shanks down (knee 90), upper arms forward (shoulder 90),
    forearms up (elbow 90), trunk upright (0); then the same pose leaning 30 deg forward about the hips."""
    pose = {"pelvis": (0, 0, 0.5), "neck": (0, 0, 1.1), "head": (0, 0, 1.25)}
    for side, y in (("left", 0.1), ("right", -0.1)):
        pose |= {f"{side}_hip": (0, y, 0.5), f"{side}_knee": (0.45, y, 0.5), f"{side}_ankle": (0.45, y, 0.07),
                 f"{side}_shoulder": (0, 1.8 * y, 1.05), f"{side}_elbow": (0.3, 1.8 * y, 1.05),
                 f"{side}_hand": (0.3, 1.8 * y, 1.33)}
    names = angle_names(GROUPS)
    expected = {"knee": 90.0, "hip": 90.0, "elbow": 90.0, "shoulder": 90.0, "trunk": 0.0}
    got = dict(zip(names, joint_angles(_points(pose))))
    assert got == pytest.approx({n: expected[n.rpartition("_")[2]] for n in names}, abs=1e-9)

    lean = math.radians(30.0)  # turn the upper body about the hip axis (y): trunk and arms lean forward
    turn = np.array([[math.cos(lean), 0, math.sin(lean)], [0, 1, 0], [-math.sin(lean), 0, math.cos(lean)]])
    hip = np.array(pose["pelvis"])
    for name in ("neck", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_hand",
                 "right_hand"):
        pose[name] = tuple(hip + turn @ (np.array(pose[name]) - hip))
    got = dict(zip(names, joint_angles(_points(pose))))
    expected |= {"trunk": 30.0, "hip": 120.0}  # the thigh stays, the trunk came 30 deg closer to it
    assert got == pytest.approx({n: expected[n.rpartition("_")[2]] for n in names}, abs=1e-9)


def test_sagittal_angles_are_continuous_and_excerpts_agree_up_to_whole_turns() -> None:
    """An arm circling forward one and a quarter turns: the shoulder angle is continuous (unwrapped), an
    excerpt reads the same values as the whole up to whole turns, and match_turns removes those."""
    pose = {"pelvis": (0, 0, 1.0), "neck": (0, 0, 1.5), "left_hip": (0, 0.1, 1.0), "right_hip": (0, -0.1, 1.0),
            "left_shoulder": (0, 0.18, 1.45)}
    swing = np.radians(np.linspace(0.0, 450.0, 91))
    frames = np.array([_points(pose | {"left_elbow": (0.3 * math.sin(q), 0.18, 1.45 - 0.3 * math.cos(q))})
                       for q in swing])
    column = angle_names().index("left_shoulder")
    whole = joint_angles(frames)[:, [column]]
    assert np.abs(np.diff(whole[:, 0])).max() < 5.1 and whole[-1, 0] - whole[0, 0] == pytest.approx(450.0)
    assert -180 < np.median(whole) <= 180
    for start, stop in ((0, 40), (20, 91), (45, 91), (70, 91)):
        part = joint_angles(frames[start:stop])[:, [column]]
        turns = (part - whole[start:stop]) / 360.0
        assert turns == pytest.approx(np.round(turns)) and np.ptp(turns) == pytest.approx(0.0)
        assert match_turns(whole[start:stop], part) == pytest.approx(whole[start:stop])


@pytest.mark.parametrize("knee, hip, elbow, shoulder, trunk", [(0, 0, 0, 0, 0), (45, 30, 20, 60, 10),
                                                               (120, 100, 140, 170, -15), (5, -20, 90, -40, 35)])
def test_angles_of_humanoid_poses_built_from_known_joint_rotations(knee, hip, elbow, shoulder, trunk) -> None:
    """The humanoid posed by joint rotations (flexion about -y for hips and shoulders, the knee and elbow
    hinges, the pelvis pitched forward about +y), measured from its forward-kinematics points."""
    def about_y(deg: float) -> np.ndarray:
        return np.array([math.cos(math.radians(deg) / 2), 0.0, math.sin(math.radians(deg) / 2), 0.0])

    local = {f"{side}_{joint}": rotation for side in ("left", "right") for joint, rotation in
             (("hip", about_y(-hip)), ("shoulder", about_y(-shoulder)),
              ("knee", about_y(knee)), ("elbow", about_y(-elbow)))}  # elbows flex about -y
    qpos = humanoid.qpos_from_rotations((0.0, 0.0, 1.0), about_y(trunk), local)
    model = humanoid.build_humanoid_model()
    points = humanoid.kinematic_positions(model, qpos)
    got = dict(zip(angle_names(), joint_angles(np.array([points[n] for n in POINT_NAMES]))))
    expected = {"knee": knee, "hip": hip, "elbow": elbow, "shoulder": shoulder, "trunk": trunk}
    assert got == pytest.approx({n: expected[n.rpartition("_")[2]] for n in got}, abs=1e-6)


def test_knee_and_elbow_angles_equal_the_hinge_angles_of_a_retargeted_clip() -> None:
    """Independent computation: the humanoid's knees and elbows are hinges, so the angle between the two
    bones (from positions) is the magnitude of the hinge angle in qpos, frame by frame."""
    motion = load_movement("a", WALK).motion
    angles = motion_angles(motion, ("knee", "elbow"))
    for name in angles.names:
        hinge = np.degrees(motion.qpos[:, humanoid.qpos_address(name)])
        assert np.abs(angles.series(name) - np.abs(hinge)).max() < 1e-6, name
    assert angles.series("right_knee").max() > 50  # a walk: the swing knee bends well past 50 deg


# ---- alignment ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def walk_deg() -> np.ndarray:
    """Joint angles of the shipped CMU walk at 30 fps (85 frames; the calibration frame dropped)."""
    return motion_angles(load_movement("a", WALK).motion).degrees


@pytest.mark.parametrize("method", ["dtw", "phase"])
@pytest.mark.parametrize("shift", [6, 12])
def test_alignment_recovers_a_known_time_shift(walk_deg: np.ndarray, method: str, shift: int) -> None:
    """B = the same walk started ``shift`` frames later, so A's frame i is B's frame i - shift: the
    alignment pairs them to within half a frame (median over the timeline), on at least half of A."""
    a, b = walk_deg[:-shift], walk_deg[shift:]
    result = align(a, b, method, fps=30.0)
    assert result.method == method
    assert np.median(result.b_frames - result.a_frames) == pytest.approx(-shift, abs=0.5)
    assert result.n_frames >= len(a) // 2
    if method == "phase":
        assert result.shift_frames == -shift and f"{-shift / 30:+.2f} s" in result.description


@pytest.mark.parametrize("speed", [0.8, 1.25])
def test_dtw_recovers_a_known_time_stretch(walk_deg: np.ndarray, speed: float) -> None:
    """B = the walk played at ``speed`` (its resampled copy at 30 / speed Hz, played at 30 Hz): B's frame
    for A's frame i is i / speed. Over the middle half of the timeline the warp's slope is within 3 % and
    its frames within 1.5 frames of that."""
    motion = load_movement("a", WALK).motion
    stretched = dataclasses.replace(resample(motion, motion.fps / speed), fps=motion.fps)
    result = align(walk_deg, motion_angles(stretched).degrees, "dtw", fps=30.0)
    middle = slice(result.n_frames // 4, 3 * result.n_frames // 4)
    slope = np.polyfit(result.a_frames[middle], result.b_frames[middle], 1)[0]
    assert slope == pytest.approx(1 / speed, rel=0.03)
    assert np.abs(result.b_frames[middle] - result.a_frames[middle] / speed).max() < 1.5
    assert f"{result.time_ratio():.2f}x" in result.description


def test_no_alignment_pairs_frames_as_recorded(walk_deg: np.ndarray) -> None:
    result = align(walk_deg[:40], walk_deg[10:], "none")
    assert result.n_frames == 40 and np.array_equal(result.b_frames, result.a_frames)
    with pytest.raises(ConfigError, match="unknown method"):
        align(walk_deg, walk_deg, "magic")


def test_joint_differences_of_known_curves() -> None:
    """B = A + 10 deg with its peaks 0.2 s later. A's two peaks are 40 and 38 deg high; B's first peak is
    cut by the end of the comparison, so A's second, lower peak is compared with B's matching one
    (0.2 s apart), not with a peak a cycle away."""
    t = np.arange(90) / 30.0
    a = 40 * np.exp(-((t - 0.1) / 0.15) ** 2) + 38 * np.exp(-((t - 2.0) / 0.15) ** 2)
    b = 10 + 40 * np.exp(-((t + 0.1) / 0.15) ** 2) + 38 * np.exp(-((t - 2.2) / 0.15) ** 2)
    (row,) = joint_differences(["trunk"], a[:, None], b[:, None], fps=30.0)
    assert (row.peak_time_a_s, row.peak_time_b_s) == pytest.approx((2.0, 2.2))
    assert row.timing_offset_s == pytest.approx(0.2) and row.peak_diff_deg == pytest.approx(10.0, abs=0.01)
    assert row.mean_abs_diff_deg == pytest.approx(np.mean(np.abs(b - a)))
    assert row.max_abs_diff_deg == pytest.approx(np.max(np.abs(b - a)))


# ---- the command --------------------------------------------------------------------------------------------
def test_cli_writes_a_playable_video_the_summary_sheet_and_the_table(tmp_path: Path) -> None:
    out = tmp_path / "walk-vs-jumps"
    result = subprocess.run([sys.executable, "-m", "sportsim.compare", f"a={WALK}", f"b={JUMPS}", f"out={out}",
                             "width=324", "seconds=1", "start_b=2.5", "joints=knee,hip,trunk"],
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    reported = re.search(r"comparison\.mp4 \((\d+) frames, 324x404 px, 30 fps\)", result.stdout)
    assert reported and f"wrote {out}" in result.stdout, result.stdout
    assert "time-warped to A by DTW" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    with imageio.get_reader(out / "comparison.mp4") as reader:
        frames = [np.asarray(frame) for frame in reader]
        assert reader.get_meta_data()["fps"] == pytest.approx(30.0)
    assert len(frames) == int(reported.group(1)) >= 16  # >= half of the 31-frame excerpt is compared
    assert frames[0].shape == (404, 324, 3)
    panels = frames[len(frames) // 2][56:218].astype(int)  # below the 56 px title: A | ghost | B
    assert all(panels[:, k * 108:(k + 1) * 108].std() > 5 for k in range(3))
    sheet = imageio.imread(out / "summary.png")
    assert sheet.shape[1] == 1600 and sheet.shape[0] > 1000
    with (out / "joint_differences.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[0] for r in rows[1:]] == ["left_knee", "right_knee", "left_hip", "right_hip", "trunk"]
    assert all(math.isfinite(float(v)) for r in rows[1:] for v in r[1:])
    assert all(float(r[1]) >= 0 and float(r[6]) >= float(r[1]) for r in rows[1:])  # max |diff| >= mean |diff|


def test_outputs_never_replace_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = compare(WALK, WALK, width=240, seconds=0.3, align="none")
    second = compare(WALK, WALK, width=240, seconds=0.3, align="none")
    assert first.folder == tmp_path / "compare-cmu_02_01_walk-vs-cmu_02_01_walk"
    assert second.folder == tmp_path / "compare-cmu_02_01_walk-vs-cmu_02_01_walk-1"
    assert first.video.frames == 10 and all(d.mean_abs_diff_deg == 0.0 for d in first.differences)
    before = (first.folder / "comparison.mp4").read_bytes()
    with pytest.raises(ConfigError, match="already holds comparison.mp4"):
        compare(WALK, WALK, out=first.folder, width=240, seconds=0.3)
    assert (first.folder / "comparison.mp4").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.folder.name, second.folder.name]  # no leftovers


@needs_data
def test_the_same_take_in_two_formats_compares_as_nearly_identical(tmp_path: Path) -> None:
    """The Xsens BVH export and the MVNX file of one take: DTW finds the same pace, every angle agrees
    within 1 deg on average and the peaks coincide in time."""
    result = compare(MOCAP_DIR / "xsens_upperbody_test_mocap.bvh", MOCAP_DIR / "xsens_upperbody_test_mocap.mvnx",
                     out=tmp_path / "xsens", width=240)
    assert result.alignment.time_ratio() == pytest.approx(1.0, abs=0.02)
    assert max(d.mean_abs_diff_deg for d in result.differences) < 1.0
    assert all(abs(d.timing_offset_s) <= 0.05 for d in result.differences if d.joint.endswith(("elbow", "shoulder")))


@pytest.fixture(scope="module")
def imitation_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny PPO run of Imitation-v0 on its default clip, the shipped CMU walk (64 steps of training)."""
    workdir = tmp_path_factory.mktemp("imitation")
    result = subprocess.run(
        [sys.executable, "-m", "sportsim.train", "env=imitation", "algo=ppo", "n_envs=1", "progress_bar=false",
         "total_timesteps=64", "algo.n_steps=32", "algo.batch_size=32", "algo.n_epochs=1",
         "algo.policy_kwargs.net_arch=[16,16]", "eval_freq=64", "n_eval_episodes=1", "seed=0"],
        cwd=workdir, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    (run,) = (workdir / "runs" / "imitation" / "ppo").iterdir()
    return run


@pytest.mark.skipif(not env_available("imitation"), reason="no Imitation-v0 yet")
def test_a_policy_is_rolled_out_on_its_reference_clip(imitation_run: Path, tmp_path: Path) -> None:
    """The rollout starts in the reference clip's pose (the env's reset), so its first frame matches some
    frame of the walk within a few degrees; the comparison runs like one of two captures."""
    result = compare(imitation_run, WALK, out=tmp_path / "policy", width=240, align="dtw")
    assert result.a.name == imitation_run.name and result.a.kind == "policy" and result.a.skeleton == "policy"
    assert result.a.describe().startswith(f"{imitation_run.name}: policy (run), Imitation-v")
    assert result.a.motion.fps == 30.0 and result.a.motion.n_frames >= 2
    first = motion_angles(result.a.motion).degrees[0]
    walk = motion_angles(result.b.motion).degrees
    # within a few degrees: Imitation-v3/v4's reference tilts the pelvis where the capture's hip extends past its
    # range and smooths the root (5.3 deg here; v2's reference under 3)
    assert np.abs(walk - first).max(axis=1).min() < 6.0
    assert result.video.frames == result.alignment.n_frames and (result.folder / "comparison.mp4").is_file()


# ---- bad inputs ---------------------------------------------------------------------------------------------
EMPTY_BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  End Site
  {
    OFFSET 0 10 0
  }
}
MOTION
Frames: 0
Frame Time: 0.0333333
"""
ODD_SKELETON_BVH = """HIERARCHY
ROOT Base
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Stalk
  {
    OFFSET 0 50 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 50 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 90 0 0 0 0 0 0 0
0 90 0 0 0 0 0 5 0
"""


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code), captured.out, captured.err


def test_bad_inputs_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty, odd = tmp_path / "empty.bvh", tmp_path / "odd.bvh"
    empty.write_text(EMPTY_BVH)
    odd.write_text(ODD_SKELETON_BVH)
    cases = [  # (expected message, the side it names or None, arguments)
        ("no such file", "a", [f"a={tmp_path / 'missing.bvh'}", f"b={WALK}"]),
        ("holds no motion", "b", [f"a={WALK}", f"b={empty}"]),
        ("humanoid", "a", [f"a={odd}", f"b={WALK}"]),  # an unknown skeleton
        ("is a policy for sportsim/HalfPipe-v0; only sportsim/Imitation policies", "a",
         ["a=halfpipe/ppo", f"b={WALK}"]),
        ("unknown joint group(s) wrist", None, [f"a={WALK}", f"b={WALK}", "joints=knee,wrist"]),
        ("start_b=9: cmu_02_01_walk.bvh is only 2.86 s long", None, [f"a={WALK}", f"b={WALK}", "start_b=9"]),
        ("b=<capture file or policy> required", None, [f"a={WALK}"]),
        ("option align: expected one of auto, policy, dtw, phase, none", None,
         [f"a={WALK}", f"b={WALK}", "align=fast"]),
        ("align=policy: neither side is a policy", None, [f"a={WALK}", f"b={WALK}", "align=policy"]),
        ("option view: expected one of side, front, top, all", None, [f"a={WALK}", f"b={WALK}", "view=back"]),
        ("multiple of 12", None, [f"a={WALK}", f"b={WALK}", "width=100"]),
    ]
    for expected, side, argv in cases:
        code, stdout, stderr = _cli([*argv, f"out={tmp_path / 'never'}"], capsys)
        assert code == 2 and stdout == "" and stderr.count("\n") == 1, (expected, stderr)
        assert stderr.startswith(f"sportsim: {side}: " if side else "sportsim: ") and expected in stderr, stderr
    assert not (tmp_path / "never").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folders left


def test_the_command_reports_a_missing_file_as_one_line_exit_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "sportsim.compare", f"a={tmp_path / 'x.bvh'}", f"b={WALK}"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and result.stdout == ""
    missing = tmp_path / "x.bvh"  # the resolver's capture message, as every command words it
    assert result.stderr == f"sportsim: a: '{missing}': no such file (looked in {missing})\n"
