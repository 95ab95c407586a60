"""``strength_profile``: the opt-in "athlete", "gymnast" and "runner" bodies change exactly the rows their sources
cover (``sportsim.humanoid_limits``: Anderson et al. 2007's knee torque-velocity curve, the plantarflexors
at running's demand, a gymnast's shoulder ab/adduction, a runner's hip torque-velocity curves), the default leaves every env version as it was,
and bad values are refused in one line."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from sportsim import humanoid
from sportsim import humanoid_limits as limits
from sportsim.errors import ConfigError

ANKLE, KNEE, SHOULDER_X = "ankle_y", "knee", "shoulder_x"


def _changed(profile: str) -> set[str]:
    return {n.partition("_")[2] for n in humanoid.ACTUATOR_NAMES
            if limits.strength(n, profile=profile) != limits.strength(n)}


def test_default_is_the_dynamometer_table() -> None:
    for name in humanoid.ACTUATOR_NAMES:
        assert limits.strength(name) == limits.strength(name, 1.0, "dynamometer")


def test_athlete_changes_knee_extension_and_plantarflexion_only() -> None:
    assert _changed("athlete") == {ANKLE, KNEE}
    base, athlete = limits.strength("right_knee"), limits.strength("right_knee", profile="athlete")
    # flexion (+) untouched, extension (-): Anderson et al. 2007 young men, c4 = 1.517, c5 = 3.952 (Table 3)
    assert (athlete.positive_nm_per_kg, athlete.omega_max_positive, athlete.tv_half_positive) == (
        base.positive_nm_per_kg, base.omega_max_positive, base.tv_half_positive)
    assert athlete.negative_nm_per_kg == base.negative_nm_per_kg  # isometric strength unchanged
    assert athlete.omega_max_negative == pytest.approx(20.0, abs=0.05)
    assert athlete.tv_half_negative == pytest.approx(0.197, abs=0.001)

    def torque(s: limits.Strength, omega: float) -> float:
        return float(limits.torque_velocity_factor(np.array(omega), s.omega_max_negative, s.tv_half_negative,
                                                   s.eccentric_max))
    # at take-off speeds Anderson's curve gives 1.4-1.8x the gymnast fit's torque (the research note's table)
    for omega, low, high in ((3.1, 1.35, 1.5), (5.2, 1.5, 1.7), (10.0, 1.7, 1.95)):
        assert low < torque(athlete, omega) / torque(base, omega) < high
    ankle = limits.strength("left_ankle_y", profile="athlete")
    assert ankle.positive_nm_per_kg == pytest.approx(
        limits.GAIT_PLANTARFLEXOR_SCALE * limits.strength("left_ankle_y").positive_nm_per_kg)
    assert ankle.negative_nm_per_kg == limits.strength("left_ankle_y").negative_nm_per_kg
    # the env's own scale multiplies on top of the profile's
    assert limits.strength("left_ankle_y", 2.0, "athlete").positive_nm_per_kg == pytest.approx(
        2.0 * ankle.positive_nm_per_kg)


def test_gymnast_adds_shoulder_ab_adduction() -> None:
    assert _changed("gymnast") == {ANKLE, KNEE, SHOULDER_X}
    right, left = limits.strength("right_shoulder_x", profile="gymnast"), limits.strength(
        "left_shoulder_x", profile="gymnast")
    # right: + adduction, - abduction; [J10]'s horizontal rows (128.5 / 94.7 N m at 69.6 kg)
    assert right.positive_nm_per_kg == pytest.approx(128.496 / 69.6)
    assert right.negative_nm_per_kg == pytest.approx(94.6839 / 69.6)
    assert (left.positive_nm_per_kg, left.negative_nm_per_kg) == (right.negative_nm_per_kg, right.positive_nm_per_kg)
    untrained = limits.strength("right_shoulder_x")
    assert 1.3 < right.negative_nm_per_kg / untrained.negative_nm_per_kg < 1.5  # abduction +37 %
    assert right.negative_nm_per_kg < 2.9  # below an inverted cross's demand (the module's comment)
    for name in humanoid.ACTUATOR_NAMES:
        if not name.endswith(SHOULDER_X):
            assert limits.strength(name, profile="gymnast") == limits.strength(name, profile="athlete")


def test_runner_adds_hip_torque_velocity_curves_for_running_speeds() -> None:
    assert _changed("runner") == {ANKLE, KNEE, "hip_y"}
    for name in humanoid.ACTUATOR_NAMES:
        if not name.endswith("hip_y"):
            assert limits.strength(name, profile="runner") == limits.strength(name, profile="athlete")
    gymnast_fit, runner = limits.strength("right_hip_y"), limits.strength("left_hip_y", profile="runner")
    # isometric torques and the eccentric plateau are [J10]'s; + = extension on both sides (sagittal)
    assert (runner.positive_nm_per_kg, runner.negative_nm_per_kg, runner.eccentric_max) == (
        gymnast_fit.positive_nm_per_kg, gymnast_fit.negative_nm_per_kg, gymnast_fit.eccentric_max)
    assert (runner.omega_max_positive, runner.tv_half_positive) == (20.0, 0.16)
    assert (runner.omega_max_negative, runner.tv_half_negative) == (22.0, 0.15)

    def factors(s: limits.Strength, omega: float) -> tuple[float, float]:  # (extension, flexion) / isometric
        return (float(limits.torque_velocity_factor(np.array(omega), s.omega_max_positive, s.tv_half_positive, s.eccentric_max)),
                float(limits.torque_velocity_factor(np.array(omega), s.omega_max_negative, s.tv_half_negative, s.eccentric_max)))
    # the run's reference asks for 9.5 rad/s of hip flexion velocity: the gymnast fit has nothing left there,
    # the runner 31 / 30 N m (the module's comment)
    assert factors(gymnast_fit, 9.5) == (0.0, 0.0)
    ext, flex = factors(runner, 9.5)
    assert 175.746 * ext == pytest.approx(30.6, abs=0.2) and 157.293 * flex == pytest.approx(29.6, abs=0.2)
    # in the range dynamometers measured (4.2 rad/s = 240 deg/s): between Anderson et al. 2007's young men
    # (RBDL's Table 3 rows: extension c4 1.578, c5 3.19; flexion c4 2.095, c5 4.267) and above [J10]'s gymnast
    ext, flex = factors(runner, 4.2)
    anderson = (limits._anderson_tv(4.2, 1.578, 3.19), limits._anderson_tv(4.2, 2.095, 4.267))
    assert anderson == pytest.approx((0.346, 0.508), abs=0.001)
    assert ext == pytest.approx(0.417, abs=0.001) and flex == pytest.approx(0.428, abs=0.001)
    assert anderson[1] > flex and ext > anderson[0] > factors(gymnast_fit, 4.2)[0]


def test_the_env_builds_its_servos_from_the_profile() -> None:
    base = gym.make("sportsim/Imitation-v5").unwrapped
    env = gym.make("sportsim/Imitation-v5", strength_profile="gymnast").unwrapped
    mass = env.humanoid_mass_kg
    assert env.strength_profile == "gymnast"
    for k, name in enumerate(humanoid.ACTUATOR_NAMES):
        s = limits.strength(name, profile="gymnast")
        np.testing.assert_allclose(env.model.actuator_forcerange[k],
                                   [-s.negative_nm_per_kg * mass, s.positive_nm_per_kg * mass])
    ankle = humanoid.ACTUATOR_NAMES.index("right_ankle_y")
    assert env.model.actuator_gainprm[ankle, 0] > base.model.actuator_gainprm[ankle, 0]  # stiffness follows
    obs, _ = env.reset(seed=3)
    for _ in range(20):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(obs).all() and np.isfinite(reward)
        if terminated or truncated:
            break


@pytest.mark.parametrize("kwargs, match", [({"strength_profile": "olympian"}, "strength_profile must be one of"),
                                           ({"strength_profile": "athlete", "body": "deepmimic"}, "needs body='human'")])
def test_bad_profiles_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        gym.make("sportsim/Imitation-v5", **kwargs)
