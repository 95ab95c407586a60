"""The imitation env's fast paths compute what the plain code computed, to the last bit.

``envs/imitation_compare.py`` (the comparison with the reference and the observation) and ``ImitationEnv.step``
were rewritten for speed - preallocated buffers, views, in-place NumPy calls - with the same operations in the
same order, so that Imitation-v1 stays the env its trainings ran on. The plain versions live here as the
oracle: every element of the observation, every error and metric, and the servo targets must be equal
(``==``), on states of seeded random-action rollouts of both bodies and of two clips.
"""

from __future__ import annotations

import copy
import math
import pickle
from pathlib import Path

import mujoco
import numpy as np
import pytest

from sportsim.envs import imitation_params as ip
from sportsim.envs.imitation import ImitationEnv
from sportsim.envs.imitation_compare import VEC
from sportsim.envs.rewards import ImitationRewardWeights, imitation_reward, imitation_reward_terms


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("motions")


def _plain_evaluate(env: ImitationEnv, k: int):
    """The comparison as first written (allocating, indexing by fancy index): errors, metrics, observation."""
    c, d, m, track = env._compare, env.data, env.model, env._track
    q, qv = d.qpos, d.qvel
    v = VEC
    root_xmat, root = d.xmat[c._pelvis], d.xpos[c._pelvis]
    cs, sn = root_xmat[0], root_xmat[3]
    norm = math.hypot(cs, sn) or 1.0
    cs, sn = cs / norm, sn / norm
    heading = np.array([[cs, sn, 0.0], [-sn, cs, 0.0], [0.0, 0.0, 1.0]])
    vec = np.zeros(v["size"])
    vec[v["hinge"]] = q[c._hinge_q]
    vec[v["dof_vel"]] = qv[6:]
    vec[v["root_omega"]] = root_xmat.reshape(3, 3) @ qv[3:6]
    vec[v["root_pos"]] = q[0:3]
    vec[v["root_vel"]] = qv[0:3]
    ee = d.site_xpos[[m.site(n).id for n in ip.END_EFFECTORS]]
    ee_rel = (ee - root) @ heading.T
    ee_rel[:, 2] = ee[:, 2]
    vec[v["end_effectors"]] = ee_rel.ravel()
    vec[v["com_vel"]] = d.subtree_linvel[c._pelvis]
    vec[v["joint_points"]] = d.xanchor.ravel()
    vec[v["site_points"]] = d.site_xpos[c._point_sites].ravel()
    diff = vec - c._ref_vecs[env._clip][k]
    errors = c._error_matrix @ (diff * diff)
    angles = 2.0 * np.arccos(np.minimum(np.abs(c._quat_sum @ (q * track.qpos[k])), 1.0))
    angles_sq = angles * angles
    pose_err = float(errors[0]) + float(c._quat_w @ angles_sq)
    root_err = float(errors[3]) + c._w_root_rot * float(angles_sq[0])
    errors_out = (pose_err, float(errors[1]), float(errors[2]), root_err, float(errors[4]))
    n_points = len(ip.METRIC_POINTS)
    points = np.zeros((2 * n_points, 3))
    points[:n_points] = diff[v["points"]].reshape(-1, 3)
    points[n_points:] = points[:n_points] - points[0]
    dist, dist_rel = np.sqrt((points * points).sum(axis=1)).reshape(2, -1).sum(axis=1)
    angle = (float(angles.sum()) - float(angles[0]) + float(np.abs(diff[v["hinge"]]).sum())) / c._n_joint_angles
    metrics = (1000.0 * float(dist) / n_points, 1000.0 * float(dist_rel) / n_points, math.degrees(angle))

    n = len(ip.OBS_BODIES)
    xmat, xpos, cvel = d.xmat[1:], d.xpos[1:], d.cvel[1:]
    bv = np.zeros((5 * n + 3, 3))
    bv[0:n] = xpos - root
    bv[n:2 * n] = xmat[:, 0::3]
    bv[2 * n:3 * n] = xmat[:, 1::3]
    omega, arm = cvel[:, :3], xpos - d.subtree_com[c._pelvis]
    yzx, zxy = [1, 2, 0], [2, 0, 1]
    bv[3 * n:4 * n] = cvel[:, 3:] + omega[:, yzx] * arm[:, zxy] - omega[:, zxy] * arm[:, yzx]
    bv[4 * n:5 * n] = omega
    k_next = min(k + 1, len(track.qpos) - 1)
    bv[5 * n] = track.qpos[k_next, 0:3] - root
    bv[5 * n + 1:] = c._ref_axes[env._clip][k_next]
    turned = bv @ heading.T
    mujoco.mj_transmission(m, d)
    phase = track.phase(k)
    obs = np.concatenate([[phase, math.sin(2.0 * math.pi * phase), math.cos(2.0 * math.pi * phase), root[2]],
                          turned[1:n].ravel(), turned[n:5 * n].ravel(), track.joint_coords[k_next] - d.actuator_length,
                          turned[5 * n:].ravel()])
    return errors_out, metrics, obs


