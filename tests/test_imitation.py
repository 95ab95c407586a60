"""Imitation-v0: reward and metrics against the reference, reference state initialisation, early
termination, loops, motion files and caching, the PD servos, rendering with the ghost, the TensorBoard
metrics and the train CLI (the invariants shared by every env are in test_env_invariants.py)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from helpers import run_module
from omegaconf import OmegaConf
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import sportsim  # noqa: F401  (registers the envs)
from sportsim import humanoid
from sportsim.callbacks import MetricsEvalCallback
from sportsim.envs import imitation_params as ip
from sportsim.envs.imitation import ImitationEnv
from sportsim.envs.rewards import ImitationRewardWeights, imitation_reward
from sportsim.errors import ConfigError, MocapError
from sportsim.mocap import quat

ENV_ID = "sportsim/Imitation-v7"  # what env=imitation trains (configs/env/imitation.yaml)
WALK = "mocap/cmu_02_01_walk.bvh"
JUMPS = "mocap/cmu_01_01_forward_jumps.bvh"
TERMS = ImitationRewardWeights.TERMS[:5]  # DeepMimic's; the foot slip term is off unless its weight is > 0 (v2)
ZERO = np.zeros(28, dtype=np.float32)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("motions")


@pytest.fixture(scope="module")
def walk(cache_dir: Path) -> ImitationEnv:
    """The default env (the shipped CMU walk, the human body), shared by tests that reset it."""
    return ImitationEnv(motion_cache_dir=str(cache_dir))


@pytest.fixture(scope="module")
def walk_v0(cache_dir: Path) -> ImitationEnv:
    """Imitation-v0's DeepMimic body on the walk (kept for the v0 zoo walk)."""
    return ImitationEnv(motion_cache_dir=str(cache_dir), body="deepmimic")


def _perturbed_pose(qpos: np.ndarray, sigma_rad: float, rng_seed: int = 0) -> np.ndarray:
    """``qpos`` with every ball joint turned by sigma about a fixed random axis and every hinge moved by sigma."""
    rng = np.random.default_rng(rng_seed)
    out = qpos.copy()
    for joint in humanoid.JOINTS[1:]:
        adr = humanoid.qpos_address(joint.name)
        if joint.type == "ball":
            axis = rng.normal(size=3)
            turn = quat.from_axis_angle(axis / np.linalg.norm(axis), sigma_rad)
            out[adr:adr + 4] = quat.multiply(out[adr:adr + 4], turn)
        else:
            out[adr] += sigma_rad * rng.choice([-1.0, 1.0])
    return out


# -- the API -----------------------------------------------------------------------------------------
def test_registered_and_passes_the_gymnasium_checker(cache_dir):
    env = gym.make(ENV_ID, motion_cache_dir=str(cache_dir))
    assert isinstance(env.unwrapped, ImitationEnv)
    check_env(env.unwrapped, skip_render_check=True)
    assert env.observation_space.shape == (263,) and env.action_space.shape == (28,)
    assert env.unwrapped.metadata["render_fps"] == 30


def test_rates_and_pd_gains_are_the_documented_ones(walk_v0):
    """Imitation-v0's servos (v1's: tests/test_humanoid_v1.py)."""
    walk = walk_v0
    assert walk.control_hz == 30 and walk.physics_dt_s == pytest.approx(1 / 120) and walk.n_substeps == 4
    gains = humanoid.pd_gains(walk.humanoid_height_m, walk.humanoid_mass_kg)
    m = walk.model
    knee, hip_x = m.actuator("right_knee"), m.actuator("right_hip_x")
    assert knee.gainprm[0] == pytest.approx(gains["right_knee"].kp_nm_per_rad)
    assert knee.biasprm[1] == pytest.approx(-gains["right_knee"].kp_nm_per_rad)
    assert hip_x.forcerange[1] == pytest.approx(gains["right_hip"].torque_limit_nm)
    assert m.dof_damping[m.joint("left_elbow").dofadr[0]] == pytest.approx(gains["left_elbow"].kd_nms_per_rad)
    assert m.opt.integrator == 3  # implicitfast: the damping (Kd) is integrated implicitly


