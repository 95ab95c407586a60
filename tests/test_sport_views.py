"""Sport views of ``python -m sportsim.record``: the curves panel HalfPipe-v0 and HighBar-v0 describe in
``metadata["sport_panel"]``, drawn under the video of a zoo policy (one short episode each)."""

from __future__ import annotations

import math

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest

from sportsim import record, runs
from sportsim.envs import halfpipe_params
from sportsim.errors import ConfigError
from sportsim.paths import resource_dir
from sportsim.video import sport_panel, sport_panel_spec, spans

# zoo entry -> control steps recorded (1 s and 0.5 s of video)
ENTRIES = {"halfpipe/ppo": 25, "highbar/giant/ppo": 25}


def _frames(path) -> list[np.ndarray]:
    with imageio.get_reader(path) as reader:
        return [np.asarray(frame) for frame in reader]


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_record_draws_the_sport_panel_under_the_video(entry: str, tmp_path) -> None:
    steps = ENTRIES[entry]
    policy = resource_dir("zoo") / entry
    plain = record.record(policy, out=tmp_path / "plain.mp4", max_steps=steps, panel=False)
    panel = record.record(policy, out=tmp_path / "panel.mp4", max_steps=steps)  # default: the env's panel
    assert plain.frames == panel.frames == steps + 1  # the reset frame + one per step
    assert panel.width_px == plain.width_px and panel.height_px > plain.height_px
    plain_frames, panel_frames = _frames(plain.path), _frames(panel.path)
    assert len(panel_frames) == panel.frames and panel_frames[0].shape == (panel.height_px, panel.width_px, 3)
    for k in (0, steps):  # the same scene above, curves below, a cursor that moves
        scene = panel_frames[k][:plain.height_px].astype(float) - plain_frames[k].astype(float)
        assert np.abs(scene).mean() < 3.0  # equal up to video compression
    curves_first, curves_last = (panel_frames[k][plain.height_px:].astype(float) for k in (0, steps))
    assert curves_first.std() > 10 and np.abs(curves_first - curves_last).mean() > 0.2
    with pytest.raises(ConfigError, match="already exists"):
        record.record(policy, out=panel.path, max_steps=1)


def test_panel_true_for_an_env_without_a_panel_is_an_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "sport_panel_spec", lambda env: None)
    with pytest.raises(ConfigError, match="describes no sport panel"):
        record.record(resource_dir("zoo") / "halfpipe" / "ppo", out=tmp_path / "v.mp4", max_steps=1, panel=True)
    assert not (tmp_path / "v.mp4").exists()


def test_halfpipe_panel_values_are_the_physics() -> None:
    """CoM height + v^2/2g is the energy height the observation carries; a pump is the legs extending."""
    env = gym.make("sportsim/HalfPipe-v0")
    spec = sport_panel_spec(env)
    obs, info = env.reset(seed=1)
    samples = []
    for action in [1.0] * 10 + [-1.0] * 10:
        obs, _, _, _, info = env.step(np.array([action], dtype=np.float32))
        sample = spec["values"](obs, info)
        samples.append(sample)
        speed2 = float(obs[4]) ** 2 + float(obs[5]) ** 2
        assert sample["energy_height_m"] == pytest.approx(float(obs[10]) * info["coping_height_m"])
        assert sample["com_height_m"] == pytest.approx(
            sample["energy_height_m"] - speed2 / (2 * halfpipe_params.GRAVITY_MPS2))
        assert 0.3 < sample["com_height_m"] < 2.0 and sample["pumping"] == float(obs[7] > 0.05)
    env.close()
    pumps = spans(np.array([s["pumping"] for s in samples]) > 0.5)
    assert len(pumps) == 1 and pumps[0][0] <= 2  # extending at once, then crouching: one pump
    panel = sport_panel(spec, samples, fps=25.0, width=320)
    assert panel.image.shape[1] == 320 and panel.image.shape[0] % 2 == 0


