"""Motion-capture readers against real capture files, an independent FK reference (bvhio), saved clips
and malformed inputs. The real files live in shared/mocap next to the repository (see its SOURCES.md)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from sportsim.mocap.validate import validate
from sportsim.errors import MocapError
from sportsim.mocap import Clip, load_clip, quat, read_bvh, read_deepmimic, read_mvnx
from sportsim.mocap.skeletons import (
    UNITS_M,
    canonical_indices,
    canonical_joints,
    detect_skeleton,
    load_mapping,
    match_skeleton,
)

MOCAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "mocap"
needs_data = pytest.mark.skipif(not MOCAP_DIR.is_dir(), reason=f"real capture files not found at {MOCAP_DIR}")

# Figures from shared/mocap/SOURCES.md: frames, fps, joints in the file, family, hip-height range in file
# units as printed there (widened by half its last printed digit for rounding), metres per file unit.
CMU, INCH, CM = UNITS_M["cmu"], UNITS_M["inch"], UNITS_M["cm"]
EXPECTED = {
    "cmu_02_01_walk.bvh": (344, 120, 31, "cmu", (16.5, 17.8), CMU),
    "cmu_01_01_forward_jumps.bvh": (2752, 120, 31, "cmu", (14.5, 22.8), CMU),
    "sfu_0007_Cartwheel001.bvh": (2111, 120, 25, "sfu", (26.7, 42.3), INCH),
    "sfu_0005_2FeetJump001.bvh": (2575, 120, 25, "sfu", (21.5, 43.1), INCH),
    "sfu_0005_Walking001.bvh": (270, 120, 25, "sfu", (31.5, 33.0), INCH),
    "bandai2_run_normal_001.bvh": (68, 30, 22, "bandai_namco", (79, 96), CM),
    # upper-body take: frame 0 is the reference pose (hips 86.39 cm), later frames hold the pelvis near 0
    "xsens_upperbody_test_mocap.bvh": (112, 60, 23, "xsens_mvn", (-0.5, 86.39), CM),
    "xsens_upperbody_test_mocap.mvnx": (112, 60, 23, "xsens_mvn", (-0.5, 0.5), CM),
}
BVH_FILES = sorted(name for name in EXPECTED if name.endswith(".bvh"))


def _pybullet_motions() -> Path | None:
    try:
        import pybullet_data
    except ImportError:
        return None
    folder = Path(pybullet_data.getDataPath()) / "data" / "motions"
    return folder if folder.is_dir() else None


PYBULLET_MOTIONS = _pybullet_motions()
needs_pybullet_data = pytest.mark.skipif(PYBULLET_MOTIONS is None, reason="pybullet_data (pip install pybullet) "
                                         "is not installed: no real DeepMimic motions")


# ---- real files ------------------------------------------------------------------------------
@needs_data
def test_every_shared_file_is_covered() -> None:
    files = {p.name for p in MOCAP_DIR.iterdir() if p.suffix in (".bvh", ".mvnx")}
    assert files == set(EXPECTED), "update EXPECTED when shared/mocap changes"


@needs_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file_matches_sources_md(name: str) -> None:
    n_frames, fps, n_joints, family, hip_range, m_per_unit = EXPECTED[name]
    clip = load_clip(MOCAP_DIR / name)
    assert clip.n_frames == n_frames
    assert clip.fps == fps
    folded = 1 if "folded_root" in clip.meta else 0  # Bandai's static joint_Root becomes the root's parent frame
    assert clip.n_joints + folded == n_joints
    assert clip.skeleton == family
    assert clip.source == str(MOCAP_DIR / name)
    half_digit = 0.5 if all(float(v).is_integer() for v in hip_range) else 0.05
    low, high = ((v + d) * m_per_unit for v, d in zip(hip_range, (-half_digit, half_digit)))
    hip_z = clip.root_pos_m[:, 2]
    assert low <= hip_z.min() and hip_z.max() <= high
    positions = clip.world_positions()
    assert positions.shape == (n_frames, clip.n_joints, 3) and np.all(np.isfinite(positions))
    assert clip.duration_s == pytest.approx((n_frames - 1) / fps)


@needs_data
def test_bandai_folds_static_root_and_runs_8_metres() -> None:
    clip = read_bvh(MOCAP_DIR / "bandai2_run_normal_001.bvh")
    assert clip.meta["folded_root"] == "joint_Root" and clip.joint_names[0] == "Hips"
    distance_m = np.linalg.norm(clip.root_pos_m[-1, :2] - clip.root_pos_m[0, :2])
    assert distance_m == pytest.approx(8.1, abs=0.2)  # SOURCES.md: the runner covers 8.1 m


@needs_data
@pytest.mark.parametrize("name", BVH_FILES)
def test_rest_pose_is_upright_z_up(name: str) -> None:
    """After the Y-up -> Z-up conversion the head is above the pelvis in the standing frames."""
    clip = read_bvh(MOCAP_DIR / name)
    head = canonical_indices(clip.joint_names)["head"]
    up_m = clip.world_positions()[:, head, 2] - clip.root_pos_m[:, 2]
    assert np.median(up_m) > 0.3


@needs_data
# ---- forward kinematics against independent references ----------------------------------------
def _motion_rows(path: Path) -> tuple[list[str], int, list[str]]:
    lines = path.read_text().split("\n")
    motion = next(i for i, line in enumerate(lines) if line.strip() == "MOTION")
    rows = [line for line in lines[motion + 3:] if line.strip()]
    return lines, motion, rows


def _wrap_frames(rows: list[str]) -> list[int]:
    """Frames where a root rotation channel jumps across +-180 degrees (and the frame after)."""
    root = np.array([row.split()[3:6] for row in rows], dtype=float)
    jumps = np.flatnonzero(np.abs(np.diff(root, axis=0)).max(axis=1) > 300)
    return sorted({int(f) for j in jumps[:3] for f in (j, j + 1)})


def _bvhio_positions_m(path: Path, frames: list[int], m_per_unit: float) -> dict[str, np.ndarray]:
    """World positions of every joint at ``frames`` from bvhio's own hierarchy, converted to Z-up metres."""
    import bvhio

    lines, motion, rows = _motion_rows(path)
    text = "\n".join(lines[:motion + 1] + [f"Frames: {len(frames)}", lines[motion + 2]] + [rows[f] for f in frames])
    with tempfile.TemporaryDirectory() as folder:  # shared/mocap is read-only: excerpt in a temp folder
        copy = Path(folder) / path.name
        copy.write_text(text + "\n")
        root = bvhio.readAsHierarchy(str(copy))
    out: dict[str, list] = {}
    for k in range(len(frames)):
        root.loadPose(k)
        for joint, _, _ in root.layout():
            p = joint.PositionWorld
            out.setdefault(joint.Name, []).append((p.x, -p.z, p.y))  # Y-up -> Z-up
    return {name: np.array(v) * m_per_unit for name, v in out.items()}