def test_deterministic_under_a_seed(walk):
    actions = np.random.default_rng(0).uniform(-0.3, 0.3, size=(40, 28)).astype(np.float32)

    def rollout(seed: int) -> np.ndarray:
        obs, _ = walk.reset(seed=seed)
        out = [obs]
        for action in actions:
            obs, reward, terminated, truncated, _ = walk.step(action)
            out.append(np.append(obs, reward))
            if terminated or truncated:
                break
        return np.concatenate(out)

    first = rollout(7)
    np.testing.assert_array_equal(first, rollout(7))
    assert not np.array_equal(first[:263], rollout(8)[:263])


# -- reward and metrics ------------------------------------------------------------------------------
@pytest.mark.parametrize("phase", [0.0, 0.3, 0.77])
def test_reference_state_scores_one_and_zero_error(walk, phase):
    _, info = walk.reset(seed=0, options={"start_phase": phase})
    for _ in range(5):  # later in the episode: put the humanoid exactly on the reference again
        walk.step(ZERO)
    reward, info = walk.evaluate_state(*walk.reference_state())
    assert reward == pytest.approx(1.0, abs=1e-6)
    for term in TERMS:
        assert info[f"similarity_{term}"] == pytest.approx(1.0, abs=1e-6)
        assert info[f"error_{term}"] == pytest.approx(0.0, abs=1e-6)
    assert sum(info[f"reward_{t}"] for t in TERMS) == pytest.approx(reward, abs=1e-12)
    assert info["mpjpe_mm"] == pytest.approx(0.0, abs=1e-6)
    assert info["mpjpe_root_relative_mm"] == pytest.approx(0.0, abs=1e-6)
    assert info["joint_angle_error_deg"] == pytest.approx(0.0, abs=1e-4)


def test_reward_falls_monotonically_with_pose_noise(walk):
    walk.reset(seed=0, options={"start_phase": 0.5})
    qpos, qvel = walk.reference_state()
    rewards, pose, angles = [], [], []
    for sigma in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8):
        reward, info = walk.evaluate_state(_perturbed_pose(qpos, sigma), qvel)
        rewards.append(reward)
        pose.append(info["similarity_pose"])
        angles.append(info["joint_angle_error_deg"])
    assert np.all(np.diff(rewards) < 0) and np.all(np.diff(pose) < 0), rewards
    assert angles[2] == pytest.approx(math.degrees(0.05), rel=0.02)  # every joint is 0.05 rad off
    assert rewards[-1] < 0.6


def test_reward_terms_follow_the_deepmimic_formula():
    weights = ImitationRewardWeights()
    errors = (0.1, 2.0, 0.01, 0.05, 0.3)
    total, terms = imitation_reward(*errors, weights)
    expected = {"pose": 0.5 * math.exp(-0.2), "velocity": 0.05 * math.exp(-0.2),
                "end_effector": 0.15 * math.exp(-0.4), "root": 0.2 * math.exp(-0.25), "com": 0.1 * math.exp(-3.0),
                "foot_slip": 0.0, "foot_contact": 0.0}  # sportsim's foot terms: off by default (weight 0)
    assert terms == pytest.approx(expected) and total == pytest.approx(sum(expected.values()))
    total, terms = imitation_reward(*errors, ImitationRewardWeights(velocity=0.0, com=0.0))
    assert terms["velocity"] == terms["com"] == 0.0 and total == pytest.approx(
        (0.5 * math.exp(-0.2) + 0.15 * math.exp(-0.4) + 0.2 * math.exp(-0.25)) / 0.85)
    with pytest.raises(ValueError, match="at least one"):
        ImitationRewardWeights(0.0, 0.0, 0.0, 0.0, 0.0)


# -- starts and episode ends --------------------------------------------------------------------------
def test_rsi_starts_at_the_sampled_phase_with_the_reference_velocities(walk):
    track = walk.tracks[0]
    phases = set()
    for seed in range(12):
        _, info = walk.reset(seed=seed)
        k0 = walk.step_index
        assert 0 <= k0 < track.period and info["phase"] == pytest.approx(k0 / track.period)
        np.testing.assert_array_equal(walk.data.qpos, track.qpos[k0])
        np.testing.assert_array_equal(walk.data.qvel, track.qvel[k0])
        phases.add(k0)
    assert len(phases) >= 6  # uniform over the cycle, not one start
    _, info = walk.reset(seed=0, options={"start_phase": 0.5})
    assert walk.step_index == track.period // 2 and info["phase"] == pytest.approx(0.5, abs=1 / track.period)


