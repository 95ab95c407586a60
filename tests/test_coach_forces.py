"""The kinetics of a policy side of a comparison (sportsim.coach.forces): sign conventions and units on
made-up series, and physics on the zoo walk - over whole gait cycles the floor carries the body's
weight on average (the vertical momentum comes back to where it started)."""

from __future__ import annotations

import numpy as np
import pytest

from sportsim import humanoid
from sportsim.coach.forces import FEET, MOMENTS, kinetics_rows, on_timeline
from sportsim.coach.rollout import roll_out


def _series(n: int = 480, rate_hz: float = 120.0) -> dict[str, np.ndarray]:
    """Right foot 1.2 BW, left 0.3 BW; right hip_y +1, knee +0.5 (flexion), ankle_y +1.5 N m/kg."""
    grf = np.zeros((n, 2, 3))
    grf[:, 0, 2], grf[:, 1, 2] = 1.2, 0.3
    moments = np.zeros((n, len(humanoid.ACTUATOR_NAMES)))
    for name, value in (("right_hip_y", 1.0), ("right_knee", 0.5), ("right_ankle_y", 1.5), ("left_knee", -2.0)):
        moments[:, humanoid.ACTUATOR_NAMES.index(name)] = value
    return {"grf_bw": grf, "moment_nm_per_kg": moments, "rate_hz": np.array(rate_hz)}


def test_kinetics_on_a_timeline_keep_units_and_turn_the_knee_to_extension_positive() -> None:
    times = np.linspace(0.5, 3.5, 91)
    right = on_timeline(_series(), times, "right")
    assert right.grf_bw["right"] == pytest.approx(np.full(91, 1.2), abs=1e-6)
    assert right.grf_bw["left"] == pytest.approx(np.full(91, 0.3), abs=1e-6)
    assert right.moment_nm_per_kg["hip"] == pytest.approx(np.full(91, 1.0), abs=1e-6)  # + extension
    assert right.moment_nm_per_kg["knee"] == pytest.approx(np.full(91, -0.5), abs=1e-6)  # flexion -> negative
    assert right.moment_nm_per_kg["ankle"] == pytest.approx(np.full(91, 1.5), abs=1e-6)  # + plantarflexion
    assert on_timeline(_series(), times, "left").moment_nm_per_kg["knee"] == pytest.approx(np.full(91, 2.0), abs=1e-6)
    assert set(right.columns("a")) == {"a_right_vertical_grf_bw", "a_left_vertical_grf_bw",
                                       "a_right_hip_moment_nm_per_kg", "a_right_knee_moment_nm_per_kg",
                                       "a_right_ankle_moment_nm_per_kg"}
    peaks = dict((what, (low, high)) for what, low, high in right.peaks())
    assert peaks["right vertical GRF (BW)"] == pytest.approx((1.2, 1.2), abs=1e-6)
    rows = kinetics_rows((right, None))
    assert [len(r.lines) for r in rows] == [len(FEET), len(MOMENTS)] and "BW" in rows[0].title
    assert kinetics_rows((None, None)) == []


def test_the_zoo_walk_carries_its_weight_on_average() -> None:
    """Mean of the summed vertical ground reaction force over the rollout's whole gait cycles: 1 BW within
    3 % (the filter's ends excluded by using the raw series); its peaks lie in walking's range (1-2 BW)."""
    rollout = roll_out("imitation/walk/ppo")
    series = rollout.kinetics
    rate = float(series["rate_hz"])
    period = rollout.phase.period_s
    n = int(round(int(len(series["grf_bw"]) / rate / period) * period * rate))
    total = series["grf_bw"][:n, :, 2].sum(axis=1)
    assert total.mean() == pytest.approx(1.0, abs=0.03)
    timeline = on_timeline(series, np.arange(0, n / rate, 1 / 30), "right")
    for foot in FEET:
        assert 1.0 < timeline.grf_bw[foot].max() < 2.2
    assert timeline.moment_nm_per_kg["ankle"].max() > 0.5  # push-off: plantarflexion


def test_imitation_describes_a_kinetics_panel_for_record() -> None:
    """``python -m sportsim.record`` of an Imitation policy: the env's sport panel asks for kinetics=True,
    and with it every step's sample is finite (the reset frame, with no step behind it, is NaN)."""
    import gymnasium as gym

    from sportsim.video import sport_panel_spec

    env = gym.make("sportsim/Imitation-v1", kinetics=True)
    try:
        spec = sport_panel_spec(env)
        assert spec is not None and spec["env_kwargs"] == {"kinetics": True}
        obs, info = env.reset(seed=0)
        assert all(np.isnan(v) for v in spec["values"](obs, info).values())
        obs, _, _, _, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        sample = spec["values"](obs, info)
        keys = {key for row in spec["rows"] for key, _ in row["curves"]}
        assert set(sample) == keys and all(np.isfinite(v) for v in sample.values())
        assert 0.0 <= sample["right_grf_bw"] + sample["left_grf_bw"] < 3.0
    finally:
        env.close()