@needs_data
@pytest.mark.parametrize("name", BVH_FILES)
def test_bvh_forward_kinematics_matches_bvhio(name: str) -> None:
    """Clip.world_positions() vs bvhio's hierarchy on 6 spread frames (+ the +-180 degree wrap frames).

    Measured max error: 2e-7 to 6e-7 m on every file (bvhio computes in float32); bound 1 mm.
    """
    pytest.importorskip("bvhio")
    path = MOCAP_DIR / name
    clip = read_bvh(path)
    _, _, rows = _motion_rows(path)
    frames = sorted(set(np.linspace(0, clip.n_frames - 1, 6).astype(int).tolist()) | set(_wrap_frames(rows)))
    if name.startswith("sfu_0007_Cartwheel"):
        assert len(frames) > 6, "the cartwheel's root rotation should cross +-180 degrees"
    reference = _bvhio_positions_m(path, frames, float(clip.meta["m_per_file_unit"]))
    positions = clip.world_positions()[frames]
    for j, joint in enumerate(clip.joint_names):
        np.testing.assert_allclose(positions[:, j], reference[joint], atol=1e-3, rtol=0, err_msg=joint)
    assert set(clip.joint_names) <= set(reference)


@needs_data
def test_quaternions_stay_continuous_across_euler_wrap() -> None:
    clip = read_bvh(MOCAP_DIR / "sfu_0007_Cartwheel001.bvh")
    dots = np.sum(clip.rotations[1:] * clip.rotations[:-1], axis=-1)
    assert dots.min() > 0.5  # no sign flips and no jumps at 120 fps, even at the +-180 degree crossings


@needs_data
def test_mvnx_forward_kinematics_matches_recorded_positions() -> None:
    """FK from segment orientations + segment-point offsets vs the file's <position> values.

    Measured: max 1.93 mm, all on the shoulder/arm chain (Xsens' shoulder model puts the recorded
    RightShoulder/LeftShoulder about 1.8 mm away from T8's joint point, varying over frames); spine,
    head and legs agree within 0.015 mm. Bound: 2.5 mm.
    """
    clip = read_mvnx(MOCAP_DIR / "xsens_upperbody_test_mocap.mvnx")
    error_m = np.linalg.norm(clip.world_positions() - clip.recorded_positions_m, axis=-1)
    assert error_m.max() < 2.5e-3
    legs_and_spine = [j for j, n in enumerate(clip.joint_names) if "Shoulder" not in n and "Arm" not in n
                      and "Hand" not in n]
    assert error_m[:, legs_and_spine].max() < 1e-4


@needs_data
def test_mvnx_contacts_and_metadata() -> None:
    clip = read_mvnx(MOCAP_DIR / "xsens_upperbody_test_mocap.mvnx")
    assert clip.contact_names == ("LeftFoot_Heel", "LeftFoot_Toe", "RightFoot_Heel", "RightFoot_Toe")
    assert clip.contacts.shape == (112, 4) and clip.contacts.dtype == np.bool_
    assert clip.meta["mvnx_version"] == "4" and clip.meta["calibration_frames_skipped"] == "3"
    assert clip.joint_names[0] == "Pelvis"


@needs_data
def test_xsens_bvh_and_mvnx_are_the_same_take() -> None:
    """BVH frame k (k >= 1; frame 0 is the reference pose) equals MVNX normal frame k.

    Measured: head heights agree within 0.001 mm; pelvis-relative head and wrist positions agree within
    0.001 mm once the BVH's heading is turned back by +90 degrees about Z (the BVH export faces another
    way). Bound: 1 mm.
    """
    bvh = read_bvh(MOCAP_DIR / "xsens_upperbody_test_mocap.bvh")
    mvnx = read_mvnx(MOCAP_DIR / "xsens_upperbody_test_mocap.mvnx")
    pos_b, pos_m = bvh.world_positions()[1:], mvnx.world_positions()[1:]
    head_b, head_m = bvh.joint_names.index("Head"), mvnx.joint_names.index("Head")
    np.testing.assert_allclose(pos_b[:, head_b, 2], pos_m[:, head_m, 2], atol=1e-3, rtol=0)
    yaw = quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.pi / 2)
    for name_b, name_m in (("Head", "Head"), ("RightWrist", "RightHand"), ("LeftWrist", "LeftHand")):
        rel_b = pos_b[:, bvh.joint_names.index(name_b)] - bvh.root_pos_m[1:]
        rel_m = pos_m[:, mvnx.joint_names.index(name_m)] - mvnx.root_pos_m[1:]
        np.testing.assert_allclose(quat.rotate(yaw, rel_b), rel_m, atol=1e-3, rtol=0, err_msg=name_b)


