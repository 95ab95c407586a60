"""Imitation with several clips, one policy (sportsim.envs.imitation_clips): which clip an episode draws,
the observation that serves any number of clips, the walk and the run on one body, determinism, check_env,
and a warm start of a multi-clip policy from a single-clip one."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import run_module
from test_imitation_skills import elbow_bend

from sportsim.envs import imitation_clips as clips
from sportsim.envs.imitation import ImitationEnv
from sportsim.errors import ConfigError


@pytest.fixture(scope="module")
def two_clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Two reference motions played once: the right elbow bending over 1 s (30 steps), the left over 2 s (60)."""
    folder = tmp_path_factory.mktemp("clips")
    return str(elbow_bend(folder / "right.npz")), str(elbow_bend(folder / "left.npz", "left_elbow", seconds=2.0))


@pytest.fixture(scope="module")
def walk_run(tmp_path_factory: pytest.TempPathFactory) -> ImitationEnv:
    pytest.importorskip("pybullet_data", reason="pybullet_data (pip install pybullet) has DeepMimic's run")
    return ImitationEnv(task="walk_run", motion_cache_dir=str(tmp_path_factory.mktemp("cache")))


def drawn(env: ImitationEnv, resets: int) -> np.ndarray:
    return np.bincount([env.reset(seed=seed)[1]["clip"] for seed in range(resets)], minlength=len(env.tracks))


def binomial_ok(count: int, n: int, p: float) -> bool:
    """``count`` of ``n`` draws within 4 standard deviations of the expected n p."""
    return abs(count - n * p) <= 4.0 * np.sqrt(n * p * (1.0 - p))


# -- which clip an episode draws --------------------------------------------------------------------------
def test_clips_are_drawn_uniformly_by_default(two_clips):
    env = ImitationEnv(motion=list(two_clips), loop=False)
    counts = drawn(env, 400)
    assert binomial_ok(counts[0], 400, 0.5) and counts.sum() == 400


def test_length_weighting_draws_clips_in_proportion_to_their_steps(two_clips):
    env = ImitationEnv(motion=list(two_clips), loop=False, clip_weights="length")
    assert [t.period for t in env.tracks] == [30, 60]
    np.testing.assert_allclose(env._clip_p, [1 / 3, 2 / 3])
    assert binomial_ok(drawn(env, 600)[0], 600, 1 / 3)
    # an episode shorter than the clips covers the same number of steps of each: uniform again
    short = ImitationEnv(motion=list(two_clips), loop=False, clip_weights="length", episode_time_s=0.5)
    np.testing.assert_allclose(short._clip_p, [0.5, 0.5])


def test_adaptive_curriculum_weighs_clips_by_what_episodes_failed_to_complete():
    curriculum = clips.ClipCurriculum(2)
    np.testing.assert_allclose(curriculum.probabilities(), [0.5, 0.5])  # nothing recorded: uniform
    for _ in range(200):  # clip 0 always completed, clip 1 a tenth of it
        curriculum.record(0, 1.0)
        curriculum.record(1, 0.1)
    np.testing.assert_allclose(curriculum.completed, [1.0, 0.1], atol=1e-4)
    floor = clips.ADAPTIVE_FLOOR
    np.testing.assert_allclose(curriculum.probabilities(), np.array([floor, 0.9 + floor]) / (0.9 + 2 * floor), atol=1e-4)
    curriculum.record(1, 7.0)  # out-of-range fractions are clipped to 0..1
    assert curriculum.completed[1] <= 1.0


def test_adaptive_weights_in_the_env_record_each_episode_and_steer_the_draws(two_clips):
    env = ImitationEnv(motion=list(two_clips), loop=False, clip_weights="adaptive", rsi=True)
    assert env._clip_p is None and env._curriculum is not None
    _, info = env.reset(seed=3, options={"clip": 1})
    done, steps = False, 0
    while not done:
        _, _, terminated, truncated, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        done, steps = terminated or truncated, steps + 1
    assert env._curriculum.completed[0] == 0.0
    assert env._curriculum.completed[1] == pytest.approx(clips.ADAPTIVE_RATE * info["clip_fraction_completed"])
    env._curriculum.completed[:] = [1.0, 0.0]  # clip 0 mastered: drawn with weight floor / (floor + 1 + floor)
    p0 = clips.ADAPTIVE_FLOOR / (1.0 + 2 * clips.ADAPTIVE_FLOOR)
    assert binomial_ok(drawn(env, 600)[0], 600, p0)
    # the same seeds, the same history: the same clips
    twin = ImitationEnv(motion=list(two_clips), loop=False, clip_weights="adaptive", rsi=True)
    twin._curriculum.completed[:] = [1.0, 0.0]
    assert drawn(twin, 50).tolist() == drawn(env, 50).tolist()
    # one clip: nothing to weigh
    assert ImitationEnv(motion=two_clips[0], loop=False, clip_weights="adaptive")._curriculum is None


