"""``scripts/imitation_kinetics.py``'s gait figures: what counts as a toe-off and where push-off is read."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "imitation_kinetics.py"
_spec = importlib.util.spec_from_file_location("imitation_kinetics", SCRIPT)
ik = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ik)


def test_a_scuff_is_neither_a_stance_nor_a_toe_off() -> None:
    hz = 30.0
    contact = np.zeros(60, dtype=bool)
    contact[0:20] = True  # a stance (ends at 19)
    contact[23] = True  # the swinging foot touches the floor for one step (1/30 s < MIN_STANCE_S)
    contact[40:58] = True  # a second stance (ends at 57)
    assert ik.toe_offs(contact, hz).tolist() == [19, 57]


def test_a_stance_still_going_at_the_end_has_no_toe_off() -> None:
    contact = np.zeros(30, dtype=bool)
    contact[10:] = True
    assert ik.toe_offs(contact, 30.0).size == 0


def test_push_off_window_ends_shortly_after_toe_off() -> None:
    """The swing's own ankle motion after the window does not count (the zoo walks' ankles flap to 50 deg in
    early swing; the window of 0.15 s either side counted that as push-off)."""
    hz = 30.0
    before, after = (max(1, int(round(w * hz))) for w in ik.PUSH_OFF_WINDOW_S)
    assert before * (1 / hz) >= 0.1 and after * (1 / hz) <= 0.07


def test_env_settings_reach_the_policy_env(capsys) -> None:
    """``env.*=value`` changes the policy's env before the rollout (here a 1 s episode); anything else is
    refused in one line, before any policy is loaded."""
    import json  # noqa: PLC0415

    assert ik.main(["zoo/imitation/v5/walk/ppo", "--which", "final", "env.kwargs.episode_time_s=1.0"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["episode_s"] == 1.0 and result["fall"] is None
    assert ik.main(["zoo/imitation/v5/walk/ppo", "algo.learning_rate=1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "only env.* settings" in err[0]


def test_clip_picks_the_clip_of_a_multi_clip_env(capsys) -> None:
    """``--clip N`` runs clip N of a multi-clip env from its frame 0 (the seeded reset used to draw one at
    random); a clip the env does not have is one line, exit 2."""
    import json  # noqa: PLC0415

    import pytest  # noqa: PLC0415

    pytest.importorskip("pybullet_data", reason="pybullet_data (pip install pybullet) has DeepMimic's run")
    common = ["zoo/imitation/v5/walk/ppo", "--which", "final", "env.kwargs.task=walk_run", "env.kwargs.episode_time_s=1.0"]
    results = []
    for clip in (0, 1):
        assert ik.main([*common, "--clip", str(clip)]) == 0
        results.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert [r["clip"] for r in results] == [0, 1]
    walk, run = results
    assert walk["fall"] is None and walk["episode_s"] == 1.0
    assert run["mpjpe_mm"] != walk["mpjpe_mm"]  # the walk's weights on the run's reference
    assert ik.main([*common, "--clip", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--clip 2" in err[0] and "2 clip(s)" in err[0]


def test_distance_is_the_path_walked_not_the_straight_line() -> None:
    """Per-metre figures divide by the path: a walk in a circle (a looped cycle that turns) is its
    circumference, a straight walk with a pelvis that sways 3 cm at the step frequency its length."""
    hz = 30.0
    t = np.arange(0, 10.0 + 1e-9, 1 / hz)
    circle = np.stack([np.cos(2 * np.pi * t / 10.0), np.sin(2 * np.pi * t / 10.0)], axis=1) * (8.0 / (2 * np.pi))
    assert abs(ik.travelled_m(circle, hz) - 8.0) < 0.15  # 10 chords of a 8 m circle: 7.95 m
    straight = np.stack([1.2 * t, 0.03 * np.sin(2 * np.pi * 0.9 * t)], axis=1)
    assert abs(ik.travelled_m(straight, hz) - 12.0) / 12.0 < 0.005
    assert ik.travelled_m(straight[:1], hz) == 0.0