# ---- units ---------------------------------------------------------------------------------------
@needs_data
def test_units_override_and_validation() -> None:
    path = MOCAP_DIR / "cmu_02_01_walk.bvh"
    auto = read_bvh(path)
    raw = read_bvh(path, units="m")
    np.testing.assert_allclose(raw.root_pos_m * UNITS_M["cmu"], auto.root_pos_m, atol=1e-12)
    scaled = read_bvh(path, units=0.01)
    np.testing.assert_allclose(scaled.offsets_m, raw.offsets_m * 0.01, atol=1e-12)
    for bad in ("furlong", -1.0, float("nan"), True):
        with pytest.raises(MocapError, match="units"):
            read_bvh(path, units=bad)


def test_unknown_skeleton_units_guessed_from_size(tmp_path: Path) -> None:
    text = _tiny_bvh(scale=100.0, names=("Root", "Upper", "Lower"))  # 1.7 m tall chain written in cm
    path = tmp_path / "odd.bvh"
    path.write_text(text)
    clip = read_bvh(path)
    assert clip.skeleton == "unknown" and clip.meta["unit"].startswith("cm")
    positions = clip.world_positions()
    assert np.linalg.norm(positions[0, 2] - positions[0, 0]) == pytest.approx(1.7)


# ---- DeepMimic ------------------------------------------------------------------------------------
def _deepmimic_frame(duration_s: float = 1 / 30, knee_rad: float = 0.0, root_y_m: float = 0.9) -> list[float]:
    identity = [1.0, 0.0, 0.0, 0.0]
    frame = [duration_s, 0.0, root_y_m, 0.0] + identity * 3  # root rot, chest, neck
    frame += identity + [knee_rad] + identity * 2 + [0.0]  # right hip, knee, ankle, shoulder, elbow
    frame += identity + [0.0] + identity * 2 + [0.0]  # left side
    assert len(frame) == 44
    return frame


def test_synthetic_deepmimic_pose(tmp_path: Path) -> None:
    path = tmp_path / "motion.txt"
    frames = [_deepmimic_frame(), _deepmimic_frame(knee_rad=-np.pi / 2), _deepmimic_frame(duration_s=0.0)]
    path.write_text(json.dumps({"Loop": "wrap", "Frames": frames}))
    clip = read_deepmimic(path)
    assert clip.fps == 30 and clip.n_frames == 3 and clip.skeleton == "deepmimic"
    pos = clip.world_positions()
    names = clip.joint_names
    np.testing.assert_allclose(pos[0, 0], [0.0, 0.0, 0.9], atol=1e-12)  # Y-up root height -> Z
    np.testing.assert_allclose(pos[0, names.index("chest")] - pos[0, 0], [0, 0, 0.236151], atol=1e-9)
    assert pos[0, names.index("right_hip"), 1] < 0 < pos[0, names.index("left_hip"), 1]  # right = -Y
    knee, ankle = pos[1, names.index("right_knee")], pos[1, names.index("right_ankle")]
    np.testing.assert_allclose(ankle - knee, [-0.40987, 0.0, 0.0], atol=1e-9)  # flexed: shin points back
    assert detect_skeleton(names) == "deepmimic"


def test_deepmimic_uneven_durations_are_resampled(tmp_path: Path) -> None:
    path = tmp_path / "gap.txt"
    frames = [_deepmimic_frame(root_y_m=0.9), _deepmimic_frame(duration_s=2 / 30, root_y_m=1.0),
              _deepmimic_frame(root_y_m=1.2), _deepmimic_frame(duration_s=0.0, root_y_m=1.3)]
    path.write_text(json.dumps({"Loop": "none", "Frames": frames}))
    clip = read_deepmimic(path)
    assert clip.n_frames == 5 and "resampled" in clip.meta
    np.testing.assert_allclose(clip.root_pos_m[:, 2], [0.9, 1.0, 1.1, 1.2, 1.3], atol=1e-9)