def _plain_ctrl(env: ImitationEnv, action, k: int) -> np.ndarray:
    a = np.asarray(action, dtype=np.float64).reshape(env.model.nu)
    a = np.minimum(np.maximum(np.where(np.isnan(a), 0.0, a), -1.0), 1.0)
    if env.action_mode == "residual":
        return env._track.joint_coords[k] + env.action_scale_rad * a
    return env._abs_centre + env._abs_half * a


ODD_ACTIONS = (np.full(28, np.nan), np.array([np.inf, -np.inf] * 14, np.float32), list(np.linspace(-3, 3, 28)),
               np.arange(28) - 14, np.full((1, 28), 0.3), np.where(np.arange(28) % 3 == 0, np.nan, 0.7))


@pytest.mark.parametrize("kwargs", [{}, {"body": "deepmimic"}, {"task": "walk_run", "action_mode": "absolute"}],
                         ids=["v1", "v0", "v1-two-clips-absolute"])
def test_fast_comparison_and_step_equal_the_plain_code(kwargs, cache_dir):
    env = ImitationEnv(motion_cache_dir=str(cache_dir), **kwargs)
    rng = np.random.default_rng(15)
    env.reset(seed=15)
    checked = 0
    for i in range(150):
        k = env.step_index + 1
        action = ODD_ACTIONS[i % len(ODD_ACTIONS)] if i % 10 == 3 else rng.uniform(-1.2, 1.2, 28).astype(np.float32)
        expected_ctrl = _plain_ctrl(env, action, k)
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.array_equal(env.data.ctrl, expected_ctrl)
        if info.get("physics_error"):
            env.reset()
            continue
        errors, metrics, plain_obs = _plain_evaluate(env, env.step_index)
        assert np.array_equal(obs, plain_obs.astype(np.float32))
        assert np.array_equal(env._compare.obs, plain_obs)
        assert tuple(info[f"error_{t}"] for t in ("pose", "velocity", "end_effector", "root", "com")) == errors
        assert (info["mpjpe_mm"], info["mpjpe_root_relative_mm"], info["joint_angle_error_deg"]) == metrics
        assert reward == sum(info[f"reward_{t}"] for t in ("pose", "velocity", "end_effector", "root", "com"))
        checked += 1
        if terminated or truncated:
            env.reset()
    assert checked > 100


def test_a_copied_or_unpickled_env_goes_on_exactly_as_the_original(cache_dir):
    """The comparison keeps views of its buffers: a copy must rebuild them on its own buffers."""
    env = ImitationEnv(motion_cache_dir=str(cache_dir))
    env.reset(seed=3)
    for _ in range(3):
        env.step(np.full(28, 0.1, np.float32))
    copies = [copy.deepcopy(env), pickle.loads(pickle.dumps(env))]
    action = np.linspace(-0.5, 0.5, 28).astype(np.float32)
    expected = env.step(action)
    for other in copies:
        assert other._compare.data is other.data and other.data is not env.data
        got = other.step(action)
        assert np.array_equal(got[0], expected[0]) and got[1:4] == expected[1:4] and got[4] == expected[4]
        assert not np.shares_memory(other._compare.obs, env._compare.obs)