def test_adaptive_phases_start_where_training_tracks_worst():
    """PhaseCurriculum alone: uniform at first (every bin's deficit starts at 1), then in proportion to each
    bin's moving-average reward deficit plus the floor; steps past the last start step count for the last bin,
    a looping clip's steps wrap round its cycle."""
    once = SimpleNamespace(starts=40, period=45, cyclic=False)
    loop = SimpleNamespace(starts=90, period=90, cyclic=True)
    curriculum = clips.PhaseCurriculum([once, loop])
    assert len(curriculum.edges[0]) == clips.PHASE_BINS + 1 and curriculum.edges[0][[0, -1]].tolist() == [0, 40]
    np.testing.assert_allclose(curriculum.probabilities(0), np.full(clips.PHASE_BINS, 1 / clips.PHASE_BINS))
    assert curriculum.bin_of(0, 44) == clips.PHASE_BINS - 1 and curriculum.bin_of(1, 90 + 5) == curriculum.bin_of(1, 5)
    for _ in range(3000):  # the first bin tracked perfectly, the last one badly
        curriculum.record(0, 0, 0.0)
        curriculum.record(0, 44, 0.8)
        curriculum.record(0, 50, 7.0)  # out-of-range deficits are clipped to 0..1
    d = curriculum.deficit[0]
    assert d[0] == pytest.approx(0.0, abs=1e-6) and 0.8 <= d[-1] <= 1.0 and d[1:-1].tolist() == [1.0] * (len(d) - 2)
    p = curriculum.probabilities(0)
    floor = clips.PHASE_FLOOR * d.mean()
    np.testing.assert_allclose(p, (d + floor) / (d + floor).sum())
    assert p[0] < p[-1] / 4 and p.sum() == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    starts = np.array([curriculum.draw(rng, 0) for _ in range(2000)])
    assert starts.min() >= 0 and starts.max() < 40
    first = curriculum.edges[0][1]
    assert binomial_ok(int((starts < first).sum()), 2000, p[0])
    with pytest.raises(ConfigError, match="phase_weights must be one of uniform, adaptive"):
        clips.phase_curriculum("hardest", [once])
    assert clips.phase_curriculum(None, [once]) is None and clips.phase_curriculum("uniform", [once]) is None


def test_adaptive_phases_in_the_env_record_training_steps_and_steer_the_starts(two_clips):
    env = ImitationEnv(motion=two_clips[1], loop=False, phase_weights="adaptive", rsi=True)
    phases = env._phases
    env.reset(seed=3, options={"start_phase": 0.0})
    _, reward, *_ = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
    b = phases.bin_of(0, 1)
    assert phases.deficit[0][b] == pytest.approx(1.0 + clips.PHASE_RATE * ((1.0 - reward) - 1.0))
    phases.deficit[0][:] = 0.0
    phases.deficit[0][-1] = 1.0  # only the last bin is tracked badly: most starts go there
    last = phases.edges[0][-2]
    n, floor = len(phases.deficit[0]), clips.PHASE_FLOOR
    p_last = phases.probabilities(0)[-1]  # (1 + floor / n) / (1 + floor): the mean deficit is 1 / n
    assert p_last == pytest.approx((1.0 + floor / n) / (1.0 + floor), rel=1e-9)
    starts = np.array([start_step(env, seed) for seed in range(300)])
    assert binomial_ok(int((starts >= last).sum()), 300, p_last)
    # the same seeds, the same curriculum: the same starts
    twin = ImitationEnv(motion=two_clips[1], loop=False, phase_weights="adaptive", rsi=True)
    twin._phases.deficit[0][:] = phases.deficit[0]
    assert [start_step(twin, s) for s in range(20)] == [start_step(env, s) for s in range(20)]
    # evaluation from frame 0 does not draw; uniform starts keep no curriculum
    assert start_step(ImitationEnv(motion=two_clips[1], loop=False, phase_weights="adaptive", rsi=False), 1) == 0
    assert ImitationEnv(motion=two_clips[1], loop=False)._phases is None


def start_step(env: ImitationEnv, seed: int) -> int:
    env.reset(seed=seed)
    return env._k0


def test_explicit_weights_and_the_reset_option_pick_the_clip(two_clips):
    env = ImitationEnv(motion=list(two_clips), loop=False, clip_weights=[0, 2.5])
    assert drawn(env, 20).tolist() == [0, 20]
    _, info = env.reset(seed=0, options={"clip": 0})  # the option overrides the weights
    assert info["clip"] == 0 and env.clip_names == ("right.npz", "left.npz")
    # random phases stay inside the drawn clip: every start step of the 60-step clip but its last
    starts = set()
    for seed in range(300):
        env.reset(seed=seed, options={"clip": 1})
        starts.add(env.step_index)
    assert min(starts) == 0 and max(starts) == env.tracks[1].starts - 1 and len(starts) > 40


