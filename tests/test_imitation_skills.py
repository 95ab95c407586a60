"""Imitation skills - clips played once: stands before and after, starts over the whole clip, the clip's
end as a success (tests/test_imitation.py has the rest of the env)."""

from __future__ import annotations

from pathlib import Path

import json
import runpy

import numpy as np
import pytest

from helpers import run_module

from sportsim import humanoid
from sportsim.envs import imitation_params as ip
from sportsim.envs.imitation import ImitationEnv
from sportsim.errors import ConfigError
from sportsim.mocap.retarget import POINT_NAMES, ReferenceMotion

ZERO = np.zeros(28, dtype=np.float32)


def elbow_bend(path: Path, elbow: str = "right_elbow", seconds: float = 1.0) -> Path:
    """A reference motion .npz at 30 Hz: standing in the zero pose while ``elbow`` bends 0 -> 0.6 rad
    over ``seconds`` (first and last frames differ, so stands are visible), reference male."""
    model = humanoid.build_humanoid_model()
    n = round(30 * seconds) + 1
    qpos = np.tile(model.qpos0, (n, 1))
    ramp = np.linspace(0.0, 1.0, n)
    qpos[:, humanoid.qpos_address(elbow)] = 0.6 * ramp
    qvel = np.zeros((n, model.nv))
    qvel[:, model.joint(elbow).dofadr[0]] = 0.6 / seconds
    positions = humanoid.kinematic_positions(model, model.qpos0)
    motion = ReferenceMotion(
        fps=30.0, qpos=qpos, qvel=qvel, positions_m=np.tile(np.array([positions[p] for p in POINT_NAMES]), (n, 1, 1)),
        foot_contacts=np.ones((n, 2), dtype=bool), target_names=(), target_positions_m=np.zeros((n, 0, 3)),
        height_m=humanoid.REFERENCE_HEIGHT_M, mass_kg=humanoid.REFERENCE_MASS_KG)
    return motion.save_npz(path)