@needs_pybullet_data
def test_real_deepmimic_motions() -> None:
    walk = read_deepmimic(PYBULLET_MOTIONS / "humanoid3d_walk.txt")
    assert walk.n_frames == 39 and walk.fps == 30 and walk.meta["loop"] == "wrap"
    assert 0.8 < walk.root_pos_m[:, 2].mean() < 0.9
    ankles = [walk.joint_names.index(n) for n in ("right_ankle", "left_ankle")]
    assert walk.world_positions()[:, ankles, 2].min() < 0.15  # feet reach the ground
    for path in sorted(PYBULLET_MOTIONS.glob("humanoid3d_*.txt")):
        clip = read_deepmimic(path)
        assert np.all(np.isfinite(clip.world_positions())), path.name
    backflip = read_deepmimic(PYBULLET_MOTIONS / "humanoid3d_backflip.txt")
    assert backflip.n_frames == 29 and backflip.fps == 16


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"Loop": "wrap"}', "'Frames'"),
        ('{"Frames": []}', "empty"),
        ('{"Frames": [[0.1, 2, 3]]}', "Frames\\[0\\]: expected a list of 44"),
        ('{"Frames": [["x"]]}', "Frames\\[0\\]"),
        ('{"Loop": "sometimes", "Frames": [[0]]}', "Loop"),
    ],
)
def test_malformed_deepmimic(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad_motion.txt"
    path.write_text(content)
    with pytest.raises(MocapError, match=message) as info:
        read_deepmimic(path)
    assert str(path) in str(info.value)


def test_deepmimic_value_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad_values.txt"
    nan_frame = _deepmimic_frame()
    nan_frame[2] = float("nan")
    zero_quat = _deepmimic_frame()
    zero_quat[8:12] = [0.0, 0.0, 0.0, 0.0]
    for frames, message in (([nan_frame], "not finite"), ([zero_quat], "chest quaternion"),
                            ([_deepmimic_frame(duration_s=0.0)] * 2, "duration")):
        path.write_text(json.dumps({"Frames": frames}))  # json writes NaN, as Python's reader accepts it
        with pytest.raises(MocapError, match=message):
            read_deepmimic(path)


# ---- saved clips -------------------------------------------------------------------------------------
def _small_clip(**changes) -> Clip:
    rng = np.random.default_rng(0)
    fields = dict(
        fps=60.0,
        joint_names=("pelvis", "spine", "head"),
        parents=np.array([-1, 0, 1]),
        offsets_m=np.array([[0, 0, 0], [0, 0, 0.2], [0, 0, 0.3]], dtype=float),
        root_pos_m=rng.normal(size=(4, 3)),
        rotations=quat.normalize(rng.normal(size=(4, 3, 4))),
        end_site_parents=np.array([2]),
        end_site_offsets_m=np.array([[0.0, 0.0, 0.1]]),
        contacts=rng.random((4, 2)) > 0.5,
        contact_names=("l_foot", "r_foot"),
        recorded_positions_m=rng.normal(size=(4, 3, 3)),
        source="made-up.bvh",
        skeleton="unknown",
        meta={"unit": "m"},
    )
    fields.update(changes)
    return Clip(**fields)


def test_npz_round_trip_is_exact(tmp_path: Path) -> None:
    clip = _small_clip()
    path = clip.save_npz(tmp_path / "clip.npz")
    loaded = Clip.load_npz(path)
    for name in ("parents", "offsets_m", "root_pos_m", "rotations", "end_site_parents", "end_site_offsets_m",
                 "contacts", "recorded_positions_m"):
        assert np.array_equal(getattr(loaded, name), getattr(clip, name)), name
        assert getattr(loaded, name).dtype == getattr(clip, name).dtype, name
    for name in ("fps", "joint_names", "contact_names", "source", "skeleton"):
        assert getattr(loaded, name) == getattr(clip, name), name
    assert dict(loaded.meta) == dict(clip.meta)
    assert load_clip(path).n_frames == 4


@needs_data
def test_npz_round_trip_of_real_clip(tmp_path: Path) -> None:
    clip = read_mvnx(MOCAP_DIR / "xsens_upperbody_test_mocap.mvnx")
    loaded = Clip.load_npz(clip.save_npz(tmp_path / "xsens.npz"))
    assert np.array_equal(loaded.rotations, clip.rotations) and loaded.contact_names == clip.contact_names
    assert np.array_equal(loaded.world_positions(), clip.world_positions())


def test_save_npz_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "clip.npz"
    path.write_bytes(b"precious")
    with pytest.raises(MocapError, match="exists"):
        _small_clip().save_npz(path)
    assert path.read_bytes() == b"precious"
    _small_clip().save_npz(path, overwrite=True)
    assert Clip.load_npz(path).n_frames == 4
    assert [p.name for p in tmp_path.iterdir()] == ["clip.npz"]  # no temporary files left behind


def test_load_npz_uses_allow_pickle_false(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    Clip.load_npz(_small_clip().save_npz(tmp_path / "clip.npz"))
    assert calls and all(call.get("allow_pickle") is False for call in calls)


def _tamper(tmp_path: Path, **changes) -> Path:
    arrays = _small_clip().to_arrays()
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    path = tmp_path / "tampered.npz"
    np.savez(path, **arrays)  # object arrays get pickled here; the loader must refuse them
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"meta_json": np.array([{"a": 1}], dtype=object)}, "meta_json.*pickle"),
        ({"joint_names": np.array(["a", 1], dtype=object)}, "joint_names.*pickle"),
        ({"rotations": np.zeros((4, 3, 4))}, "rotations.*norm"),
        ({"root_pos_m": np.full((4, 3), np.nan)}, "root_pos_m.*non-finite"),
        ({"offsets_m": np.zeros((2, 3))}, "offsets_m.*shape"),
        ({"parents": np.array([-1, 2, 0])}, "parents"),
        ({"rotations": np.ones((4, 3, 4), dtype=np.complex128)}, "rotations.*dtype"),
        ({"fps": np.array(-5.0)}, "fps"),
        ({"contacts": np.ones((4, 3), dtype=bool)}, "contacts"),
        ({"format_version": np.array(99)}, "format_version"),
        ({"skeleton": None}, "missing fields \\['skeleton'\\]"),
        ({"payload": np.zeros(3)}, "unknown fields \\['payload'\\]"),
    ],
)
def test_tampered_npz_is_rejected(tmp_path: Path, changes: dict, message: str) -> None:
    path = _tamper(tmp_path, **changes)
    with pytest.raises(MocapError, match=message) as info:
        Clip.load_npz(path)
    assert str(path) in str(info.value)


def test_garbage_npz_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(MocapError, match="garbage.npz"):
        Clip.load_npz(path)
    with pytest.raises(MocapError, match="missing.npz"):
        Clip.load_npz(tmp_path / "missing.npz")


def test_clip_validation() -> None:
    with pytest.raises(MocapError, match="parents must precede"):
        _small_clip(parents=np.array([-1, 2, 1]))
    with pytest.raises(MocapError, match="duplicate"):
        _small_clip(joint_names=("a", "a", "b"))
    nearly = _small_clip().rotations * (1 + 5e-4)
    assert np.allclose(np.linalg.norm(_small_clip(rotations=nearly).rotations, axis=-1), 1, atol=1e-12)
    with pytest.raises(MocapError, match="norm"):
        _small_clip(rotations=_small_clip().rotations * 1.01)
    with pytest.raises(MocapError, match="meta"):
        _small_clip(meta={"n": 3})
    clip = _small_clip()
    with pytest.raises(ValueError):
        clip.rotations[0, 0, 0] = 2.0  # arrays are read-only


