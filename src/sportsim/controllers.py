"""Hand-written baseline controllers (no learning): used by the physics tests and as baselines."""

from __future__ import annotations

import numpy as np


class HalfPipePumpController:
    """Pump by the textbook rule: stand up through the transition, crouch near the top.

    Extending while the board climbs the transition does work against the large centripetal load;
    crouching near the apex, where the load is smallest, costs little, so every cycle adds energy
    [REFERENCES A3, R18]. The crouch starts once the board has climbed ``crouch_at`` of the height its
    energy can carry it to, so that it is over by the apex. On the flat the rider stays crouched,
    ready for the next climb. ``phase=-1`` does the opposite and damps the motion.

    Reads the HalfPipe-v0 observation: board x, z (indices 0, 1), sin(pitch) (2), CoM vx (4),
    stance (6), CoM energy height / coping height (10).
    """

    def __init__(self, coping_height_m: float, phase: int = 1, crouch_at: float = 0.6,
                 flat_sin: float = 0.02) -> None:
        if phase not in (1, -1):
            raise ValueError(f"phase must be +1 or -1, got {phase}")
        self.coping_height_m = coping_height_m
        self.phase = phase
        self.crouch_at = crouch_at
        self.flat_sin = flat_sin

    def reset(self) -> None:
        """Stateless; present for the common controller interface."""

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        on_transition = abs(float(obs[2])) > self.flat_sin
        climbing = float(obs[0]) * float(obs[4]) > 0.0  # moving away from the pipe's centre
        reachable_m = float(obs[10]) * self.coping_height_m - float(obs[6])  # board apex if no pumping
        stand = on_transition and climbing and float(obs[1]) < self.crouch_at * reachable_m
        return np.array([self.phase if stand else -self.phase], dtype=np.float32)