@pytest.fixture(scope="module")
def bending(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The right elbow bending over 1 s (:func:`elbow_bend`)."""
    return elbow_bend(tmp_path_factory.mktemp("bending") / "bending.npz")


@pytest.fixture(scope="module")
def framed(bending: Path) -> ImitationEnv:
    """The bending clip played once with 0.5 s of stand before and 1 s after it."""
    return ImitationEnv(motion=str(bending), loop=False, stand_before_s=0.5, stand_after_s=1.0)


def test_stands_hold_the_first_and_last_pose_still(framed, bending):
    plain = ImitationEnv(motion=str(bending), loop=False)
    track, clip = framed.tracks[0], plain.tracks[0]
    assert not track.cyclic and clip.period == 30
    assert track.period == 15 + 30 + 30 and len(track.qpos) == track.period + 1
    np.testing.assert_array_equal(track.qpos[:16], np.repeat(clip.qpos[:1], 16, axis=0))
    np.testing.assert_array_equal(track.qpos[15:46], clip.qpos)
    np.testing.assert_array_equal(track.qpos[45:], np.repeat(clip.qpos[-1:], 31, axis=0))
    assert not track.qvel[:15].any() and not track.qvel[46:].any()  # at rest while standing
    np.testing.assert_array_equal(track.qvel[15:46], clip.qvel)
    assert "first pose held 0.50 s before it, last pose 1.00 s after it" in framed.track_notes[0]
    # the phase runs over the whole framed clip
    _, info = framed.reset(seed=0, options={"start_phase": 0.2})
    assert info["phase"] == pytest.approx(15 / 75)


def test_without_stands_the_track_is_the_clip_as_before():
    q = np.arange(12.0).reshape(4, 3)
    v = np.ones((4, 3))
    q2, v2 = ip.with_stands(q, v, 0, 0)
    np.testing.assert_array_equal(q2, q)
    np.testing.assert_array_equal(v2, v)
    q3, v3 = ip.with_stands(q, v, 2, 1)
    assert q3.shape == (7, 3) and (q3[:3] == q[0]).all() and (q3[-2:] == q[-1]).all()
    assert not v3[:2].any() and not v3[-1].any()


def test_random_phase_starts_cover_the_whole_clip_and_its_stands(framed):
    track = framed.tracks[0]
    starts = set()
    for seed in range(400):
        framed.reset(seed=seed)
        starts.add(framed.step_index)
    assert min(starts) == 0 and max(starts) == track.period - 1  # stand before ... stand after, but the last step
    assert len(starts) >= 0.9 * track.period
    assert any(k < 15 for k in starts) and any(15 <= k < 45 for k in starts) and any(k >= 45 for k in starts)


def test_the_end_of_a_clip_played_once_is_a_success(framed):
    track = framed.tracks[0]
    framed.reset(seed=0, options={"start_phase": 0.0})
    steps = 0
    while True:
        _, reward, terminated, truncated, info = framed.step(ZERO)
        steps += 1
        assert np.isfinite(reward)
        if terminated or truncated:
            break
        assert not info["is_success"] and not info["motion_ended"]
    assert steps == track.period  # the stand after is part of the episode
    assert terminated and not truncated  # the task is over: not a time-limit truncation
    assert info["is_success"] and info["motion_ended"] and info["fall"] is None
    assert info["clip_fraction_completed"] == 1.0 and info["time_s"] == pytest.approx(track.period / 30)


def test_a_fall_before_the_end_is_not_a_success(framed):
    framed.reset(seed=0, options={"start_phase": 0.9})
    qpos, qvel = framed.reference_state()
    qpos[2] = 0.15  # lying on the floor
    qpos[3:7] = [np.cos(np.pi / 4), 0.0, np.sin(np.pi / 4), 0.0]
    framed.evaluate_state(qpos, np.zeros_like(qvel))
    _, _, terminated, truncated, info = framed.step(ZERO)
    assert terminated and not truncated and info["fall"] == "contact"
    assert not info["is_success"] and not info["motion_ended"] and info["clip_fraction_completed"] < 1.0


def test_a_looping_clip_has_no_stands(bending):
    env = ImitationEnv(motion=str(bending), loop=True, stand_before_s=0.5, stand_after_s=0.5)
    assert env.tracks[0].cyclic and env.tracks[0].period == 30
    assert "no stands" in env.track_notes[0]


@pytest.mark.parametrize("kwargs", [{"stand_before_s": -1.0}, {"stand_after_s": float("nan")},
                                    {"stand_after_s": True}, {"stand_before_s": "1"}])
def test_bad_stands_raise_config_error(bending, kwargs):
    with pytest.raises(ConfigError, match="must be a number >= 0"):
        ImitationEnv(motion=str(bending), loop=False, **kwargs)


# -- skills: task=<skill> ---------------------------------------------------------------------------------
def test_task_selects_the_skills_clip_window_loop_and_stands(tmp_path):
    jump = ImitationEnv(task="jump", motion_cache_dir=str(tmp_path))
    skill = ip.SKILLS["jump"]
    assert jump.task == "jump" and not jump.tracks[0].cyclic
    assert "cmu_01_01_forward_jumps.bvh: played once" in jump.track_notes[0]
    clip_steps = round((skill.end_frame - 1 - skill.start_frame) / 120 * 30 - 0.5)  # resampled source intervals
    framed = round(skill.stand_before_s * 30) + round(skill.stand_after_s * 30)
    assert abs(jump.tracks[0].period - (clip_steps + framed)) <= 1
    # what is given explicitly wins over the skill's settings
    once = ImitationEnv(task="jump", stand_before_s=0.0, stand_after_s=0.0, motion_cache_dir=str(tmp_path))
    assert once.tracks[0].period == jump.tracks[0].period - framed
    with pytest.raises(ConfigError, match=r"unknown task 'flip' for Imitation \(choose from: walk, jump"):
        ImitationEnv(task="flip")


def test_a_cartwheels_hands_may_touch_the_floor(bending):
    model_geoms = lambda env, body: [g for g in range(env.model.ngeom)  # noqa: E731
                                     if env.model.geom_bodyid[g] == env.model.body(body).id]
    feet_only = ImitationEnv(motion=str(bending), loop=False)
    hands = ImitationEnv(motion=str(bending), loop=False, support_bodies=ip.SKILLS["cartwheel"].support_bodies)
    assert feet_only.support_bodies == ("right_ankle", "left_ankle")
    for body in ("right_wrist", "left_wrist"):
        assert feet_only._fall_geom[model_geoms(feet_only, body)].all()
        assert not hands._fall_geom[model_geoms(hands, body)].any()
    assert hands._fall_geom[model_geoms(hands, "right_elbow")].all()
    with pytest.raises(ConfigError, match="support_bodies .*must be one of"):
        ImitationEnv(motion=str(bending), support_bodies=["right_hand"])


def test_no_task_and_no_motion_is_the_walk_as_before(tmp_path):
    """Imitation-v0's zoo walk names its motion and loop; the defaults give the same track."""
    default = ImitationEnv(body="deepmimic", motion_cache_dir=str(tmp_path))
    named = ImitationEnv(body="deepmimic", motion="mocap/cmu_02_01_walk.bvh", loop="auto", motion_cache_dir=str(tmp_path))
    assert default.task is None and default.track_notes == named.track_notes
    np.testing.assert_array_equal(default.tracks[0].qpos, named.tracks[0].qpos)


def test_task_on_the_command_line_reaches_the_env():
    from sportsim import config

    cfg = config.compose_train_config(["env=imitation", "task=kick"])
    assert cfg.task == "kick" and cfg.env.kwargs.task == "kick" and cfg.env.kwargs.motion is None
    assert config.compose_train_config(["env=imitation"]).task == "walk"
    with pytest.raises(ConfigError, match="unknown task 'flip' for env imitation"):
        config.compose_train_config(["env=imitation", "task=flip"])


def test_deepmimic_motions_resolve_to_pybullets_files():
    pybullet_data = pytest.importorskip("pybullet_data", reason="pybullet_data (pip install pybullet) has the "
                                        "DeepMimic motions")
    folder = Path(pybullet_data.getDataPath()) / "data" / "motions"
    assert ip.resolve_motion_path("deepmimic:spinkick") == (folder / "humanoid3d_spinkick.txt").resolve()
    assert ip.deepmimic_motion_path("humanoid3d_run.txt") == (folder / "humanoid3d_run.txt").resolve()
    with pytest.raises(ConfigError, match="no such DeepMimic motion .*backflip"):
        ip.resolve_motion_path("deepmimic:triple_axel")


# -- several clips, evaluated per clip ---------------------------------------------------------------------
def test_one_policy_on_two_clips_is_evaluated_per_clip(tmp_path, capsys):
    """scripts/evaluate_imitation.py: every clip of a multi-clip policy gets its own frame-0 and random-phase
    figures (each reset is told the clip)."""
    right = elbow_bend(tmp_path / "right.npz")  # 30 control steps
    left = elbow_bend(tmp_path / "left.npz", "left_elbow", seconds=2.0)  # 60
    result = run_module(
        "sportsim.train", "env=imitation", f"env.motion=[{right},{left}]", "env.kwargs.loop=false", "algo=ppo",
        "total_timesteps=128", "n_envs=1", "progress_bar=false", "eval_freq=0", "checkpoint_freq=128", "verbose=0",
        "algo.n_steps=64", "algo.batch_size=64", "algo.n_epochs=1", "algo.policy_kwargs.net_arch=[16,16]", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "runs" / "imitation" / "ppo").iterdir()
    script = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "evaluate_imitation.py"))
    out = tmp_path / "eval.json"
    assert script["main"]([str(run_dir), "--which", "final", "--episodes", "3", "--json", str(out)]) == 0
    figures = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert figures == json.loads(out.read_text())
    assert [c["name"] for c in figures["clips"]] == ["right.npz", "left.npz"]
    for clip, steps in zip(figures["clips"], (30, 60)):
        assert clip["frame0"]["episodes"] == 1 and clip["random_phase"]["episodes"] == 3
        if clip["frame0"]["falls"] == 0:  # standing still with a bent elbow: the whole clip, to its end
            assert clip["frame0"]["mean_episode_steps"] == steps and clip["frame0"]["success_rate"] == 1.0
        assert clip["random_phase"]["mean_episode_steps"] < steps
        assert np.isfinite(clip["random_phase"]["mpjpe_mm"])
    with pytest.raises(ConfigError, match="exists \\(not overwritten\\)"):
        script["main"]([str(run_dir), "--json", str(out)])
    # enjoy's figures (sportsim.evaluation) split a multi-clip policy's episodes by clip
    from sportsim import runs
    from sportsim.evaluation import evaluate_policy

    policy = runs.open_policy(runs.locate_model(run_dir, "final"), rsi=True)
    try:
        summary = evaluate_policy(policy, episodes=6, seed=0)
    finally:
        policy.close()
    per_clip = summary["per_clip"]
    assert set(per_clip) == {"0", "1"} and sum(c["episodes"] for c in per_clip.values()) == 6
    assert all(np.isfinite(c["mpjpe_mm_mean"]) for c in per_clip.values())
    assert [per_clip[c]["name"] for c in ("0", "1")] == ["right.npz", "left.npz"]