def test_without_rsi_episodes_start_at_frame_zero(cache_dir):
    env = ImitationEnv(rsi=False, motion_cache_dir=str(cache_dir))
    for seed in range(3):
        env.reset(seed=seed)
        assert env.step_index == 0


def test_a_fall_terminates_on_contact(walk):
    walk.reset(seed=0, options={"start_phase": 0.0})
    qpos, qvel = walk.reference_state()
    qpos[2] = 0.15  # lying on the floor, face down
    qpos[3:7] = quat.multiply(quat.from_axis_angle(np.array([0.0, 1.0, 0.0]), math.pi / 2), qpos[3:7])
    walk.evaluate_state(qpos, np.zeros_like(qvel))
    _, reward, terminated, truncated, info = walk.step(ZERO)
    assert terminated and not truncated and info["fall"] == "contact"
    assert info["clip_fraction_completed"] == 0.0


def test_standing_up_with_zero_action_does_not_trigger_a_fall(standing):
    env = ImitationEnv(motion=str(standing), rsi=False)
    env.reset(seed=0)
    for _ in range(30):
        _, _, terminated, _, info = env.step(ZERO)
        assert not terminated, info["fall"]  # the feet touch the floor: no fall


def test_tracking_error_terminates_when_configured(cache_dir):
    env = ImitationEnv(motion_cache_dir=str(cache_dir), terminate_on_fall=False, max_tracking_error_m=0.02)
    env.reset(seed=0, options={"start_phase": 0.0})
    for step in range(60):
        _, _, terminated, _, info = env.step(np.full(28, 0.5, dtype=np.float32))
        if terminated:
            break
    assert terminated and info["fall"] == "tracking" and info["mpjpe_mm"] > 20.0 and step < 30


def test_clip_played_once_ends_at_its_last_frame(cache_dir):
    env = ImitationEnv(motion_cache_dir=str(cache_dir), loop=False)
    track = env.tracks[0]
    assert not track.cyclic and "played once" in env.track_notes[0]
    env.reset(seed=0, options={"start_phase": 1.0})
    assert env.step_index == track.period - 1
    _, _, terminated, truncated, info = env.step(ZERO)
    assert terminated and not truncated and info["motion_ended"] and info["fall"] is None
    assert info["clip_fraction_completed"] == 1.0


def test_looping_walk_truncates_after_episode_time_with_the_clip_completed(cache_dir):
    env = ImitationEnv(motion_cache_dir=str(cache_dir), episode_time_s=1.0, terminate_on_fall=False,
                       terminate_on_tracking_error=False)
    env.reset(seed=0)
    for step in range(1, 31):
        _, _, terminated, truncated, info = env.step(ZERO)
        assert not terminated
    assert truncated and info["clip_fraction_completed"] == 1.0 and info["time_s"] == pytest.approx(1.0)


# -- motions: loops, files, cache, several clips ---------------------------------------------------------
def test_walk_loops_one_gait_cycle_and_carries_the_root_forward(walk):
    track = walk.tracks[0]
    assert track.cyclic and 0.9 <= track.period / walk.control_hz <= 1.3, walk.track_notes
    assert len(track.qpos) >= track.period + walk.episode_steps + 1  # any start, a whole episode
    along = track.qpos[:, 0:2] @ track.travel_dir  # root position along the travel direction
    speed = np.diff(along) * walk.control_hz
    assert np.all(speed > 0.5), "the root must keep going forward, across every loop seam"
    # the seam is smooth: the step across it is like the steps around it
    seam = track.period
    assert abs(speed[seam - 1] - np.median(speed)) < 0.5
    assert np.linalg.norm(track.qpos[seam, 0:2] - track.qpos[seam - 1, 0:2]) < 0.1
    stride = along[track.period] - along[0]
    assert along[3 * track.period] - along[0] == pytest.approx(3 * stride, rel=0.01)  # (the walk turns slightly)
    assert 1.0 < stride < 1.6  # a gait cycle (two steps) of a 1.2 m/s walk


