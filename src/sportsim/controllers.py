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


class HighBarSwingController:
    """Swing by the gymnasts' rule: arch in the downswing, pike and close the shoulders in the upswing.

    Expert gymnasts let gravity and inertia do most of the work and add muscle torque in two phases:
    an extended, arched body while falling towards the bottom of the swing, then a pike at the hips
    with the shoulders closing as the body rises [REFERENCES B6, R25b]. Mechanically this is pumping a
    variable-length pendulum: the body is long (CoM far from the bar) in the downswing and short
    (CoM closer) in the upswing, so the shortening happens at the bottom, under the largest
    centripetal load, and the lengthening near the turning point (or over the top), where the load is
    small - each swing gains energy [REFERENCES A3, R18]. ``phase=-1`` does the opposite (pike in the
    downswing, arch in the upswing) and takes energy out.

    Each joint is driven towards its phase's target angle by a proportional-derivative law on the
    normalised torque: ``a = clip(kp (target - angle) - kd rate, -1, 1)`` (rad, rad/s); the default
    gains keep the light arms' loop stable at the 50 Hz control rate.

    Reads the HighBar-v0 observation: sin/cos of the bar angle (indices 0, 1), its rate (2), shoulder
    and hip angles (3, 4) and rates (5, 6). Downswing = moving towards the bottom (bar angle and its
    rate of opposite sign), upswing = moving away from it. Shape changes jolt the bar angle rate, so the
    phase only switches once the rate's magnitude exceeds ``switch_rate_radps`` (hysteresis).

    The same rule does giant circles (``task="giant"``): the downswing is then the fall from the top
    behind the bar, the upswing the rise in front. With the defaults it completes 3 circles from the
    giant start (about 1.9 s each, peak hand force 4-5.3 body weights); it adds energy every circle,
    so left running the circles speed up and the hand force grows towards the grip limit.
    """

    def __init__(self, phase: int = 1, arch_hip_deg: float = -15.0, pike_hip_deg: float = 60.0,
                 close_shoulder_deg: float = 10.0, kp: float = 3.0, kd: float = 0.1,
                 switch_rate_radps: float = 0.3) -> None:
        if phase not in (1, -1):
            raise ValueError(f"phase must be +1 or -1, got {phase}")
        self.phase = phase
        self.extended = np.radians([0.0, arch_hip_deg])  # (shoulder, hip) targets in the downswing
        self.piked = np.radians([close_shoulder_deg, pike_hip_deg])  # targets in the upswing
        self.kp = kp
        self.kd = kd
        self.switch_rate_radps = switch_rate_radps
        self._upswing = False

    def reset(self) -> None:
        """Forget the swing phase (call at the start of an episode)."""
        self._upswing = False

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        angle, rate = float(np.arctan2(obs[0], obs[1])), float(obs[2])
        if abs(rate) > self.switch_rate_radps:
            self._upswing = angle * rate > 0.0
        target = self.piked if self._upswing == (self.phase > 0) else self.extended
        torque = self.kp * (target - obs[3:5]) - self.kd * obs[5:7]
        return np.clip(torque, -1.0, 1.0).astype(np.float32)