# ---- quaternions ------------------------------------------------------------------------------------
def test_quaternion_helpers() -> None:
    rng = np.random.default_rng(1)
    angles = rng.uniform(-np.pi, np.pi, size=(50, 3))
    for order in ("XYZ", "ZXY", "YXZ", "ZYX", "ZXZ"):
        q = quat.from_euler(angles, order)
        expected = np.eye(3)
        for i, a in enumerate(order):
            expected = expected @ quat.to_matrix(quat.from_axis_angle(np.eye(3)["XYZ".index(a)], angles[:, i]))
        np.testing.assert_allclose(quat.to_matrix(q), expected, atol=1e-12)
    q = quat.normalize(rng.normal(size=(100, 4)))
    back = quat.from_matrix(quat.to_matrix(q))
    assert np.allclose(np.abs(np.sum(back * q, axis=-1)), 1.0, atol=1e-12)
    v = rng.normal(size=(100, 3))
    np.testing.assert_allclose(quat.rotate(q, v), np.einsum("nij,nj->ni", quat.to_matrix(q), v), atol=1e-12)
    np.testing.assert_allclose(quat.multiply(q, quat.conjugate(q)), np.tile(quat.IDENTITY, (100, 1)), atol=1e-12)
    half = quat.slerp(quat.IDENTITY, quat.from_axis_angle(np.array([0, 0, 1.0]), np.pi / 2), 0.5)
    np.testing.assert_allclose(half, quat.from_axis_angle(np.array([0, 0, 1.0]), np.pi / 4), atol=1e-12)
    flipped = q[:2].copy()
    flipped[1] = -q[0]
    assert np.allclose(quat.make_continuous(flipped)[1], q[0])
    np.testing.assert_allclose(quat.rotate(quat.from_axis_angle(np.array([1.0, 0, 0]), np.pi / 2), [1, 2, 3]),
                               [1, -3, 2], atol=1e-12)  # the Y-up -> Z-up map (x, y, z) -> (x, -z, y)


# ---- skeletons -------------------------------------------------------------------------------------
def test_skeleton_detection_of_both_cmu_releases() -> None:
    cmu = match_skeleton([*_names("cmu")])
    assert cmu is not None and cmu.name == "cmu" and cmu.family == "cmu"
    lfingers = match_skeleton([*_names("cmu_lfingers")])
    assert lfingers is not None and lfingers.name == "cmu_lfingers" and lfingers.family == "cmu"
    assert detect_skeleton(_names("sfu")) == "sfu"
    indices = canonical_indices(_names("xsens_mvn_mvnx"))
    assert set(indices) == set(canonical_joints())


def _names(layout: str) -> tuple[str, ...]:
    from sportsim.mocap.skeletons import builtin_skeletons

    return next(s.joints for s in builtin_skeletons() if s.name == layout)


def test_unknown_skeleton_error_names_the_map_command_and_prints_valid_yaml() -> None:
    names = ["mixamorig:Hips", "mixamorig:Spine", "mixamorig:LeftUpLeg", "mixamorig:Head"]
    with pytest.raises(MocapError) as info:
        detect_skeleton(names, source="take.bvh")
    message = str(info.value)
    assert message.startswith("take.bvh: unknown skeleton")
    assert "python -m sportsim.mocap map take.bvh" in message and "--mapping" in message
    template = yaml.safe_load(message.split("The template:\n", 1)[1])  # multi-line YAML that parses
    assert template["joints"] == names and "bvh_unit" not in template
    assert template["map"]["pelvis"] == "<joint name>" and "spine" not in template["map"]  # optional: commented


def test_user_mapping_from_yaml(tmp_path: Path) -> None:
    names = ["root", "torso", "skull", "l_thigh", "l_shin"]
    path = tmp_path / "custom.yaml"
    path.write_text(
        "name: custom_rig\nfamily: custom\nbvh_unit: m\n"
        f"joints: [{', '.join(names)}]\n"
        "map:\n  pelvis: root\n  chest: torso\n  head: skull\n  l_hip: l_thigh\n  l_knee: l_shin\n"
    )
    custom = load_mapping(path)
    assert custom.family == "custom" and custom.canonical["l_knee"] == "l_shin"
    assert detect_skeleton(names, extra=[custom]) == "custom"
    assert canonical_indices(names, extra=[custom])["head"] == 2
    bvh = tmp_path / "custom.bvh"
    bvh.write_text(_tiny_bvh(names=("root", "torso", "skull")))
    assert read_bvh(bvh).skeleton == "unknown"
    custom_three = load_mapping(_write(tmp_path / "three.yaml", "name: three\njoints: [root, torso, skull]\n"
                                                                 "map: {pelvis: root, chest: torso}\n"))
    assert read_bvh(bvh, skeletons=[custom_three]).skeleton == "three"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "expected a mapping"),
        ("name: x\njoints: [a]\nmap: {pelvis: b}\n", "'b'.*not in 'joints'"),
        ("name: x\njoints: [a]\nmap: {elbow_thing: a}\n", "not a canonical joint"),
        ("name: x\njoints: [a]\nmap: {pelvis: a}\nbvh_unit: furlong\n", "bvh_unit"),
        ("name: x\njoints: [a, a]\nmap: {pelvis: a}\n", "twice"),
        ("name: x\njoints: [a]\nmap: {chest: a}\n", "pelvis"),
        ("name: [unclosed\n", "cannot read"),
        ("name: x\njoints: [a]\nmap: {pelvis: a}\nextra: 1\n", "unknown keys"),
    ],
)
def test_invalid_user_mapping(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path / "bad.yaml", text)
    with pytest.raises(MocapError, match=message) as info:
        load_mapping(path)
    assert str(path) in str(info.value)


def test_load_clip_rejects_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(MocapError, match="unknown motion file type '.fbx'"):
        load_clip(tmp_path / "take.fbx")