def test_a_looped_cycle_that_turns_says_its_path_is_a_circle(walk):
    """Looping carries a cycle's heading turn on: a cycle that turns 36 deg walks a circle, and the track's
    notes say so (radius, time round); the CMU walk's cycle (straight) gets no such note."""
    assert "turns" not in walk.track_notes[0]
    hz, period, radius, turn = 30.0, 30, 2.0, math.radians(36.0)
    k = np.arange(period + 1)
    yaw = turn * k / period
    qpos = np.zeros((period + 1, 43))
    qpos[:, 0], qpos[:, 1] = radius * np.sin(yaw), radius * (1.0 - np.cos(yaw))  # heading = yaw along the circle
    qpos[:, 3], qpos[:, 6] = np.cos(yaw / 2), np.sin(yaw / 2)
    note = ip._turn_note(qpos, 0, period, hz)
    assert "turns 36 deg to the left" in note and "circle of 2.0 m radius" in note and "once round in 10.0 s" in note
    straight = qpos.copy()
    straight[:, 0], straight[:, 1], straight[:, 3], straight[:, 6] = k * 0.04, 0.0, 1.0, 0.0
    assert ip._turn_note(straight, 0, period, hz) == ""


def test_deepmimic_file_that_declares_wrap_loops_as_a_whole(cache_dir, tmp_path):
    """DeepMimic's motion files say whether they loop ("Loop": "wrap"); loop="auto" follows the file
    even where the seam is above find_cycle's tolerance (the humanoid3d walk's is), and a file saying
    "none" is left to find_cycle."""
    pybullet_data = pytest.importorskip("pybullet_data", reason="pybullet_data (pip install pybullet) has the "
                                        "DeepMimic motions")
    walk_file = Path(pybullet_data.getDataPath()) / "data" / "motions" / "humanoid3d_walk.txt"
    env = ImitationEnv(motion=str(walk_file), motion_cache_dir=str(cache_dir))
    track = env.tracks[0]
    assert track.cyclic and track.period == len(json.loads(walk_file.read_text())["Frames"]) - 1
    assert '"Loop": "wrap"' in env.track_notes[0] and "loop=auto" in env.track_notes[0]
    along = track.qpos[:, 0:2] @ track.travel_dir
    assert np.all(np.diff(along) > 0), "the root keeps going forward across the seams"

    data = json.loads(walk_file.read_text())
    data["Loop"] = "none"
    once = tmp_path / "walk_none.txt"
    once.write_text(json.dumps(data))
    env_once = ImitationEnv(motion=str(once), motion_cache_dir=str(cache_dir))
    assert "Loop" not in env_once.track_notes[0] and "loop=auto" in env_once.track_notes[0]


def test_calibration_frame_is_dropped_and_frames_can_be_chosen(cache_dir):
    clip_env = ImitationEnv(motion_cache_dir=str(cache_dir), motion_start_frame=100, motion_end_frame=300,
                            loop=False)
    assert clip_env.tracks[0].period == math.floor(199 / 120 * 30)  # 199 source intervals at 120 Hz, resampled
    from sportsim.mocap import load_clip

    assert ip.calibration_frames(load_clip(ip.resolve_motion_path(WALK))) == 1
    with pytest.raises(ConfigError, match="motion_start_frame 300 / motion_end_frame 100"):
        ImitationEnv(motion_cache_dir=str(cache_dir), motion_start_frame=300, motion_end_frame=100)


def test_bad_motion_path_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="motion 'mocap/no_such_clip.bvh': no such file"):
        ImitationEnv(motion="mocap/no_such_clip.bvh")
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n")
    with pytest.raises(MocapError, match="broken.bvh"):
        ImitationEnv(motion=str(bad), motion_cache=False)
    with pytest.raises(ConfigError, match="must be a file path or a non-empty list"):
        ImitationEnv(motion=[])


def test_retargeted_motion_is_cached_by_file_hash_and_settings(tmp_path):
    first = ImitationEnv(motion_cache_dir=str(tmp_path))
    (cached,) = tmp_path.glob("cmu_02_01_walk-*.npz")
    with np.load(cached, allow_pickle=False) as npz:  # plain arrays, no pickle
        assert str(npz["format"]) == "sportsim.reference_motion"
    mtime = cached.stat().st_mtime_ns
    second = ImitationEnv(motion_cache_dir=str(tmp_path))
    assert cached.stat().st_mtime_ns == mtime and len(list(tmp_path.iterdir())) == 1  # read back, not rewritten
    np.testing.assert_array_equal(first.tracks[0].qpos, second.tracks[0].qpos)
    ImitationEnv(motion_cache_dir=str(tmp_path), humanoid_height_m=1.8)  # other settings: another entry
    assert len(list(tmp_path.glob("cmu_02_01_walk-*.npz"))) == 2


