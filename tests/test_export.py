"""``python -m sportsim.export``: BVH that sportsim's reader and bvhio both read back onto the humanoid's
bodies within 1 mm; TRC and MOT files read by parsers written here from OpenSim's format description
(OpenSim documentation, "Marker (.trc) Files" and "Storage (.sto) Files"/".mot") and by OpenSim 4.6
itself (the ``opensim`` wheel); the ONNX policy's
actions equal SB3's within 1e-5 (ONNX Runtime); outputs never overwritten unless asked, one-line errors.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import mujoco
import numpy as np
import pytest

from sportsim import humanoid
from sportsim.errors import ConfigError
from sportsim.export import check_outputs, export
from sportsim.export.formats import ExportMotion, point_names, write_bvh, write_mot, write_trc

ZOO_WALK = "zoo:imitation/walk/ppo"
BVH_TOL_M = 1e-3


@pytest.fixture(scope="module")
def motion() -> ExportMotion:
    """40 frames of the humanoid in random, smoothly changing poses, walking off diagonally."""
    model = humanoid.build_humanoid_model()
    rng = np.random.default_rng(0)
    n = 40
    qpos = np.tile(model.qpos0, (n, 1))
    qpos[:, 0] = np.linspace(0.0, 1.2, n)
    qpos[:, 1] = np.linspace(0.0, -0.5, n)
    qpos[:, 2] = 1.0 + 0.05 * np.sin(np.linspace(0, 6, n))
    for j in range(model.njnt):
        a = model.jnt_qposadr[j]
        if model.jnt_type[j] in (mujoco.mjtJoint.mjJNT_BALL, mujoco.mjtJoint.mjJNT_FREE):
            start = a + (3 if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE else 0)
            axis = rng.normal(size=3)
            angle = np.linspace(0.0, rng.uniform(0.3, 1.5), n)[:, None]
            q = np.hstack([np.cos(angle / 2), np.sin(angle / 2) * axis / np.linalg.norm(axis)])
            qpos[:, start:start + 4] = q
        else:
            qpos[:, a] = np.linspace(0.0, rng.uniform(0.2, 1.5), n)
    return ExportMotion(model, qpos, 30.0, "random poses")


def _body_positions(motion: ExportMotion) -> dict[str, np.ndarray]:
    pos, _, _ = motion.kinematics()
    return {motion.model.body(b).name: pos[:, b] for b in range(1, motion.model.nbody)}


def test_bvh_round_trip_through_sportsims_reader(motion, tmp_path):
    from sportsim.mocap import read_bvh

    path = write_bvh(motion, tmp_path / "walk.bvh")
    clip = read_bvh(path)
    assert clip.skeleton == "sportsim"  # the sportsim_humanoid layout of skeletons.yaml, cm
    assert clip.fps == pytest.approx(30.0) and clip.n_frames == motion.n_frames
    world = clip.world_positions()
    expected = _body_positions(motion)
    errors = [np.linalg.norm(world[:, clip.joint_names.index(name)] - pos, axis=-1).max()
              for name, pos in expected.items()]
    assert max(errors) < BVH_TOL_M


def test_bvh_round_trip_through_bvhio(motion, tmp_path):
    bvhio = pytest.importorskip("bvhio")
    path = write_bvh(motion, tmp_path / "walk.bvh")
    root = bvhio.readAsHierarchy(str(path))
    joints = {joint.Name: joint for joint, _, _ in root.layout()}
    expected = _body_positions(motion)
    worst = 0.0
    for frame in range(motion.n_frames):
        root.loadPose(frame)
        for name, pos in expected.items():
            x, y, z = joints[name].PositionWorld
            zup = np.array([x, -z, y]) / 100.0  # BVH Y up, cm -> Z up, m
            worst = max(worst, float(np.linalg.norm(zup - pos[frame])))
    assert worst < BVH_TOL_M


def test_bvh_never_overwrites_and_writes_atomically(motion, tmp_path):
    out = tmp_path / "walk.bvh"
    out.write_text("user data")
    with pytest.raises(ConfigError, match="file exists; add overwrite=true"):
        check_outputs([out], overwrite=False)
    assert out.read_text() == "user data"
    assert check_outputs([out], overwrite=True) == [out]
    write_bvh(motion, out)
    assert out.read_text().startswith("HIERARCHY") and list(tmp_path.iterdir()) == [out]


# --- OpenSim formats, read by parsers written from OpenSim's documentation ------------------------------

def parse_trc(path: Path) -> tuple[dict[str, str], list[str], np.ndarray]:
    """TRC: line 1 'PathFileType 4 (X/Y/Z) <file>'; line 2 header keys and line 3 their values
    (DataRate CameraRate NumFrames NumMarkers Units OrigDataRate OrigDataStartFrame OrigNumFrames);
    line 4 'Frame# Time' and the marker names (each over three columns); line 5 the X1 Y1 Z1 ... labels;
    then (after an optional blank line) one row per frame: frame number, time, 3 coordinates per marker."""
    lines = path.read_text().splitlines()
    first = lines[0].split("\t")
    assert first[0] == "PathFileType" and first[1] == "4" and first[2] == "(X/Y/Z)"
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t")))
    names_row = lines[3].split("\t")
    assert names_row[:2] == ["Frame#", "Time"]
    markers = [n for n in names_row[2:] if n]
    labels = lines[4].split("\t")[2:]
    assert labels == [f"{a}{i}" for i in range(1, len(markers) + 1) for a in "XYZ"]
    rows = np.array([[float(v) for v in line.split("\t")] for line in lines[5:] if line.strip()])
    return header, markers, rows


def parse_mot(path: Path) -> tuple[dict[str, str], list[str], np.ndarray]:
    """MOT/STO: a name line, then 'key=value' header lines (version, nRows, nColumns, inDegrees) and
    free text up to 'endheader'; then the column labels (the first is time) and nRows rows of
    nColumns numbers, tab or space separated."""
    lines = path.read_text().splitlines()
    end = lines.index("endheader")
    header = dict(line.split("=", 1) for line in lines[1:end] if "=" in line)
    columns = lines[end + 1].split()
    rows = np.array([[float(v) for v in line.split()] for line in lines[end + 2:] if line.strip()])
    return header, columns, rows


def test_trc_is_opensims_marker_format(motion, tmp_path):
    path = write_trc(motion, tmp_path / "walk.trc")
    header, markers, rows = parse_trc(path)
    assert header["NumFrames"] == str(motion.n_frames) and header["NumMarkers"] == str(len(markers))
    assert header["Units"] == "m" and float(header["DataRate"]) == 30.0
    assert markers == list(point_names())
    assert rows.shape == (motion.n_frames, 2 + 3 * len(markers))
    assert np.allclose(rows[:, 1], motion.times_s, atol=1e-6)
    _, _, points = motion.kinematics()
    y_up = np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)  # OpenSim: Y up, Z right
    assert np.allclose(rows[:, 2:].reshape(motion.n_frames, -1, 3), y_up, atol=2e-6)


def test_mot_is_opensims_storage_format(motion, tmp_path):
    motion.grf_n = np.zeros((motion.n_frames, 2, 3))
    motion.grf_n[:, :, 2] = 350.0
    motion.cop_m = np.full((motion.n_frames, 2, 3), np.nan)
    try:
        path = write_mot(motion, tmp_path / "walk.mot")
    finally:
        motion.grf_n = motion.cop_m = None
    header, columns, rows = parse_mot(path)
    assert header["version"] == "1" and header["inDegrees"] == "yes"
    assert int(header["nRows"]) == len(rows) == motion.n_frames and int(header["nColumns"]) == len(columns)
    assert columns[0] == "time" and {"pelvis_tx", "pelvis_ty", "right_knee", "right_hip_y"} <= set(columns)
    assert np.allclose(rows[:, columns.index("right_knee")], np.degrees(
        motion.qpos[:, motion.model.jnt_qposadr[motion.model.joint("right_knee").id]]), atol=1e-5)
    assert np.allclose(rows[:, columns.index("ground_force_r_vy")], 350.0)  # Z-up vertical -> OpenSim's Y
    assert np.allclose(rows[:, columns.index("pelvis_ty")], motion.qpos[:, 2], atol=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("opensim") is None,
                    reason="the opensim package (PyPI wheel, in the dev extra) is not installed")
def test_opensim_reads_the_files(motion, tmp_path):
    import opensim

    trc = opensim.TimeSeriesTableVec3(str(write_trc(motion, tmp_path / "walk.trc")))
    assert trc.getNumRows() == motion.n_frames and trc.getNumColumns() == len(point_names())
    assert list(trc.getColumnLabels()) == list(point_names()) and trc.getTableMetaDataAsString("Units") == "m"
    _, _, points = motion.kinematics()
    first = trc.getRowAtIndex(3)[0]
    assert [first.get(i) for i in range(3)] == pytest.approx([points[3, 0, 0], points[3, 0, 2], -points[3, 0, 1]],
                                                            abs=2e-6)
    storage = opensim.Storage(str(write_mot(motion, tmp_path / "walk.mot")))
    assert storage.getSize() == motion.n_frames and storage.isInDegrees()
    table = opensim.TimeSeriesTable(str(tmp_path / "walk.mot"))
    assert "right_knee" in list(table.getColumnLabels())


# --- a policy: rollout, every format, ONNX --------------------------------------------------------------

def test_zoo_policy_to_every_format_and_onnx_matches_sb3(tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    outs = [tmp_path / f"walk{suffix}" for suffix in (".bvh", ".trc", ".mot", ".csv", ".onnx")]
    done = export(ZOO_WALK, outs, episode_time_s=2.0)
    assert done.files == outs and all(p.stat().st_size > 0 for p in outs)
    assert done.n_frames == 61 and done.fps == 30.0
    check = next(n for n in done.notes if "ONNX Runtime" in n)
    assert float(check.split("within ")[1].split()[0]) <= 1e-5
    header, columns, rows = parse_mot(tmp_path / "walk.mot")
    # the env measures kinetics: on average over the rollout the feet carry the body weight
    mass_kg = float(next(n for n in done.notes if n.startswith("humanoid:")).split(",")[1].split()[0])
    support = rows[:, columns.index("ground_force_r_vy")] + rows[:, columns.index("ground_force_l_vy")]
    assert 0.8 * 9.81 * mass_kg < support.mean() < 1.2 * 9.81 * mass_kg

    from sportsim.export.onnx import onnx_actions

    obs = np.random.default_rng(1).normal(size=(5, 263)).astype(np.float32)
    assert onnx_actions(outs[-1], obs).shape == (5, 28)


def test_cli_errors_are_one_line(tmp_path):
    capture = "mocap/cmu_02_01_walk.bvh"
    result = subprocess.run([sys.executable, "-m", "sportsim.export", capture, str(tmp_path / "x.onnx")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "ONNX export needs a policy" in result.stderr
    result = subprocess.run([sys.executable, "-m", "sportsim.export", capture, str(tmp_path / "x.fbx")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "unknown export format '.fbx'" in result.stderr


@pytest.mark.skipif(importlib.util.find_spec("pybullet_data") is None, reason="the pybullet extra is not installed")
def test_deepmimic_library_motion_exports(tmp_path):
    done = export("deepmimic:walk", [tmp_path / "walk.trc"])
    header, markers, rows = parse_trc(tmp_path / "walk.trc")
    assert int(header["NumFrames"]) == done.n_frames == len(rows) > 10
    assert "humanoid3d_walk.txt" in done.notes[0]