# ---- malformed BVH ---------------------------------------------------------------------------------
def _tiny_bvh(scale: float = 1.0, names: tuple[str, str, str] = ("Hips", "Spine", "Head"),
              frames: int = 3) -> str:
    """A 3-joint chain 1.7 m tall (x ``scale``): root 6 channels, others 3 (12 values per row).

    Line numbers: 1 HIERARCHY, 2 ROOT, 4 OFFSET, 5 CHANNELS, 6 JOINT, 9 CHANNELS, 10 JOINT, 13 CHANNELS,
    14 End Site, 20 '}' (root), 21 MOTION, 22 Frames, 23 Frame Time, 24.. rows.
    """
    s = scale
    rows = [" ".join(str(v) for v in [0, 0.9 * s, 0, 10.0 * k, -179.5, 179.9, 5, 0, 0, 0, 0, 0])
            for k in range(frames)]
    return "\n".join([
        "HIERARCHY",
        f"ROOT {names[0]}",
        "{",
        "\tOFFSET 0 0 0",
        "\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation",
        f"\tJOINT {names[1]}",
        "\t{",
        f"\t\tOFFSET 0 {0.8 * s} 0",
        "\t\tCHANNELS 3 Yrotation Xrotation Zrotation",
        f"\t\tJOINT {names[2]}",
        "\t\t{",
        f"\t\t\tOFFSET 0 {0.9 * s} 0",
        "\t\t\tCHANNELS 3 Xrotation Zrotation Yrotation",
        "\t\t\tEnd Site",
        "\t\t\t{",
        f"\t\t\t\tOFFSET 0 {0.1 * s} 0",
        "\t\t\t}",
        "\t\t}",
        "\t}",
        "}",
        "MOTION",
        f"Frames: {frames}",
        "Frame Time: 0.0333333",
        *rows,
        "",
    ])


def test_tiny_bvh_reads(tmp_path: Path) -> None:
    path = _write(tmp_path / "tiny.bvh", _tiny_bvh())
    clip = read_bvh(path, units="m")
    assert clip.n_frames == 3 and clip.fps == 30 and clip.joint_names == ("Hips", "Spine", "Head")
    assert clip.end_site_positions().shape == (3, 1, 3)


def _replace_line(text: str, line: int, new: str) -> str:
    lines = text.split("\n")
    lines[line - 1] = new
    return "\n".join(lines)


def _animated_child_bvh() -> str:
    """TINY with 6 channels on Spine whose translation moves by 40 cm per frame along its 0.8 m bone (rms 41 %
    of its length: a joint that moves, not one that jitters; the root turns, so it cannot be folded away)."""
    lines = TINY.split("\n")
    lines[8] = "\t\tCHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation"
    for k in range(3):
        lines[23 + k] = " ".join(["0", "0.9", "0", str(10 * k), "0", "0", "0", str(0.4 + 0.4 * k), "0"] + ["0"] * 6)
    return "\n".join(lines)


TINY = _tiny_bvh()
def test_extra_rows_are_ignored_with_a_note_missing_rows_are_an_error(tmp_path: Path) -> None:
    clip = read_bvh(_write(tmp_path / "extra.bvh", TINY.replace("Frames: 3", "Frames: 2")))
    assert clip.n_frames == 2
    assert clip.meta["extra_rows"].startswith("1 motion rows after the 2 announced by 'Frames:' (line 22)")
    report = validate(clip)
    assert any(r.check == "frame count" and r.status == "warning" for r in report.rows)
    with pytest.raises(MocapError, match="file ends after 3 motion rows but 'Frames: 4'"):
        read_bvh(_write(tmp_path / "short.bvh", TINY.replace("Frames: 3", "Frames: 4")))


BAD_BVH = {
    "empty": ("", "line 1: empty file"),
    "whitespace only": ("  \n\n", "line 1: empty file"),
    "not utf-8": (TINY.replace("Spine", "Sp\xff\x01ine").encode("latin-1"), "line 6: not UTF-8"),  # nor Latin-1 text
    "truncated mid-row": (TINY[: TINY.index("\n", TINY.index("Frame Time")) + 30], "line 24: expected 12 values"),
    "truncated in hierarchy": (TINY[: TINY.index("JOINT Head")], "line 10: unexpected end of file"),
    "missing rows": ("\n".join(TINY.split("\n")[:25]), "line 25: file ends after 2 motion rows"),
    "row too short": (_replace_line(TINY, 25, "0 0.9 0 0 0 0 0 0 0 0 0"), "line 25: expected 12 values, got 11"),
    "row too long": (_replace_line(TINY, 26, "0 " * 13), "line 26: expected 12 values, got 13"),
    "not a number": (_replace_line(TINY, 25, "0 0.9 0 0 0 0 0 zero 0 0 0 0"), "line 25: value 8 is not a number"),
    "nan": (_replace_line(TINY, 24, "0 nan 0 0 0 0 0 0 0 0 0 0"), "line 24: value 2 is not finite"),
    "inf": (_replace_line(TINY, 26, "0 0 0 0 0 0 0 0 0 0 0 -inf"), "line 26: value 12 is not finite"),
    "negative frames": (TINY.replace("Frames: 3", "Frames: -3"), "line 22: 'Frames:' must be a non-negative"),
    "zero frames": (TINY.replace("Frames: 3", "Frames: 0"), "line 22: 'Frames: 0'"),
    "huge frames": (TINY.replace("Frames: 3", "Frames: 99999999999999"), "announces 99999999999999"),
    "tiny frame time": (TINY.replace("0.0333333", "1e-300"), "line 23: 'Frame Time: 1e-300' s is not a capture rate"),
    "huge frame time": (TINY.replace("0.0333333", "1e300"), "line 23: 'Frame Time: 1e300' s is not a capture rate"),
    "line of a gigabyte": (TINY.replace("MOTION", "MOTION " + "9" * (5 << 20)), "line 21: longer than 4 MiB"),
    "fractional frames": (TINY.replace("Frames: 3", "Frames: 2.5"), "line 22: 'Frames:'"),
    "zero frame time": (TINY.replace("0.0333333", "0"), "line 23: 'Frame Time:' must be a positive"),
    "negative frame time": (TINY.replace("0.0333333", "-0.01"), "line 23: 'Frame Time:' must be a positive"),
    "missing MOTION": (TINY.replace("MOTION\n", ""), "line 21: expected 'MOTION'"),
    "missing closing brace": (_replace_line(TINY, 20, ""), "line 21: expected JOINT, End Site or '}'.*unbalanced"),
    "extra closing brace": (_replace_line(TINY, 20, "}\n}"), "line 21: expected 'MOTION'"),
    "JOINT outside ROOT": (TINY.replace("ROOT Hips", "JOINT Hips"), "line 2: expected 'ROOT'.*JOINT outside ROOT"),
    "unknown channel": (TINY.replace("Yrotation Xrotation Zrotation", "Yrotation Xrotation Wrotation"),
                        "line 9: unknown channel 'Wrotation'"),
    "channel count too high": (TINY.replace("CHANNELS 3 Yrotation", "CHANNELS 4 Yrotation"),
                               "line 10: unknown channel 'JOINT'"),
    "channel count not a number": (TINY.replace("CHANNELS 3 Yrotation", "CHANNELS three Yrotation"),
                                   "line 9: channel count"),
    "repeated channel": (TINY.replace("Yrotation Xrotation Zrotation", "Yrotation Yrotation Zrotation"),
                         "line 9: channel Yrotation listed twice"),
    "duplicate joint": (TINY.replace("JOINT Head", "JOINT Spine"), "line 10: duplicate joint name 'Spine'"),
    "bad offset": (TINY.replace("OFFSET 0 0.8 0", "OFFSET 0 x 0"), "line 8: expected OFFSET value"),
    "nan offset": (TINY.replace("OFFSET 0 0.8 0", "OFFSET 0 nan 0"), "line 8: OFFSET value .* not finite"),
    "no HIERARCHY": (TINY.replace("HIERARCHY", "HIERARCHX"), "line 1: expected 'HIERARCHY'"),
    "second ROOT": (TINY.replace("MOTION", "ROOT Other\n{\n}\nMOTION"), "line 21: expected 'MOTION'.*second ROOT"),
    "animated child translation": (_animated_child_bvh(), "line 6: joint 'Spine' has translation channels that vary"),
}


