"""Retargeting every real capture file in shared/mocap onto the sportsim humanoid: sane poses, feet on the
floor, end effectors close to the source's, resampling, the reference-motion file and the validation
report. The files and their licences: shared/mocap/SOURCES.md (skipped when the folder is absent)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from sportsim import humanoid
from sportsim.errors import MocapError
from sportsim.mocap import Clip, load_clip, quat
from sportsim.mocap.__main__ import trim
from sportsim.mocap.retarget import (
    FORMAT,
    POINT_NAMES,
    ReferenceMotion,
    foot_lowest_m,
    is_reference_motion,
    resample,
    retarget,
)
from sportsim.mocap.skeletons import builtin_skeletons, load_mapping
from sportsim.mocap.validate import validate

MOCAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "mocap"
needs_data = pytest.mark.skipif(not MOCAP_DIR.is_dir(), reason=f"real capture files not found at {MOCAP_DIR}")
FILES = sorted(p.name for p in MOCAP_DIR.glob("*") if p.suffix in (".bvh", ".mvnx")) if MOCAP_DIR.is_dir() else []
UPPER_BODY = ("xsens_upperbody_test_mocap.bvh", "xsens_upperbody_test_mocap.mvnx")

# End-effector retarget error (cm), mean over frames and tracked points / max over both. Tracked points:
# the humanoid's head site (head CoM) against the source head joint, hand sites (wrist centres) against
# the source wrists, humanoid ankle joints against the source ankles - the source points scaled to the
# humanoid and placed relative to the humanoid's root (root alignment). Default settings (humanoid at
# the performer's stature estimated from the legs). Measured:
#   bandai2_run_normal_001.bvh       8.5 / 16.4   (head 15.7 / 16.4, hands 11.7 / 15.2, ankles 1.6 / 1.8)
#   cmu_01_01_forward_jumps.bvh      7.8 / 21.3   (head 16.2 / 18.6, hands 10.4 / 21.3, ankles 1.2 / 4.5)
#   cmu_02_01_walk.bvh               7.4 / 17.4   (head 16.9 / 17.4, hands  8.7 / 13.9, ankles 1.3 / 2.3)
#   sfu_0005_2FeetJump001.bvh        3.7 /  9.6   (head  3.1 /  4.6, hands  6.2 /  9.6, ankles 1.6 / 3.9)
#   sfu_0005_Walking001.bvh          4.0 /  8.1   (head  3.8 /  4.3, hands  6.4 /  8.1, ankles 1.7 / 3.6)
#   sfu_0007_Cartwheel001.bvh        3.4 / 12.8   (head  5.7 / 10.1, hands  4.8 / 12.8, ankles 0.9 / 4.3)
#   xsens_upperbody_test_mocap.bvh   5.2 /  9.5   (head  6.9 /  7.0, hands  7.8 /  9.5, ankles 1.7 / 1.9)
#   xsens_upperbody_test_mocap.mvnx  5.2 /  9.5   (the same take)
# Most of it is proportion, not pose: the humanoid has de Leva's trunk (mid-hip to shoulders 0.31 x
# stature), while the CMU and Bandai skeletons' trunks are 25-30 % shorter relative to their legs, so
# with equal legs the humanoid's head and shoulders sit 13-17 cm higher. The bounds below are the
# measured values plus about 15 %.
ERROR_BOUND_CM = {
    "bandai2_run_normal_001.bvh": (10.0, 19.0),
    "cmu_01_01_forward_jumps.bvh": (9.0, 24.5),
    "cmu_02_01_walk.bvh": (8.5, 20.0),
    "sfu_0005_2FeetJump001.bvh": (4.5, 11.0),
    "sfu_0005_Walking001.bvh": (4.5, 9.5),
    "sfu_0007_Cartwheel001.bvh": (4.0, 15.0),
    "xsens_upperbody_test_mocap.bvh": (6.0, 11.0),
    "xsens_upperbody_test_mocap.mvnx": (6.0, 11.0),
}
BALLS = [j.name for j in humanoid.JOINTS if j.type == "ball"]


@pytest.fixture(scope="module")
def retargeted() -> dict[str, tuple[Clip, ReferenceMotion]]:
    """Every file, loaded and retargeted once (about 1.5 s in all)."""
    return {name: (clip, retarget(clip)) for name in FILES for clip in [load_clip(MOCAP_DIR / name)]}


def _quaternions(motion: ReferenceMotion) -> np.ndarray:
    """Root and ball-joint quaternions ``(T, 9, 4)``."""
    adrs = [3] + [humanoid.qpos_address(n) for n in BALLS]
    return np.stack([motion.qpos[:, a:a + 4] for a in adrs], axis=1)


def test_all_shared_files_are_covered() -> None:
    if MOCAP_DIR.is_dir():
        assert set(FILES) == set(ERROR_BOUND_CM), "add a bound (measured) for every file in shared/mocap"


@needs_data
@pytest.mark.parametrize("name", FILES)
def test_retargeted_motion_is_finite_unit_and_on_the_floor(retargeted, name: str) -> None:
    """No NaN; unit quaternions; no foot box corner more than 1 cm below the floor in any frame; every foot
    in stance within 2 cm of the floor. For the Xsens upper-body take (legs not tracked: they hang
    static under a pelvis held near z = 0) the same feet checks hold and pin that the static legs are
    stood on the floor; its BVH frame 0 is a reference pose 0.86 m higher, which must not count as stance."""
    clip, motion = retargeted[name]
    for field in ("qpos", "qvel", "positions_m", "target_positions_m"):
        assert np.all(np.isfinite(getattr(motion, field))), field
    assert np.allclose(np.linalg.norm(_quaternions(motion), axis=-1), 1.0, atol=1e-9)
    assert motion.n_frames == clip.n_frames and motion.fps == clip.fps
    low = foot_lowest_m(motion.build_model(), motion.qpos)
    assert low.min() > -0.01
    stance = motion.foot_contacts
    assert stance.any(axis=0).all(), "both feet have stance frames"
    assert np.where(stance, low, -np.inf).max() < 0.02
    if name == "xsens_upperbody_test_mocap.bvh":
        assert not stance[0].any() and stance[2:].all()  # frame 1: its central-difference speed spans the jump


@needs_data
@pytest.mark.parametrize("name", FILES)
def test_end_effectors_follow_the_source_within_the_documented_error(retargeted, name: str) -> None:
    """Hands, ankles and head against the source's scaled points (bounds and measured values: ERROR_BOUND_CM)."""
    _, motion = retargeted[name]
    assert motion.target_names == ("head", "right_hand", "left_hand", "right_ankle", "left_ankle")
    error_cm = 100 * motion.retarget_error_m
    mean_bound, max_bound = ERROR_BOUND_CM[name]
    assert error_cm.mean() < mean_bound and error_cm.max() < max_bound, (error_cm.mean(), error_cm.max())
    ankles = error_cm[:, 3:]
    assert ankles.mean() < 2.0 and ankles.max() < 5.0  # the legs are retargeted at the source's length


