"""``plantarflexor_strength_scale``: the ankles' plantarflexion strength (and only it) x the scale, in the
servo's torque bound and stiffness; bad values are refused in one line."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from sportsim import humanoid
from sportsim import humanoid_limits as limits
from sportsim.errors import ConfigError


def test_only_plantarflexion_scales() -> None:
    base = gym.make("sportsim/Imitation-v3").unwrapped
    strong = gym.make("sportsim/Imitation-v3", plantarflexor_strength_scale=1.9).unwrapped
    mass = base.humanoid_mass_kg
    for k, name in enumerate(humanoid.ACTUATOR_NAMES):
        lo, hi = base.model.actuator_forcerange[k], strong.model.actuator_forcerange[k]
        if name.endswith("ankle_y"):  # + is plantarflexion (humanoid_limits' convention)
            assert hi[1] == pytest.approx(1.9 * lo[1]) and hi[0] == pytest.approx(lo[0])
            assert lo[1] == pytest.approx(limits.strength(name).positive_nm_per_kg * mass)
        else:
            np.testing.assert_array_equal(lo, hi)
    ankle = humanoid.ACTUATOR_NAMES.index("right_ankle_y")
    assert strong.model.actuator_gainprm[ankle, 0] > base.model.actuator_gainprm[ankle, 0]  # stiffness follows


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_a_bad_scale_is_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match="plantarflexor_strength_scale"):
        gym.make("sportsim/Imitation-v3", plantarflexor_strength_scale=bad)
