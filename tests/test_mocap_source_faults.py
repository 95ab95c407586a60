"""What third-party exporters get wrong in one place does not become the humanoid's motion (issue 14,
heldout5): a foot joint pointing backwards (Kinect SDK 1), a foot turned sideways against the body
(Azure Kinect, Text2Gestures), a knee bending sideways past the hip's rotation range (Azure Kinect),
a foot that slides through a long stance (bvh-compress). The shipped CMU walk is edited in memory so
each case is the only thing wrong; the planting rules are checked on synthetic soles.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from sportsim.mocap import axes, load_clip, quat
from sportsim.mocap.clip import Clip
from sportsim.mocap.retarget import POINT_NAMES, _plant_feet, retarget
from sportsim.mocap.skeletons import clip_canonical_indices
from sportsim.mocap.validate import validate

WALK = Path(__file__).resolve().parents[1] / "mocap" / "cmu_02_01_walk.bvh"  # shipped with sportsim


def _walk() -> Clip:
    return load_clip(WALK).frames(0, 240)


def _forward(motion) -> np.ndarray:
    return axes.horizontal(quat.rotate(motion.qpos[:, 3:7], np.array([1.0, 0.0, 0.0])))


def _turned_toe(clip: Clip, side: str, angle_deg: float) -> Clip:
    """The toe joint's rest offset turned about the vertical: the source's foot points that far off."""
    idx = clip_canonical_indices(clip)
    offsets = np.array(clip.offsets_m)
    offsets[idx[f"{side}_toe"]] = quat.rotate(quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.radians(angle_deg)),
                                              offsets[idx[f"{side}_toe"]])
    return dataclasses.replace(clip, offsets_m=offsets)


def test_a_foot_turned_sideways_is_outvoted_and_said() -> None:
    clip = _walk()
    plain = retarget(clip, plant_feet=True, anatomical_ranges=True)
    assert plain.meta["facing"].startswith("the source's cues agree")
    turned = _turned_toe(clip, "l", 100.0)
    motion = retarget(turned, plant_feet=True, anatomical_ranges=True)
    assert motion.meta["facing"].startswith("feet disagree")
    row = next(r for r in validate(turned, motion=motion).rows if r.check == "facing")
    assert row.status == "warning"
    assert axes.angle_deg(_forward(motion), _forward(plain)) < 5.0  # the humanoid still faces where the body does
    idx = clip_canonical_indices(turned)
    best, facing, off = axes.facing_consensus(axes.facing_cues(turned.world_positions(), idx))
    assert best != "left foot" and off["left foot"] > 60.0 and axes.angle_deg(facing, _forward(plain)) < 20.0


def test_feet_flipping_backwards_in_different_frames_are_noise_not_a_disagreement() -> None:
    """Sony mocopi (heldout7): each foot joint points backwards in some frames, the two in different ones. Each
    foot agrees with the pelvis in most frames, their sum does not (off in 60 % of the frames): no warning."""
    clip = _walk()
    idx = clip_canonical_indices(clip)
    rotations = np.array(clip.rotations)
    n = clip.n_frames
    for side, frames in (("l", slice(0, int(0.3 * n))), ("r", slice(int(0.3 * n), int(0.6 * n)))):
        shank = clip.offsets_m[idx[f"{side}_ankle"]] / np.linalg.norm(clip.offsets_m[idx[f"{side}_ankle"]])
        rotations[frames, idx[f"{side}_knee"]] = quat.multiply(rotations[frames, idx[f"{side}_knee"]],
                                                               quat.from_axis_angle(shank, np.pi))
    flipped = dataclasses.replace(clip, rotations=rotations)
    motion = retarget(flipped, plant_feet=True, anatomical_ranges=True)
    cues = axes.facing_cues(flipped.world_positions(), idx)
    assert axes.angle_deg(axes.horizontal(cues["left foot"] + cues["right foot"]), _forward(motion)) > 60.0
    assert motion.meta["facing"].startswith("the source's cues agree"), motion.meta["facing"]
    assert next(r for r in validate(flipped, motion=motion).rows if r.check == "facing").status == "ok"


def test_a_foot_joint_pointing_backwards_sits_neutral_instead_of_a_rest_pose_error() -> None:
    backwards = _turned_toe(_walk(), "r", 180.0)
    motion = retarget(backwards, plant_feet=True, anatomical_ranges=True)
    assert "right_foot_turned" in motion.meta
    report = validate(backwards, motion=motion)
    assert next(r for r in report.rows if r.check == "rest pose").status == "ok", report.table()


def test_a_knee_bending_sideways_keeps_the_ankle_where_the_source_has_it() -> None:
    """The right thigh twisted 75 deg about its own axis: the knee bends sideways, beyond the hip's
    rotation range. The clamp alone would swing the ankle away; the leg IK puts it back."""
    clip = _walk()
    idx = clip_canonical_indices(clip)
    knee_dir = clip.offsets_m[idx["r_knee"]] / np.linalg.norm(clip.offsets_m[idx["r_knee"]])
    rotations = np.array(clip.rotations)
    twist = quat.from_axis_angle(knee_dir, np.radians(75.0))
    rotations[:, idx["r_hip"]] = quat.multiply(rotations[:, idx["r_hip"]], twist)
    twisted = dataclasses.replace(clip, rotations=rotations)
    motion = retarget(twisted, anatomical_ranges=True)
    assert "put back by leg IK" in motion.meta["range_clamps"]
    names = list(motion.target_names)
    error = np.linalg.norm(motion.positions_m[:, POINT_NAMES.index("right_ankle")]
                           - motion.target_positions_m[:, names.index("right_ankle")], axis=-1)
    assert float(np.median(error)) < 0.03


def _sole(track: np.ndarray, foot_m: float = 0.25) -> np.ndarray:
    """``(T, 2, 2, 3)`` soles of two feet, both lying flat: heel at ``track``, toe ``foot_m`` ahead in +x."""
    sole = np.zeros((len(track), 2, 2, 3))
    sole[:, :, 0] = track[:, None]
    sole[:, :, 1] = track[:, None] + [foot_m, 0.0, 0.0]
    return sole


def test_planting_holds_a_jittering_foot_releases_a_sliding_one_and_follows_a_slow_drift() -> None:
    fps = 100.0
    t = np.arange(int(fps)) / fps
    stance = np.ones((len(t), 2), dtype=bool)
    jitter = np.stack([0.01 * np.sin(40 * t), 0 * t, 0 * t], axis=1)
    held, note = _plant_feet(_sole(jitter), stance, fps)
    planted = _sole(jitter)[:, 0].mean(axis=1) + held[:, 0]  # the mid-sole pivot, corrected
    assert float(np.ptp(planted[:, 0])) < 1e-9 and float(np.abs(held).max()) > 0.005  # held still
    assert "not planted" not in note

    sliding = np.stack([0.6 * t, 0 * t, 0 * t], axis=1)  # 60 cm in one stance: held at its middle, 30 cm off
    disp, note = _plant_feet(_sole(sliding), stance, fps)
    assert not disp.any() and "2 stance(s) not planted" in note

    long_t = np.arange(int(5 * fps)) / fps  # an idle stance of 5 s drifting 20 cm
    drift = np.stack([0.04 * long_t, 0 * long_t, 0 * long_t], axis=1)
    disp, note = _plant_feet(_sole(drift), np.ones((len(long_t), 2), dtype=bool), fps)
    assert "follow the source foot's slow drift" in note
    assert float(np.abs(disp).max()) < 0.02  # held at its mean it would be 10 cm off at the ends