def test_reference_motion_npz_and_several_clips_train_one_policy(cache_dir, standing):
    env = ImitationEnv(motion=[WALK, JUMPS], motion_cache_dir=str(cache_dir))
    assert len(env.tracks) == 2 and len(env.track_notes) == 2
    assert env.observation_space.shape == (263,)  # as with one clip (no clip index: imitation_clips)
    seen = set()
    for seed in range(8):
        obs, info = env.reset(seed=seed)
        seen.add(info["clip"])
    assert seen == {0, 1}
    _, info = env.reset(seed=0, options={"clip": 1, "start_phase": 0.0})
    assert info["clip"] == 1 and env.step_index == 0
    # the jumps were retargeted onto the walk's humanoid (its size is the first clip's)
    walk_only = ImitationEnv(motion=WALK, motion_cache_dir=str(cache_dir))
    assert env.humanoid_height_m == walk_only.humanoid_height_m
    # a reference motion made for another humanoid is refused, naming the fix
    with pytest.raises(ConfigError, match="--height"):
        ImitationEnv(motion=[WALK, str(standing)], motion_cache_dir=str(cache_dir))
    assert ImitationEnv(motion=str(standing)).humanoid_height_m == pytest.approx(humanoid.REFERENCE_HEIGHT_M)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"loop": "sometimes"}, "loop must be"),
    ({"physics_dt_s": 0.02}, "must be <= 1/120 s"),
    ({"physics_dt_s": 0.007}, "not a multiple"),
    ({"action_mode": "torque"}, "action_mode must be one of"),
    ({"pose_weight": -1.0}, "reward weights"),
    ({"episode_time_s": 0}, "episode_time_s must be a number > 0"),
])
def test_bad_arguments_raise_config_error(cache_dir, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ImitationEnv(motion_cache_dir=str(cache_dir), **kwargs)


def test_bad_reset_options_raise_config_error(walk):
    with pytest.raises(ConfigError, match="start_phase"):
        walk.reset(seed=0, options={"start_phase": 2.0})
    with pytest.raises(ConfigError, match="clip=3"):
        walk.reset(seed=0, options={"clip": 3})
    with pytest.raises(ConfigError, match="unknown reset options"):
        walk.reset(seed=0, options={"phase": 0.1})


# -- PD control and actions -------------------------------------------------------------------------
def test_pd_servos_hold_the_reference_pose_with_zero_action(standing):
    env = ImitationEnv(motion=str(standing), rsi=False)
    env.reset(seed=0)
    worst_mm, worst_deg = 0.0, 0.0
    for _ in range(30):  # 1 s
        _, reward, terminated, _, info = env.step(ZERO)
        worst_mm, worst_deg = max(worst_mm, info["mpjpe_mm"]), max(worst_deg, info["joint_angle_error_deg"])
    assert not terminated and worst_mm < 25.0 and worst_deg < 1.0 and reward > 0.98


def test_zero_residual_follows_the_walk_for_a_while(walk):
    """PD servos alone track the walk's first steps (the policy has to keep the balance after that)."""
    walk.reset(seed=0, options={"start_phase": 0.0})
    errors = []
    for _ in range(6):  # 0.2 s
        _, reward, terminated, _, info = walk.step(ZERO)
        errors.append(info["mpjpe_root_relative_mm"])
    assert not terminated and max(errors) < 80.0 and reward > 0.8


def test_absolute_actions_span_the_joint_ranges(cache_dir):
    env = ImitationEnv(motion_cache_dir=str(cache_dir), action_mode="absolute")
    env.reset(seed=0)
    env.step(np.ones(28, dtype=np.float32))
    knee = env.model.actuator("right_knee").id
    assert env.data.ctrl[knee] == pytest.approx(env.model.jnt_range[env.model.joint("right_knee").id][1])
    chest_x = env.model.actuator("chest_x").id
    assert env.data.ctrl[chest_x] == pytest.approx(math.radians(35.0))  # v1: lateral flexion range
    chest_y = env.model.actuator("chest_y").id
    obs, reward, *_ = env.step(np.full(28, np.nan, dtype=np.float32))  # NaN counts as 0: the range middle
    assert env.data.ctrl[chest_x] == 0.0 and np.all(np.isfinite(obs)) and np.isfinite(reward)
    assert env.data.ctrl[chest_y] == pytest.approx(math.radians(0.5 * (80.0 - 25.0)))  # flexion 80, extension 25
    v0 = ImitationEnv(motion_cache_dir=str(cache_dir), action_mode="absolute", body="deepmimic")
    v0.reset(seed=0)
    v0.step(np.ones(28, dtype=np.float32))
    assert v0.data.ctrl[chest_x] == pytest.approx(1.2)  # v0: the chest's cone limit per component


# -- rendering ---------------------------------------------------------------------------------------
def _orange(frame: np.ndarray) -> np.ndarray:
    """Mask of the translucent orange reference humanoid's pixels."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (r > 150) & (r - b > 60) & (g > 70)


@pytest.mark.parametrize(("ghost_offset_m", "centre_px"), [(1.0, (175, 240)), (0.0, (140, 185))])
def test_render_shows_the_ghost_beside_or_over_the_humanoid(cache_dir, ghost_offset_m, centre_px):
    env = ImitationEnv(motion_cache_dir=str(cache_dir), render_mode="rgb_array", render_width=320,
                       render_height=180, ghost_offset_m=ghost_offset_m)
    env.reset(seed=0, options={"start_phase": 0.0})
    frame = env.render()
    assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8
    ghost = _orange(frame)
    assert ghost.sum() > 300
    # the camera centres between humanoid and ghost: the ghost right of the middle, or in it when overlaid
    low, high = centre_px
    assert low < np.flatnonzero(ghost.any(axis=0)).mean() < high
    env.close()


# -- TensorBoard metrics and the CLI --------------------------------------------------------------------
def test_evaluation_logs_the_tracking_metrics(tmp_path, cache_dir):
    kwargs = {"motion_cache_dir": str(cache_dir), "episode_time_s": 0.5}
    train_env = make_vec_env(ImitationEnv, n_envs=1, seed=0, env_kwargs=kwargs)
    eval_env = make_vec_env(ImitationEnv, n_envs=1, seed=1, env_kwargs={**kwargs, "rsi": False})
    model = PPO("MlpPolicy", train_env, n_steps=32, batch_size=32, n_epochs=1, seed=0,
                policy_kwargs={"net_arch": [8, 8]})
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(64, callback=MetricsEvalCallback(eval_env, eval_freq=32, n_eval_episodes=2))
    with (tmp_path / "progress.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if row.get("eval/mpjpe_mm")]
    assert rows, "no eval/mpjpe_mm logged"
    for key in ("eval/mpjpe_mm", "eval/mpjpe_root_relative_mm", "eval/joint_angle_error_deg",
                "eval/clip_fraction_completed"):
        assert 0.0 <= float(rows[-1][key]) < 1e4, key


def test_train_cli_smoke_run_logs_reward_terms_and_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`python -m sportsim.train env=imitation` trains a few hundred steps on the shipped walk."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = run_module(
        "sportsim.train", "env=imitation", f"env.motion={WALK}", "algo=ppo", "total_timesteps=256", "n_envs=1",
        "progress_bar=false", "eval_freq=128", "n_eval_episodes=1", "checkpoint_freq=256", "verbose=0",
        "algo.n_steps=64", "algo.batch_size=64", "algo.n_epochs=1", "algo.policy_kwargs.net_arch=[16,16]",
        "env.kwargs.episode_time_s=2.0", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "runs" / "imitation" / "ppo").iterdir()
    cfg = OmegaConf.load(run_dir / "config.yaml")
    assert cfg.env.id == ENV_ID and cfg.env.kwargs.motion == WALK and cfg.env.kwargs.rsi is False
    assert cfg.env.train_kwargs.rsi is True and cfg.algo.gamma == 0.95  # configs/hparams/imitation_ppo.yaml
    assert (run_dir / "final").is_dir() and list((tmp_path / "cache" / "sportsim" / "motions").glob("*.npz"))
    tb = EventAccumulator(str(run_dir / "tb"))
    tb.Reload()
    tags = set(tb.Tags()["scalars"])
    assert {f"reward/{t}" for t in ImitationRewardWeights.TERMS} <= tags  # the config trains v2: six terms
    assert {"metrics/mpjpe_mm", "metrics/mpjpe_root_relative_mm", "metrics/joint_angle_error_deg",
            "metrics/clip_fraction_completed"} <= tags