@needs_data
@pytest.mark.parametrize("name", ["bandai2_run_normal_001.bvh", "cmu_02_01_walk.bvh", "sfu_0005_Walking001.bvh"])
def test_locomotion_is_upright_and_knees_flex(retargeted, name: str) -> None:
    """Whatever the rest pose (Bandai: every bone along +X; CMU, SFU: T-pose), a walk or run comes out
    upright - head over chest over pelvis over ankles - with the knees flexing forward (positive hinge
    angles) and the feet roughly flat in stance."""
    _, motion = retargeted[name]
    z = {n: motion.point(n)[:, 2] for n in ("head", "chest", "pelvis", "right_ankle", "left_ankle")}
    upright = (z["head"] > z["chest"]) & (z["chest"] > z["pelvis"]) & (z["pelvis"] > z["right_ankle"]) & (
        z["pelvis"] > z["left_ankle"])  # a runner's heel comes up to 0.2 m below the pelvis
    assert upright[1:].all()  # frame 0 of CMU files is the converter's calibration pose
    for side in ("right", "left"):
        knee = motion.qpos[:, humanoid.qpos_address(f"{side}_knee")]
        assert np.percentile(knee, 5) > -0.1 and knee.max() > 0.6
        foot = quat.rotate(_world_orientations(motion, f"{side}_ankle"), np.array([0.0, 0.0, 1.0]))
        stance = motion.foot_contacts[:, 0 if side == "right" else 1]
        assert np.median(foot[stance, 2]) > np.cos(np.radians(20))