def _plain_strength_limits(limits, qvel: np.ndarray) -> np.ndarray:
    """The strength limits' torque-velocity update as first written (separate concentric and eccentric paths)."""
    w = qvel[:, None] * limits._scale
    conc = np.maximum(w, 0.0)
    factor = np.maximum(1.0 - conc, 0.0) / (conc * limits._inv_k + 1.0)
    factor *= (1.0 - np.exp(np.minimum(w, 0.0) * 5.0)) * limits._ecc_gain + 1.0
    return limits._signed_iso * factor


def test_strength_limits_update_equals_the_plain_code(cache_dir):
    env = ImitationEnv(motion_cache_dir=str(cache_dir))
    limits, d = env._strength, env.data
    dofs = slice(6, env.model.nv)
    rng = np.random.default_rng(7)
    cases = [rng.normal(0.0, s, env.model.nu) for s in (0.1, 3.0, 30.0)]
    cases += [np.zeros(env.model.nu), -np.zeros(env.model.nu), np.full(env.model.nu, 1e6), np.full(env.model.nu, -1e6)]
    for qvel in cases:
        d.qvel[dofs] = qvel
        limits.update(d)
        assert np.array_equal(env.model.actuator_forcerange, _plain_strength_limits(limits, qvel))


@pytest.mark.parametrize("weights", [ImitationRewardWeights(), ImitationRewardWeights(foot_slip=0.1),
                                     ImitationRewardWeights(foot_slip=0.1, foot_contact=0.1, foot_slip_scale=400.0)],
                         ids=["v0-v1", "v2-v4", "v5"])
def test_reward_as_tuples_equals_the_reward_as_dicts(weights):
    """The step's imitation_reward_terms (tuples) gives imitation_reward's numbers to the last bit, with five errors
    (the foot terms off) or seven."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        errors = tuple(float(e) for e in rng.exponential(rng.choice([1e-3, 0.1, 10.0]), 7))
        for given in (errors[:5], errors):
            reward, terms, similarities = imitation_reward_terms(given, weights)
            expected_reward, expected_terms = imitation_reward(*given[:5], weights, *given[5:])
            assert reward == expected_reward and terms == tuple(expected_terms.values())
            assert similarities == tuple(math.exp(-s * e) for s, e in zip(weights.scales, (*given, 0.0, 0.0)))


def test_reset_restores_what_mj_reset_data_would():
    """``reset`` puts back a fresh data's integration state with ``mj_setState`` instead of ``mj_resetData`` (which
    clears the whole data buffer): after a random-action rollout with contacts, a reset gives the same
    observation, info and physics (qacc, constraint forces, the next step's state) to the bit as the same reset
    preceded by ``mj_resetData``."""
    def rollout_then_reset(clear: bool):
        env = ImitationEnv(body="human", integrator="discrete", servo_velocity="reference", servo_damping_limit=2.0)
        env.reset(seed=5)
        rng = np.random.default_rng(5)
        for _ in range(40):
            _, _, terminated, truncated, _ = env.step(rng.uniform(-1, 1, env.model.nu))
            if terminated or truncated:
                break
        assert env.data.ncon > 0 and env.data.time > 0
        if clear:
            mujoco.mj_resetData(env.model, env.data)
        obs, info = env.reset(seed=11)
        physics = (env.data.qacc.copy(), env.data.efc_force.copy(), env.data.qacc_warmstart.copy())
        step = env.step(np.full(env.model.nu, 0.3))
        return obs, info, physics, step[0], step[1], env.data.qpos.copy(), env.data.qvel.copy()

    fast, plain = rollout_then_reset(False), rollout_then_reset(True)
    assert np.array_equal(fast[0], plain[0]) and fast[1] == plain[1]
    for a, b in zip(fast[2], plain[2]):
        assert np.array_equal(a, b)
    assert np.array_equal(fast[3], plain[3]) and fast[4] == plain[4]
    assert np.array_equal(fast[5], plain[5]) and np.array_equal(fast[6], plain[6])