@pytest.mark.parametrize("case", sorted(BAD_BVH))
def test_bad_bvh_raises_mocap_error_with_file_and_line(tmp_path: Path, case: str) -> None:
    content, message = BAD_BVH[case]
    path = tmp_path / "broken.bvh"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(MocapError, match=message) as info:
        read_bvh(path)
    assert str(info.value).startswith(f"{path}: line ")


def test_huge_frames_count_does_not_allocate(tmp_path: Path) -> None:
    import tracemalloc

    path = _write(tmp_path / "huge.bvh", TINY.replace("Frames: 3", "Frames: 4000000000"))
    tracemalloc.start()
    with pytest.raises(MocapError, match="announces 4000000000"):
        read_bvh(path)
    peak_bytes = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak_bytes < 5_000_000


def test_missing_bvh_file(tmp_path: Path) -> None:
    with pytest.raises(MocapError, match="nowhere.bvh: cannot read file"):
        read_bvh(tmp_path / "nowhere.bvh")


# ---- malformed MVNX -------------------------------------------------------------------------------------
MVNX_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<mvnx version="4" xmlns="http://www.xsens.com/mvn/mvnx">
<subject label="s" frameRate="60" segmentCount="2">
<segments>
<segment label="Pelvis" id="1"><points>
<point label="pHipOrigin"><pos_b>0 0 0</pos_b></point>
<point label="jL5S1"><pos_b>0 0 0.1</pos_b></point>
</points></segment>
<segment label="L5" id="2"><points>
<point label="jL5S1"><pos_b>0 0 0</pos_b></point>
</points></segment>
</segments>
<joints><joint label="jL5S1"><connector1>Pelvis/jL5S1</connector1><connector2>L5/jL5S1</connector2></joint></joints>
<footContactDefinition><contactDefinition label="LeftFoot_Heel" index="0"/></footContactDefinition>
<frames segmentCount="2">
<frame time="0" type="identity"><orientation>1 0 0 0 1 0 0 0</orientation><position>0 0 1 0 0 1.1</position></frame>
"""
MVNX_FRAME = ('<frame time="{t}" index="{i}" type="normal"><orientation>1 0 0 0 0.7071068 0.7071068 0 0'
              '</orientation><position>0 0 {z} 0 0 {z1}</position><footContacts>1</footContacts></frame>\n')
MVNX_FOOTER = "</frames>\n</subject>\n</mvnx>\n"


def _tiny_mvnx(frames: int = 3) -> str:
    body = "".join(MVNX_FRAME.format(t=17 * i, i=i, z=1.0 + i, z1=1.1 + i) for i in range(frames))
    return MVNX_HEADER + body + MVNX_FOOTER


def test_tiny_mvnx_reads(tmp_path: Path) -> None:
    clip = read_mvnx(_write(tmp_path / "tiny.mvnx", _tiny_mvnx()))
    assert clip.n_frames == 3 and clip.joint_names == ("Pelvis", "L5") and clip.contacts.all()
    np.testing.assert_allclose(clip.world_positions(), clip.recorded_positions_m, atol=1e-9)
    version3 = read_mvnx(_write(tmp_path / "v3.mvnx", _tiny_mvnx().replace('version="4"', 'version="3"')))
    assert version3.meta["mvnx_version"] == "3" and version3.n_frames == 3


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<mvnx version="4"><subject frameRate="60">&lol4;</subject></mvnx>
"""
TINY_MVNX = _tiny_mvnx()
BAD_MVNX = {
    "billion laughs": (BILLION_LAUGHS, "refused unsafe XML"),
    "external entity": ('<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                        '<mvnx version="4">&x;</mvnx>\n', "refused unsafe XML"),
    "plain DTD": ('<?xml version="1.0"?>\n<!DOCTYPE mvnx SYSTEM "http://example.com/schema.dtd">\n'
                  '<mvnx version="4"/>\n', "refused unsafe XML"),
    "truncated": (TINY_MVNX[: len(TINY_MVNX) // 2 + 7], "line \\d+, column \\d+: malformed XML"),
    "not utf-8": (TINY_MVNX.replace('label="s"', 'label="\xe9"').encode("latin-1"),
                  "line 3, column \\d+: malformed XML"),
    "empty": ("", "line 1, column 0: malformed XML"),
    "short orientation": (TINY_MVNX.replace("0.7071068 0 0</orientation>", "0.7071068 0</orientation>", 1),
                          "<frame> #2 \\(index='0', time='0', type='normal'\\) <orientation>: "
                          "expected 8 values, got 7"),
    "bad number": (TINY_MVNX.replace("<position>0 0 2.0", "<position>0 0 two", 1),
                   "<frame> #3 .* <position>: not a number: 'two'"),
    "unsupported version": (TINY_MVNX.replace('version="4"', 'version="2"'), "<mvnx version='2'>"),
    "no normal frames": (MVNX_HEADER + MVNX_FOOTER, "no frames of type 'normal' \\(1 calibration"),
    "bad frame type": (TINY_MVNX.replace('type="normal"', 'type="weird"', 1), "<frame> #2 .*unknown frame type"),
    "zero frame rate": (TINY_MVNX.replace('frameRate="60"', 'frameRate="0"'), "<subject frameRate>"),
    "unknown point": (TINY_MVNX.replace("<connector2>L5/jL5S1", "<connector2>L5/jNowhere"),
                      "<joint label='jL5S1'>: L5/jNowhere is not a segment point"),
    "zero quaternion": (TINY_MVNX.replace("<orientation>1 0 0 0 0.7071068", "<orientation>0 0 0 0 0.7071068", 1),
                        "normal frame 0: <orientation> of segment 'Pelvis'"),
}


@pytest.mark.parametrize("case", sorted(BAD_MVNX))
def test_bad_mvnx_raises_mocap_error_naming_file_and_place(tmp_path: Path, case: str) -> None:
    content, message = BAD_MVNX[case]
    path = tmp_path / "broken.mvnx"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(MocapError, match=message) as info:
        read_mvnx(path)
    assert str(info.value).startswith(f"{path}: ")


def _six_channel_bvh(jitter_m: float, frames: int = 40) -> str:
    """TINY with 6 channels on every joint (a 3ds-Max-like export): Spine's and Head's translations wobble
    about (0, 0.75, 0) and (0, 0.9, 0) by ``jitter_m`` (a sine, x and y), their OFFSETs say 0.8 and 0.9."""
    lines = TINY.split("\n")
    for line in (8, 12):
        lines[line] = "\t" * (line // 4) + "CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation"
    wobble = jitter_m * np.sin(np.arange(frames) * 0.7)
    rows = [" ".join(f"{v:.6f}" for v in [0, 0.9, 0, 10.0 * k, 0, 0, w, 0.75 + w, 0, 5, 0, 0, -w, 0.9 + w, 0, 0, 0, 0])
            for k, w in enumerate(wobble)]
    return "\n".join(lines[:21] + [f"Frames: {frames}", "Frame Time: 0.0333333", *rows, ""])


def test_translation_channels_that_jitter_are_held_at_their_mean_with_a_warning(tmp_path: Path) -> None:
    """autok_test.bvh (Auto_K) writes 6 channels on every joint whose bones stretch by millimetres: read,
    each bone held at the mean of its channels (which replace the OFFSET in BVH), and warned; a joint
    that moves more than 10 % of its bone length (rms) is still refused."""
    path = _write(tmp_path / "six.bvh", _six_channel_bvh(0.02))
    clip = read_bvh(path, units="m")
    np.testing.assert_allclose(clip.offsets_m[1], [0.0, 0.0, 0.75], atol=0.01)  # Z up; the mean, not OFFSET 0.8
    note = clip.meta["bone_jitter"]
    assert note.startswith("2 joint(s) with varying translation channels held at their mean") and "'Spine'" in note
    assert any(r.check == "bone lengths" and r.status == "warning" for r in validate(clip).rows)
    assert "bone_jitter" not in read_bvh(_write(tmp_path / "tiny.bvh", TINY), units="m").meta
    with pytest.raises(MocapError, match=r"moving.bvh: line 6: joint 'Spine' has translation channels that vary by"):
        read_bvh(_write(tmp_path / "moving.bvh", _six_channel_bvh(0.15)), units="m")


def test_static_root_with_moving_only_child_is_folded(tmp_path: Path) -> None:
    """The Bandai layout in miniature: a still root whose only child carries the translation."""
    lines = _animated_child_bvh().split("\n")
    for k in range(3):
        lines[23 + k] = " ".join(["0", "0", "0", "0", "0", "0", str(k), str(0.8 + 0.1 * k), "0"] + ["0"] * 6)
    clip = read_bvh(_write(tmp_path / "folded.bvh", "\n".join(lines)), units="m")
    assert clip.meta["folded_root"] == "Hips" and clip.joint_names == ("Spine", "Head")
    np.testing.assert_allclose(clip.root_pos_m, [[k, 0.0, 0.8 + 0.1 * k] for k in range(3)], atol=1e-12)


def test_static_root_whose_child_swings_little_against_a_long_offset_is_still_folded(tmp_path: Path) -> None:
    """ROMP's SMPL export: a still root 3 m from its pelvis, whose channels carry the whole motion - a sway
    of 0.26 m rms, under 10 % of that offset. It is the motion, not bone jitter: folded, not held."""
    lines = _animated_child_bvh().split("\n")
    lines[7] = "\t\tOFFSET 0 3 0"
    for k in range(3):
        lines[23 + k] = " ".join(["0", "0", "0", "0", "0", "0", str(0.2 * k), "3", "0"] + ["0"] * 6)
    clip = read_bvh(_write(tmp_path / "sway.bvh", "\n".join(lines)), units="m")
    assert clip.meta["folded_root"] == "Hips" and "bone_jitter" not in clip.meta
    np.testing.assert_allclose(clip.root_pos_m, [[0.2 * k, 0.0, 3.0] for k in range(3)], atol=1e-12)