def _world_orientations(motion: ReferenceMotion, body: str) -> np.ndarray:
    import mujoco

    model = motion.build_model()
    data = mujoco.MjData(model)
    out = np.empty((motion.n_frames, 4))
    for t, q in enumerate(motion.qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        out[t] = data.xquat[model.body(body).id]
    return out


@needs_data
def test_resample_120_to_30_keeps_poses_and_slerp_midpoints_lie_between(retargeted) -> None:
    _, motion = retargeted["cmu_02_01_walk.bvh"]
    low = resample(motion, 30.0)
    assert low.fps == 30.0 and low.n_frames == (motion.n_frames - 1) // 4 + 1
    assert np.allclose(low.qpos, motion.qpos[::4], atol=1e-9)  # every 4th source frame coincides
    assert np.allclose(low.positions_m, motion.positions_m[::4], atol=1e-9)
    assert np.array_equal(low.foot_contacts, motion.foot_contacts[::4])

    high = resample(motion, 240.0)  # odd frames fall halfway between source frames
    mid, before, after = _quaternions(high)[1::2], _quaternions(motion)[:-1], _quaternions(motion)[1:]
    assert np.allclose(np.linalg.norm(mid, axis=-1), 1.0, atol=1e-12)

    def angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return 2 * np.arccos(np.clip(np.abs(np.sum(a * b, axis=-1)), 0.0, 1.0))

    assert np.allclose(angle(mid, before), angle(mid, after), atol=1e-6)
    assert np.allclose(angle(mid, before) + angle(mid, after), angle(before, after), atol=1e-6)
    hinge = humanoid.qpos_address("right_knee")
    assert np.allclose(high.qpos[1::2, hinge], 0.5 * (motion.qpos[:-1, hinge] + motion.qpos[1:, hinge]))


@needs_data
def test_qvel_is_the_central_difference_of_qpos(retargeted) -> None:
    _, motion = retargeted["sfu_0005_Walking001.bvh"]
    dt = 1.0 / motion.fps
    root_velocity = (motion.qpos[2:, 0:3] - motion.qpos[:-2, 0:3]) / (2 * dt)
    assert np.allclose(motion.qvel[1:-1, 0:3], root_velocity, atol=1e-9)
    knee_q, knee_v = humanoid.qpos_address("left_knee"), _dof_address(motion, "left_knee")
    assert np.allclose(motion.qvel[1:-1, knee_v], (motion.qpos[2:, knee_q] - motion.qpos[:-2, knee_q]) / (2 * dt))


def _dof_address(motion: ReferenceMotion, joint: str) -> int:
    model = motion.build_model()
    return int(model.jnt_dofadr[model.joint(joint).id])


@needs_data
def test_reference_motion_file_round_trips_without_pickle_and_is_not_overwritten(retargeted, tmp_path: Path) -> None:
    _, motion = retargeted["bandai2_run_normal_001.bvh"]
    path = motion.save_npz(tmp_path / "run.npz")
    with np.load(path, allow_pickle=False) as npz:  # what an imitation env reads
        assert str(npz["format"]) == FORMAT
        assert npz["qpos"].shape == (motion.n_frames, 43) and npz["qvel"].shape == (motion.n_frames, 34)
        assert tuple(npz["joint_names"]) == humanoid.JOINT_NAMES and tuple(npz["point_names"]) == POINT_NAMES
        assert float(npz["fps"]) == 30.0 and float(npz["height_m"]) == pytest.approx(motion.height_m)
    loaded = ReferenceMotion.load_npz(path)
    for field in ("qpos", "qvel", "positions_m", "foot_contacts", "target_positions_m"):
        assert np.array_equal(getattr(loaded, field), getattr(motion, field)), field
    assert (loaded.fps, loaded.height_m, loaded.mass_kg, loaded.sex, loaded.target_names) == \
        (motion.fps, motion.height_m, motion.mass_kg, motion.sex, motion.target_names)
    assert dict(loaded.meta) == dict(motion.meta) and is_reference_motion(path)

    before = path.read_bytes()
    with pytest.raises(MocapError, match="exists"):
        resample(motion, 10.0).save_npz(path)
    assert path.read_bytes() == before
    resample(motion, 10.0).save_npz(path, overwrite=True)
    assert ReferenceMotion.load_npz(path).fps == 10.0
    with pytest.raises(MocapError, match="not a sportsim reference motion"):
        ReferenceMotion.load_npz(_clip_npz(tmp_path))


def test_reference_motion_names_stay_importable_from_retarget() -> None:
    """ReferenceMotion and its file format live in sportsim.mocap.reference_motion; the names that moved
    there from sportsim.mocap.retarget are still importable from it, as the same objects."""
    from sportsim.mocap import reference_motion, retarget as retarget_module

    for name in ("CONTACT_NAMES", "FORMAT", "FORMAT_VERSION", "POINT_NAMES", "ReferenceMotion", "is_reference_motion"):
        assert getattr(retarget_module, name) is getattr(reference_motion, name), name
        assert name in retarget_module.__all__ and name in reference_motion.__all__, name


def _clip_npz(folder: Path) -> Path:
    return load_clip(MOCAP_DIR / "bandai2_run_normal_001.bvh").save_npz(folder / "clip.npz")


@needs_data
def test_validation_warns_about_calibration_frames_and_errors_on_broken_motions(retargeted) -> None:
    clip, motion = retargeted["cmu_02_01_walk.bvh"]
    report = validate(clip, motion=motion)
    assert not report.errors
    spikes = {r.check: r for r in report.rows}["velocity spikes"]
    assert spikes.status == "warning" and "frames 0-1" in spikes.value  # the T-pose calibration frame
    trimmed = trim(clip, 1, None)
    assert not validate(trimmed).warnings

    sunk = dataclasses.replace(motion, qpos=motion.qpos - np.r_[0.0, 0.0, 0.05, np.zeros(40)])
    rows = {r.check: r for r in validate(sunk).rows}
    assert rows["foot penetration"].status == "error" and rows["stance floating"].status == "ok"
    broken = motion.qpos.copy()
    broken[10, 0] = np.nan
    assert {r.check for r in validate(dataclasses.replace(motion, qpos=broken)).errors} >= {"NaN/inf"}
    bent = motion.qpos.copy()
    bent[:, humanoid.qpos_address("left_knee")] = -0.5  # hyperextended 29 degrees
    limits = {r.check: r for r in validate(dataclasses.replace(motion, qpos=bent)).rows}["joint limits"]
    assert limits.status == "warning" and "left_knee by 28.6 deg" in limits.value
    table = report.table()
    assert table.splitlines()[0].split() == ["check", "value", "threshold", "status"]
    assert len(table.splitlines()) == len(report.rows) + 2


@needs_data
def test_user_mapping_retargets_a_renamed_skeleton(retargeted, tmp_path: Path) -> None:
    """A skeleton sportsim does not know retargets through a mapping YAML, exactly as the built-in map."""
    clip, motion = retargeted["sfu_0005_Walking001.bvh"]
    renamed = dataclasses.replace(clip, joint_names=tuple(f"j{i}_{n}" for i, n in enumerate(clip.joint_names)))
    with pytest.raises(MocapError, match="unknown skeleton"):
        retarget(renamed)
    sfu = next(s for s in builtin_skeletons() if s.name == "sfu")
    rename = {n: f"j{i}_{n}" for i, n in enumerate(clip.joint_names)}
    mapping_file = tmp_path / "mine.yaml"
    mapping_file.write_text(yaml.safe_dump({"name": "mine", "bvh_unit": "inch", "joints": list(renamed.joint_names),
                                            "map": {c: rename[n] for c, n in sfu.canonical.items()}}))
    again = retarget(renamed, skeletons=[load_mapping(mapping_file)])
    assert np.allclose(again.qpos, motion.qpos)


def test_resample_and_height_arguments_are_checked(retargeted) -> None:
    if not FILES:
        pytest.skip("no capture files")
    clip, motion = retargeted[FILES[0]]
    with pytest.raises(MocapError, match="fps"):
        resample(motion, 0.0)
    with pytest.raises(MocapError, match="height"):
        retarget(clip, height_m=-1.0)
    tall = retarget(clip, height_m=1.9)
    assert tall.height_m == 1.9 and tall.scale > 1.0
    assert 100 * tall.retarget_error_m[:, 3:].max() < 5.0  # the ankles still follow the scaled source


def test_shipped_clips_are_only_the_cmu_files_with_their_acknowledgement() -> None:
    """mocap/ (package data) holds only clips whose licence allows it - the CMU ones - each listed in its
    README with the SHA-256 of the unedited source file (and byte-identical to the shared copy where
    ../shared/mocap has one), and the README carries CMU's requested acknowledgement verbatim."""
    import hashlib

    from sportsim.paths import resource_dir

    folder = resource_dir("mocap")
    clips = sorted(p.name for p in folder.iterdir() if p.name != "README.md")
    assert clips == ["cmu_01_01_forward_jumps.bvh", "cmu_02_01_walk.bvh", "cmu_06_01_walk.bvh"]
    readme = (folder / "README.md").read_text(encoding="utf-8")
    acknowledgement = ("The data used in this project was obtained from mocap.cs.cmu.edu. The database was created "
                       "with funding from NSF EIA-0196217.")
    assert acknowledgement in readme
    for name in clips:
        data = (folder / name).read_bytes()
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"`{hashlib.sha256(data).hexdigest()}`" in row, f"{name}: its README row lists another SHA-256"
        if (MOCAP_DIR / name).is_file():
            assert data == (MOCAP_DIR / name).read_bytes()
        assert load_clip(folder / name).skeleton == "cmu"
