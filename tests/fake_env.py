"""A tiny continuous-control env for testing sportsim's training machinery without MuJoCo.

Importing this module registers ``sportsim_test/Fake-v0``; env configs refer to it as
``fake_env:sportsim_test/Fake-v0`` so that ``gymnasium.make`` imports it in any process (training
subprocesses included) that has ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

ENV_ID = "sportsim_test/Fake-v0"
FRAME_HEIGHT_PX, FRAME_WIDTH_PX = 48, 64


class FakeSportEnv(gym.Env):
    """A point that should track a target: obs = (position x2, target x1), action = velocity x2.

    Follows the sportsim env contract: every reward term is in ``info`` as ``reward_<name>`` and they
    sum to the reward; ``info["is_success"]`` is set on every step; ``rgb_array`` frames are
    ``FRAME_HEIGHT_PX x FRAME_WIDTH_PX x 3`` uint8.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(self, render_mode: str | None = None, episode_steps: int = 20) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.render_mode = render_mode
        self.episode_steps = episode_steps
        self._position = np.zeros(2)
        self._target = 0.0
        self._t = 0

    def _obs(self) -> np.ndarray:
        return np.array([*self._position, self._target], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._position = self.np_random.uniform(-1.0, 1.0, size=2)
        self._target = float(self.np_random.uniform(-1.0, 1.0))
        self._t = 0
        return self._obs(), {}

    def step(self, action: np.ndarray):
        self._position = self._position + 0.1 * np.clip(action, -1.0, 1.0)
        self._t += 1
        reward_a = -float(abs(self._position[0] - self._target))
        reward_b = -0.01 * float(np.sum(np.square(action)))
        info = {"reward_a": reward_a, "reward_b": reward_b, "is_success": bool(-reward_a < 0.1)}
        return self._obs(), reward_a + reward_b, False, self._t >= self.episode_steps, info

    def render(self) -> np.ndarray:
        frame = np.zeros((FRAME_HEIGHT_PX, FRAME_WIDTH_PX, 3), dtype=np.uint8)
        column = int(np.clip((self._position[0] + 2.0) / 4.0, 0.0, 1.0) * (FRAME_WIDTH_PX - 1))
        frame[:, column] = 255
        return frame


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point=FakeSportEnv)