@pytest.mark.filterwarnings("ignore:.*is out of date")  # v1: the versions of the zoo entries above
@pytest.mark.parametrize("env_id", ["sportsim/HalfPipe-v1", "sportsim/Imitation-v1"])
def test_the_panel_of_the_registered_env_class_is_the_built_envs(env_id: str) -> None:
    """record reads the panel from the class gymnasium's registry builds the env with, before building it."""
    env_class = record._registered_class(env_id)
    assert env_class is not None and env_class.__name__ == gym.spec(env_id).entry_point.rpartition(":")[2]
    env = gym.make(env_id)
    try:
        assert sport_panel_spec(env_class) is sport_panel_spec(env) is not None
    finally:
        env.close()
    assert record._registered_class("sportsim/NoSuchEnv-v0") is None


def test_highbar_panel_values_are_degrees_and_body_weights() -> None:
    env = gym.make("sportsim/HighBar-v0", task="giant")
    spec = sport_panel_spec(env)
    obs, info = env.reset(seed=0)
    sample = spec["values"](obs, info)
    env.close()
    assert sample["bar_angle_deg"] == pytest.approx(math.degrees(info["bar_angle_rad"]))
    assert 150 < sample["bar_angle_deg"] < 200  # a giant starts from a handstand
    assert sample["shoulder_deg"] == pytest.approx(math.degrees(obs[3]), abs=1e-4)
    assert sample["hip_deg"] == pytest.approx(math.degrees(obs[4]), abs=1e-4)
    assert sample["hand_force_bw"] == pytest.approx(info["hand_force_bw"])
    assert [len(row["curves"]) for row in spec["rows"]] == [1, 2, 1]


def test_record_builds_imitation_with_what_its_panel_needs(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Imitation's panel (GRF and moments) reads the kinetics probe: record builds the env with the panel's
    ``env_kwargs`` (kinetics=True), so every sample after the reset frame is a number - without them the
    curves were empty (a regression of 47e3539, found in the v1 jump's video). The panel is read from the
    registered env class, so the policy and its env are opened once, already with those arguments."""
    drawn, opened = [], []

    def capture(spec, samples, fps, width):
        drawn.append(list(samples))
        return sport_panel(spec, samples, fps, width)

    def open_policy(*args, **kwargs):
        opened.append(kwargs)
        return open_policy_once(*args, **kwargs)

    open_policy_once = runs.open_policy
    monkeypatch.setattr(record, "sport_panel", capture)
    monkeypatch.setattr(runs, "open_policy", open_policy)
    record.record(resource_dir("zoo") / "imitation" / "v1" / "jump" / "ppo", out=tmp_path / "jump.mp4", max_steps=4)
    assert opened == [{"render_mode": "rgb_array", "kinetics": True}]
    (samples,) = drawn
    assert len(samples) == 5 and all(math.isnan(v) for v in samples[0].values())
    assert all(math.isfinite(v) for s in samples[1:] for v in s.values())
    assert max(s["right_grf_bw"] + s["left_grf_bw"] for s in samples[1:]) > 0.5  # standing on the floor


def test_record_plays_each_clip_of_a_multi_clip_policy_in_turn(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy with several clips (the walk and the run) records episode k on clip k mod n - the seeded reset
    alone would draw the clip at random, so ``episodes=2`` could have shown the walk twice."""
    pytest.importorskip("pybullet_data", reason="pybullet_data (pip install pybullet) has DeepMimic's run")
    from sportsim.config import parse_env_overrides  # noqa: PLC0415

    first: list[int] = []

    class Spy(record._Episode):
        def add(self, frame, obs, info) -> None:
            if not self.samples and not getattr(self, "seen", False):
                self.seen = True
                first.append(int(info["clip"]))
            super().add(frame, obs, info)

    monkeypatch.setattr(record, "_Episode", Spy)
    overrides = parse_env_overrides(["env.kwargs.task=walk_run"])
    result = record.record(resource_dir("zoo") / "imitation" / "v5" / "walk" / "ppo", episodes=3, max_steps=2,
                           out=tmp_path / "walk_run.mp4", panel=False, env_overrides=overrides)
    assert first == [0, 1, 0] and result.frames == 3 * 3