def test_evaluation_from_frame_0_takes_the_clips_in_turn(two_clips):
    """rsi=False: a seeded reset draws the clip, a reset without a seed takes the next one - so each of SB3's
    periodic evaluations (its env seeded once; n_eval_episodes = the number of clips) sees every clip once."""
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import DummyVecEnv

    env = ImitationEnv(motion=list(two_clips), loop=False, rsi=False)
    first = env.reset(seed=5)[1]["clip"]
    assert [env.reset()[1]["clip"] for _ in range(4)] == [(first + i) % 2 for i in range(1, 5)]
    assert env.reset(seed=5)[1]["clip"] == first and env.step_index == 0

    class Zero:
        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            return np.zeros((len(obs), 28), np.float32), None

    venv = DummyVecEnv([lambda: ImitationEnv(motion=list(two_clips), loop=False, rsi=False)])
    venv.seed(1_000_000)
    for _ in range(3):  # three evaluations of two episodes
        seen = []
        evaluate_policy(Zero(), venv, n_eval_episodes=2, warn=False,
                        callback=lambda local, _: seen.append(local["info"]["clip"]) if local["done"] else None)
        assert sorted(seen) == [0, 1]


def test_per_clip_tensorboard_names_only_for_several_clips(two_clips):
    from stable_baselines3.common.vec_env import DummyVecEnv

    from sportsim.callbacks import env_clip_names

    def names(motion):
        venv = DummyVecEnv([lambda: ImitationEnv(motion=motion, loop=False)])
        try:
            return env_clip_names(venv)
        finally:
            venv.close()

    assert names(two_clips[0]) == () and names(list(two_clips)) == ("right.npz", "left.npz")


@pytest.mark.parametrize(("weights", "message"), [
    ("longest", "clip_weights must be 'uniform', 'length', 'adaptive' or a list of 2 numbers"),
    ([1.0], "a list of 2 numbers"),
    ([1.0, "x"], "a list of 2 numbers"),
    ([1.0, True], "a list of 2 numbers"),
    ([0.0, 0.0], "at least one > 0"),
    ([1.0, -1.0], "finite number >= 0"),
    ([1.0, float("nan")], "finite number >= 0"),
])
def test_bad_clip_weights_are_one_clear_line(two_clips, weights, message):
    with pytest.raises(ConfigError, match=message):
        ImitationEnv(motion=list(two_clips), loop=False, clip_weights=weights)


def test_one_clip_draws_no_random_number():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert clips.draw_clip(rng, 1, None) == 0 and rng.bit_generator.state == state


# -- the walk and the run ---------------------------------------------------------------------------------
def test_walk_run_tracks_both_clips_on_the_walks_body(walk_run, tmp_path):
    walk = ImitationEnv(task="walk", motion_cache_dir=str(tmp_path))
    assert walk_run.clip_names == ("cmu_02_01_walk.bvh", "deepmimic:run") and all(t.cyclic for t in walk_run.tracks)
    assert (walk_run.humanoid_height_m, walk_run.humanoid_mass_kg) == (walk.humanoid_height_m, walk.humanoid_mass_kg)
    np.testing.assert_array_equal(walk_run.tracks[0].qpos, walk.tracks[0].qpos)  # the walk retargeted as for itself
    assert walk_run.observation_space == walk.observation_space  # the walk's policy fits (no clip index)
    # the walk's clip yields the walk's observation: the same start, the same first step
    for env in (walk_run, walk):
        env.reset(seed=1, options={"clip": 0, "start_phase": 0.25})
    np.testing.assert_array_equal(walk_run.step(np.full(28, 0.1, np.float32))[0], walk.step(np.full(28, 0.1, np.float32))[0])


def test_the_observation_tells_the_walk_from_the_run(walk_run):
    """Why no clip index is needed: at every phase, the reference's next root displacement (observation
    254, heading frame) is 35-49 mm for the walk and 93-134 mm for the run - the ranges are far apart."""
    forward = []
    for clip, track in enumerate(walk_run.tracks):
        steps = [walk_run.reset(seed=0, options={"clip": clip, "start_phase": (k + 0.5) / track.period})[0][254]
                 for k in range(track.period)]
        forward.append((min(steps), max(steps)))
    (walk_low, walk_high), (run_low, run_high) = forward
    assert 0.03 < walk_low < walk_high < 0.05 and 0.09 < run_low < run_high < 0.14
    assert run_low > 1.8 * walk_high


