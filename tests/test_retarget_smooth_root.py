"""Retargeting with ``smooth_root`` (what sportsim/Imitation-v3 trains on): a reference whose centre of mass
asks the body for walking forces, not for jolts.

Physics: the total vertical ground reaction force on a body is ``m (g + a_z)`` of its centre of mass, so a
kinematic reference implies it. In walking the sum over both feet stays within about 0.6-1.25 body weights
(Winter 2009, Biomechanics and Motor Control of Human Movement, 4th ed., App. A: per-foot peaks 1.1 BW at
natural cadence, mid-stance trough 0.65 BW; double support sums the two feet's 0.3-1.1 BW) - the band below
is 0.5-1.5 BW at the 1st and 99th percentiles of the 15 Hz filtered series, the GRF cut-off of
:mod:`sportsim.kinetics`. The v2 reference (no ``smooth_root``) asks for -0.6 to 4.3 BW: its root drops
6 cm in 0.1 s at each toe-off; the tests below pin both the fix and the reason for it.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

from sportsim import humanoid, kinetics
from sportsim import humanoid_limits as limits
from sportsim.envs import imitation_params as ip
from sportsim.mocap import load_clip, quat
from sportsim.mocap.retarget import _envelope, retarget

WALK = Path(__file__).resolve().parents[1] / "mocap" / "cmu_02_01_walk.bvh"
EDGE_S = 0.2  # the filter's start-up at both ends of the clip is left out


@pytest.fixture(scope="module")
def walks():
    clip = load_clip(WALK)
    return {smooth: retarget(clip, plant_feet=True, anatomical_ranges=True, smooth_root=smooth)
            for smooth in (False, True)}


def _implied_vertical_force_bw(motion) -> np.ndarray:
    model = motion.build_model()
    data = mujoco.MjData(model)
    com = np.empty(motion.n_frames)
    for t, q in enumerate(motion.qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        com[t] = data.subtree_com[1, 2]
    z = kinetics.lowpass(com[:, None], motion.fps, kinetics.GRF_CUTOFF_HZ)[:, 0]
    force = 1.0 + np.gradient(np.gradient(z, 1.0 / motion.fps), 1.0 / motion.fps) / 9.81
    edge = int(EDGE_S * motion.fps)
    return force[edge:-edge]


def test_the_smooth_reference_asks_for_walking_forces(walks) -> None:
    low, high = np.percentile(_implied_vertical_force_bw(walks[True]), [1, 99])
    assert 0.5 <= low and high <= 1.5, (low, high)


def test_the_v2_reference_asks_for_jolts(walks) -> None:
    """Why Imitation-v3 exists (and why the v2 walk's heel strike peaks at 1.5 BW): kept as it was, bit for
    bit, for the v2 zoo entries."""
    low, high = np.percentile(_implied_vertical_force_bw(walks[False]), [1, 99])
    assert low < 0.0 and high > 3.0, (low, high)
    assert "root lowered up to 6.0 cm" in walks[False].meta["planted_feet"]


def test_the_root_height_has_no_steps(walks) -> None:
    """The corrections add no step to the root's height: its largest change from one 1/120 s frame to the
    next is the source pelvis's own (capture jitter, 2.7 mm, x the leg-length scale) - v2's are 9 mm steps and
    a 6 cm drop in 12 frames."""
    clip = load_clip(WALK)
    source = clip.world_positions()[:, 0, 2] * walks[True].scale
    edge = int(EDGE_S * walks[True].fps)
    z = walks[True].qpos[edge:-edge, 2]
    assert np.abs(np.diff(z)).max() <= np.abs(np.diff(source[edge:-edge])).max() + 0.0005
    assert np.abs(np.diff(walks[False].qpos[edge:-edge, 2])).max() > 0.008
    # the source's own pelvis bob is kept: CMU's hips move 25 mm up and down per stride (x the leg-length scale)
    assert 0.012 < np.ptp(z) < 0.04


def test_hip_extension_goes_into_the_pelvis_not_the_foot(walks) -> None:
    motion = walks[True]
    assert "anterior pelvis tilt" in motion.meta["pelvis_tilt"]
    for side in ("right", "left"):
        adr = humanoid.qpos_address(f"{side}_hip")
        extension = quat.to_rotation_vector(motion.qpos[:, adr:adr + 4])[:, 1]
        # the leg IK that plants the feet after the clamp extends a hip a little further again: up to 3.0 deg
        # past the range here (v2: 4.1); the env clamps the servo targets to the ranges
        assert extension.max() <= limits.range_rad(f"{side}_hip_y")[1] + np.radians(3.5)
    # foot planting no longer has to pull a clamped foot back (v2: 15.8 cm)
    largest_cm = float(motion.meta["planted_feet"].split("largest ankle correction ")[1].split(" cm")[0])
    assert largest_cm < 4.0


def test_envelope_is_smooth_and_never_below() -> None:
    rng = np.random.default_rng(0)
    x = np.maximum(rng.normal(size=400), 0.0) * (rng.random(400) < 0.1)
    env = _envelope(x, 6.0)
    assert np.all(env >= x - 1e-12)
    assert np.abs(np.diff(env, 2)).max() < 0.1 * max(x.max(), 1e-9)


def test_smooth_root_keys_the_cache(tmp_path) -> None:
    kwargs = dict(height_m=None, mass_kg=None, sex="male", start_frame=None, end_frame=None, cache_dir=tmp_path,
                  body="human")
    ip.load_reference(WALK, **kwargs)
    ip.load_reference(WALK, **kwargs, smooth_root=True)
    assert len(list(tmp_path.glob("*.npz"))) == 2


SFU_WALK = Path(__file__).resolve().parents[2] / "shared" / "mocap" / "sfu_0005_Walking001.bvh"


def _knee_row(motion):
    from sportsim.mocap.validate import validate

    rows = [row for row in validate(motion).rows if row.check == "stance knee"]
    assert len(rows) == 1
    return rows[0]


def test_the_stance_knee_is_reported_next_to_the_source(walks) -> None:
    """The CMU walk's performer walks with flexed stance knees (~28 deg median, source bones) and the reference
    keeps them within a few degrees: no warning, and the meta strings hold the medians per foot."""
    for smooth in (False, True):
        ref = [float(v) for v in walks[smooth].meta["stance_knee_flexion_deg"].split()]
        src = [float(v) for v in walks[smooth].meta["source_stance_knee_flexion_deg"].split()]
        assert all(25.0 < s < 31.0 for s in src), src
        assert all(0.0 <= r - s <= 5.0 for r, s in zip(ref, src)), (ref, src)
        row = _knee_row(walks[smooth])
        assert row.status == "ok" and "source 27.8" in row.value, row


@pytest.mark.skipif(not SFU_WALK.is_file(), reason=f"{SFU_WALK} not found (../shared beside the clone)")
def test_smooth_root_crouches_a_straight_legged_walk_and_validation_says_so() -> None:
    """A known limit of ``smooth_root`` (Imitation-v3 to v8 train on it), pinned so that it is seen: near a
    straight knee every millimetre the root comes down is degrees of flexion, and the smooth envelope of the
    contact plan's drop (sigma 0.1 s, running maximum over +-0.3 s) lowers the SFU walk's root by 7-14 mm
    through whole stances - its stance knees go from the performer's ~8 deg to ~21 deg, which validation
    flags. Without ``smooth_root`` the reference keeps the source's knees (within 2 deg)."""
    clip = load_clip(SFU_WALK)
    plain = retarget(clip, plant_feet=True, anatomical_ranges=True)
    smooth = retarget(clip, plant_feet=True, anatomical_ranges=True, smooth_root=True)
    for motion in (plain, smooth):
        src = [float(v) for v in motion.meta["source_stance_knee_flexion_deg"].split()]
        assert all(6.0 < s < 10.0 for s in src), src
    assert _knee_row(plain).status == "ok"
    assert max(abs(float(a) - float(b)) for a, b in zip(plain.meta["stance_knee_flexion_deg"].split(),
                                                         plain.meta["source_stance_knee_flexion_deg"].split())) < 2.0
    row = _knee_row(smooth)
    assert row.status == "warning", row
    assert all(18.0 < float(v) < 24.0 for v in smooth.meta["stance_knee_flexion_deg"].split())
