"""Environment registry. One env = one module here + its model file under ``envs/``."""

from __future__ import annotations

import gymnasium as gym

# env id -> (entry point, default max episode steps)
ENV_SPECS = {
    "sportsim/HalfPipe-v0": ("sportsim.envs.halfpipe:HalfPipeEnv", None),
    "sportsim/HighBar-v0": ("sportsim.envs.highbar:HighBarEnv", None),
    "sportsim/Imitation-v0": ("sportsim.envs.imitation:ImitationEnv", None),
}


def register_envs() -> None:
    """Register every sportsim env with Gymnasium (idempotent)."""
    for env_id, (entry_point, max_steps) in ENV_SPECS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=max_steps)