def test_walk_run_is_deterministic_under_a_seed_and_passes_check_env(walk_run, tmp_path):
    check_env(walk_run, skip_render_check=True)
    other = ImitationEnv(task="walk_run", motion_cache_dir=str(tmp_path))

    def rollout(env: ImitationEnv) -> tuple[list[int], np.ndarray]:
        rng, seen, obs_all = np.random.default_rng(3), [], []
        for episode in range(6):
            obs, info = env.reset(seed=100 + episode)
            seen.append(info["clip"])
            for _ in range(15):
                obs, reward, terminated, truncated, info = env.step(rng.uniform(-1, 1, 28).astype(np.float32))
                obs_all.append(np.append(obs, reward))
                assert np.all(np.isfinite(obs)) and info["clip"] == seen[-1]
                if terminated or truncated:
                    break
        return seen, np.array(obs_all)

    clips_a, obs_a = rollout(walk_run)
    clips_b, obs_b = rollout(other)
    assert clips_a == clips_b and set(clips_a) == {0, 1}
    np.testing.assert_array_equal(obs_a, obs_b)


def test_the_walk_run_recipe_composes_into_a_two_clip_env(walk_run):
    """configs/hparams/imitation_walk_run.yaml: the warm start from the zoo run with fresh action noise, the
    adaptive clip draw (what the zoo's walk+run trained with), one frame-0 evaluation episode per clip."""
    from sportsim import builders, config

    cfg = config.compose_train_config(["env=imitation", "hparams=imitation_walk_run"])
    assert cfg.task == "walk_run" and cfg.init_std == "config" and cfg.init == "zoo:imitation/v7/run/ppo"
    assert cfg.n_eval_episodes == len(walk_run.tracks) == 2 and cfg.env.kwargs.rsi is False
    assert cfg.env.kwargs.strength_profile == "runner"
    env = builders.make_env(cfg.env)
    try:
        assert env.unwrapped.clip_names == walk_run.clip_names
        assert env.unwrapped._clip_p is None and env.unwrapped._curriculum is not None
        np.testing.assert_allclose(env.unwrapped._curriculum.probabilities(), [0.5, 0.5])
    finally:
        env.close()


# -- a multi-clip policy warm-started from a single-clip one -----------------------------------------------
def test_a_single_clip_policy_warm_starts_a_multi_clip_run(two_clips, tmp_path):
    """The recipe's plan (configs/hparams/imitation_walk_run.yaml): init=<the walk> init_std=config - the
    single-clip weights load into the two-clip run because the observation is the same."""
    tiny = ("algo=ppo", "n_envs=1", "progress_bar=false", "checkpoint_freq=64", "verbose=0",
            "algo.n_steps=64", "algo.batch_size=64", "algo.n_epochs=1", "algo.policy_kwargs.net_arch=[16,16]",
            "total_timesteps=64", "env.kwargs.loop=false")
    one, both_dir = tmp_path / "one", tmp_path / "both"
    first = run_module("sportsim.train", "env=imitation", f"env.motion={two_clips[0]}", f"run_dir={one}", "eval_freq=0", *tiny,
                       cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    both = run_module("sportsim.train", "env=imitation", f"env.motion=[{two_clips[0]},{two_clips[1]}]",
                      "env.kwargs.clip_weights=length", f"init={one}", "init_std=config", f"run_dir={both_dir}", "eval_freq=64",
                      "n_eval_episodes=2", *tiny,
                      cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    assert f"initial weights from {one}" in both.stdout and "action noise restarted" in both.stdout
    assert (both_dir / "final").is_dir()
    # TensorBoard: the episode figures per clip too; each evaluation saw both clips (from frame 0, in turn)
    tb = EventAccumulator(str(both_dir / "tb"))
    tb.Reload()
    tags = set(tb.Tags()["scalars"])
    assert {f"eval_per_clip/{name}/mpjpe_mm" for name in ("right.npz", "left.npz")} <= tags
    assert any(tag.startswith("metrics_per_clip/") for tag in tags)
    # and the single-clip policy is evaluated per clip on the list (scripts/evaluate_imitation.py env.*=...)
    script = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "evaluate_imitation.py"))
    out = tmp_path / "eval.json"
    motions = f"env.motion=[{two_clips[0]},{two_clips[1]}]"
    assert script["main"]([str(one), "--which", "final", "--episodes", "2", motions, "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert [c["name"] for c in figures["clips"]] == ["right.npz", "left.npz"] and figures["env_overrides"] == [motions]
    assert all(c["random_phase"]["episodes"] == 2 for c in figures["clips"])
    with pytest.raises(ConfigError, match="only env.\\* settings"):
        script["main"]([str(one), "algo.n_steps=8"])