def test_skill_clip_check_reports_validation_and_zero_action_episodes(tmp_path, monkeypatch, capsys):
    """scripts/imitation_skill_clips.py on the jump: its track, the retargeted reference's validation and
    zero-action episodes (finite throughout; from random phases some reach the clip's end)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    script = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "imitation_skill_clips.py"))
    assert script["main"](["jump", "--episodes", "6", "--json", str(tmp_path / "clips.json")]) == 0
    (jump,) = json.loads((tmp_path / "clips.json").read_text())["skills"]
    (clip,) = jump["clips"]
    assert jump["skill"] == "jump" and jump["body"] == "human" and "played once" in clip["notes"]
    assert clip["validation"]["foot penetration"]["status"] == "ok"  # the chosen window (see SKILLS)
    assert clip["validation"]["NaN/inf"]["status"] == "ok"
    zero = jump["zero_action"]
    assert zero["all_finite"] and zero["episodes"] == 6 and sum(zero["ends"].values()) == 6
    assert "frame 0:" in capsys.readouterr().out


def test_walk_run_is_one_policy_on_two_clips(tmp_path):
    pytest.importorskip("pybullet_data", reason="pybullet_data (pip install pybullet) has DeepMimic's run")
    env = ImitationEnv(task="walk_run", motion_cache_dir=str(tmp_path))
    assert [t.name for t in env.tracks] == ["cmu_02_01_walk.bvh", "deepmimic:run"]
    assert all(t.cyclic for t in env.tracks) and env.observation_space.shape == (263,)  # as the walk's (no clip index)
