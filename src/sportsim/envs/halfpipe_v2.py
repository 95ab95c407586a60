"""``sportsim/HalfPipe-v2``: HalfPipe-v1's task with a board that has a wheelbase and a rider whose body turns.

A subclass of :class:`sportsim.envs.halfpipe.HalfPipeEnv` (v1, unchanged for its zoo entries): the same
arguments, action, observation layout, reward and episode rules; the dynamics are
:mod:`sportsim.envs.halfpipe_board` (reduced coordinates, integrated here) instead of MuJoCo's step. MuJoCo
keeps the model file and draws the frames.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sportsim.envs import halfpipe_params as hp
from sportsim.envs.halfpipe import (LEG_DECELERATION_MPS2, MIN_EXTENSION_DECELERATION_MPS2, PUMP_STANCE_RATE_MPS,
                                    SPORT_PANEL, HalfPipeEnv)
from sportsim.envs.halfpipe_board import BoardRider, BoardRiderParams
from sportsim.envs.rewards import halfpipe_v1_reward
from sportsim.errors import ConfigError

# Board geometry (assumptions, with what they rest on). Skateboard: transition decks have 14.5-16 in between
# the inner truck holes (opensourceboards.com "Skateboard Design: Wheelbase", SK8CAD; no standard exists) and
# the axles sit about an inch outside them: 0.42 m axle to axle. Snowboard: the running length (effective
# edge) of a ~1.55 m board, ~1.2 m, takes the wheelbase's place. Board inertia: a uniform plank of the
# drawn length (0.8 m / 1.5 m) and the surface's board mass.
WHEELBASE_M = {"skateboard": 0.42, "snowboard": 1.2}
BOARD_LENGTH_M = {"skateboard": 0.8, "snowboard": 1.5}
# the stance target leads the legs by at most this much: a target far ahead of force-limited legs would let
# them reach the stroke's end at full speed and throw the body off the board (the feet cannot pull)
TARGET_LEAD_M = 0.05


def sport_panel_values_v2(obs: np.ndarray, info: dict[str, Any]) -> dict[str, float]:
    """HalfPipe-v2's sport panel sample: the rider's CoM height and the mechanical energy (board and body
    rotation included) as a height, from ``info``; pumping as in v1 (legs extending)."""
    return {"com_height_m": float(info["com_height_m"]), "energy_height_m": float(info["energy_height_m"]),
            "coping_height_m": float(info["coping_height_m"]), "pumping": float(obs[7] > PUMP_STANCE_RATE_MPS)}


class HalfPipeV2Env(HalfPipeEnv):
    """Half-pipe pumping with a board that has a wheelbase and a rider whose body turns with it.

    Everything not listed here is as in HalfPipe-v1 (:class:`sportsim.envs.halfpipe.HalfPipeEnv`: action,
    the 12 observations and their order, the reward terms and weights, starting state, episode end, the pipe,
    surface, rider and leg arguments).

    ## Dynamics (what v2 changes)
    * **The body turns.** The rider is a body of mass ``rider_mass_kg`` at its CoM with its own pitch inertia
      about the CoM, de Leva's segments standing (11.4 kg m^2 for the reference male) to crouched (7.4),
      ``I(c)`` quadratic in the crouch depth c through the three values of ``body_inertia_kgm2``; it turns
      with the board, so on a transition of radius r it carries 1/2 I (v/r)^2 (v the board's speed).
      ``info["rotation_energy_j"]`` reports it.
    * **The board has a wheelbase** (``wheelbase_m``; 0.42 m skateboard, 1.2 m snowboard). Its pitch is the
      mean surface angle under the wheelbase, so its turning rate builds up over one wheelbase where the
      flat, the transitions and the walls meet, and the body's rotation costs no energy at the junctions
      (a point contact would jolt it and lose 1/2 I (v/r)^2 each time). The board is a plank of the
      surface's mass (3.5 kg / 4.5 kg) at the contact point under its middle, which lies on the exact
      flat/circle/wall profile (as in v1, continued along the wall's line above a vertical lip).
    * **The legs** are a massless force between body and board that makes the stance follow the target
      (the integrated action, as in v1) as a critically damped 20 rad/s system, with the force that needs
      (computed from the equations of motion) clipped to [0, F0 (1 - v / v0)]: the force-velocity limit of v1,
      no pull, no force when the body is above the legs' reach; a stop 5 cm below the deepest crouch. Legs
      that hold still do no work, so holding costs no energy.
    * **Integration**: RK4 in the two coordinates (the board's position along the profile and the stance),
      at most ``physics_dt_s`` per step, cut at every curvature break under the board and to 1/8 wheelbase
      of travel where the pitch rate changes; the stance in closed form while the legs track, 20 ms steps
      where a leg limit starts or stops acting (:mod:`sportsim.envs.halfpipe_board`; why: HalfPipe-v1's 16
      MuJoCo substeps took 93 % of its time, and a larger MuJoCo step broke the 0.5 % energy bound).
    * ``info`` adds ``rotation_energy_j``, ``body_pitch_rate_radps``, ``com_height_m`` and
      ``energy_height_m`` (all the mechanical energy, board and rotation included, over (m_total g));
      observation 10 is that energy height over the coping height.

    ## Model limits
    * The rider's CoM stays on the board's normal through the board's middle (no fore-aft balance, no arms
      swinging), also in the moment before a lost board ends the episode; the board never leaves the
      surface (on the concave profile the legs and gravity always press it on; above a vertical lip it
      follows the wall's line, as in v1). The board's middle is kept on the surface, where a chord through
      two wheels would sit ~L^2/8r (1 cm) inside a transition.
    * The legs know the load (the force they need is computed from the dynamics): a reflex-perfect
      controller inside the force, power and stroke limits.

    ## Arguments
    As HalfPipe-v1, without ``rider_inertia_kgm2`` (the body's own inertia is always in the dynamics), plus:

    | argument | default | meaning |
    |---|---|---|
    | wheelbase_m | None | board wheelbase (m); None: 0.42 skateboard, 1.2 snowboard |
    | physics_dt_s | 0.04 | largest integration step (the control period must be a multiple) |

    ## Version History
    * v2 (issue 16): the body's rotation in the dynamics, a board with a wheelbase and mass, force-tracking
      legs, reduced-coordinate integration (speed). v1 and v0 zoo entries run on their own env versions.
    """

    metadata = {**HalfPipeEnv.metadata, "sport_panel": {**SPORT_PANEL, "values": sport_panel_values_v2}}

    def __init__(self, *, wheelbase_m: float | None = None, physics_dt_s: float = 0.04, **kwargs: Any) -> None:
        if "rider_inertia_kgm2" in kwargs:
            raise ConfigError("rider_inertia_kgm2 is a HalfPipe-v1 argument: v2 always uses the body's own inertia")
        super().__init__(physics_dt_s=physics_dt_s, **kwargs)
        surface = self.surface.name
        self.wheelbase_m = float(WHEELBASE_M[surface] if wheelbase_m is None else wheelbase_m)
        if not 0.05 <= self.wheelbase_m <= min(2.0, self.pipe.transition_radius_m):
            raise ConfigError(f"wheelbase_m={self.wheelbase_m} must lie in [0.05, min(2, transition radius "
                              f"{self.pipe.transition_radius_m})] m")
        lo, hi = self._stroke
        stroke = self.rider.stroke_m
        standing, mid, crouched = self.body_inertia_kgm2
        # I(c) = c0 + c1 c + c2 c^2 through (0, standing), (stroke / 2, mid), (stroke, crouched)
        c2 = 2.0 * (standing - 2.0 * mid + crouched) / stroke**2
        c1 = (crouched - standing) / stroke - c2 * stroke
        board_mass = self.surface.board_mass_kg
        params = BoardRiderParams(
            half_flat_m=self.pipe.flat_width_m / 2, radius_m=self.pipe.transition_radius_m,
            wheelbase_m=self.wheelbase_m, rider_mass_kg=self.rider.mass_kg, board_mass_kg=board_mass,
            board_inertia_kgm2=board_mass * BOARD_LENGTH_M[surface] ** 2 / 12.0,
            inertia_coef=(standing, c1, c2), stand_m=hi, stop_m=float(self.model.jnt_range[self.model.joint("leg").id][0]),
            max_push_n=self.rider.max_push_n, leg_max_velocity_mps=self.leg_max_velocity_mps,
            gravity_mps2=hp.GRAVITY_MPS2, drag_coef=self._drag_coef, along_pipe_speed2=self.along_pipe_speed_mps**2)
        self.dynamics = BoardRider(params, physics_dt_s, self.control_dt_s)
        self.dynamics.mu = self.rolling_resistance
        self._time = 0.0
        self._kin: dict[str, float] = {}

    # -- gymnasium API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super(HalfPipeEnv, self).reset(seed=seed)
        rng, dyn = self.np_random, self.dynamics
        lo, hi = self._stroke
        half_flat = self.pipe.flat_width_m / 2
        dyn.s = float(rng.uniform(-half_flat / 2, half_flat / 2))
        dyn.l = dyn.act = lo + 0.5 * (hi - lo)
        dyn.dl = 0.0
        rise = rng.uniform(*self.start_energy_frac) * self.pipe.height_m
        dyn.ds = math.sqrt(2.0 * hp.GRAVITY_MPS2 * rise) * (1.0 if rng.random() < 0.5 else -1.0)
        dyn.accel(dyn.s, dyn.ds, dyn.l, dyn.dl, dyn.act, 0.0)
        self._time = 0.0
        self._kin = dyn.kinematics()
        self._energy_height = self._kin["energy_j"] / self.body_weight_n
        self._reached = False
        self._max_height = self._kin["board_z"]
        self._power = self._peak_power = 0.0
        return self._obs(), self._info(reward_terms=None, fall=None)

    def step(self, action):
        dyn = self.dynamics
        a = float(action[0])
        a = min(1.0, max(-1.0, a)) if math.isfinite(a) else 0.0
        dyn.act = min(max(dyn.act, dyn.l - TARGET_LEAD_M), dyn.l + TARGET_LEAD_M)
        lo, hi = self._stroke
        work = dyn.advance(self._leg_speed(a), lo, hi)
        self._time += self.control_dt_s
        self._power = work / (self.control_dt_s * self.rider.mass_kg)
        self._peak_power = max(self._peak_power, self._power)
        self._kin = kin = dyn.kinematics()
        energy_height = kin["energy_j"] / self.body_weight_n
        if not math.isfinite(energy_height + dyn.l + dyn.dl + dyn.leg_force_n + dyn.stop_n):
            return self._physics_error()
        board_z = kin["board_z"]
        self._max_height = max(self._max_height, board_z)
        reached_now = not self._reached and board_z >= self.coping_height_m
        self._reached = self._reached or reached_now
        fall = self._fall()
        reward, terms = halfpipe_v1_reward(self._energy_height, energy_height, self.coping_height_m, self._power,
                                           reached_now, fall is not None, self.weights)
        self._energy_height = energy_height
        terminated = fall is not None or (self._reached and self.terminate_on_success)
        truncated = self._time >= self.episode_time_s - 1e-9
        return self._obs(), reward, terminated, truncated, self._info(terms, fall)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        # pose v1's model (guide, spoke pitch, stance, legs) so its board point and rider CoM are v2's
        d, dyn, kin = self.data, self.dynamics, self._kin
        R, th = self.pipe.transition_radius_m, kin["pitch"]
        d.qpos[self._q["guide_x"]] = kin["board_x"] - R * math.sin(th)
        d.qpos[self._q["guide_z"]] = kin["board_z"] + R * math.cos(th) - R
        d.qpos[self._q["pitch"]] = -th
        d.qpos[self._q["stance"]] = dyn.l
        d.qpos[self._q["leg"]] = min(dyn.l, self._stroke[1])
        d.act[0] = dyn.act
        d.time = self._time
        return self._renderer.render(d)

    # -- helpers ---------------------------------------------------------------------------------
    def _leg_speed(self, a: float) -> float:
        """v1's rule on v2's state: ``a`` x the speed limit, slowed so the target can stop at either end of the
        stroke (an extension no harder than the load pressing the body onto the board allows)."""
        lo, hi = self._stroke
        act = self.dynamics.act
        room = (hi - act) if a > 0 else (act - lo)
        decel = LEG_DECELERATION_MPS2
        if a > 0:
            load = (self.dynamics.leg_force_n + self.dynamics.stop_n) / self.total_mass_kg
            decel = min(decel, max(MIN_EXTENSION_DECELERATION_MPS2, load))
        stoppable = math.sqrt(2.0 * decel * max(room, 0.0))
        return math.copysign(min(abs(a) * self.rider.max_speed_mps, stoppable), a)

    def _fall(self, load: float = 0.0) -> str | None:
        dyn = self.dynamics
        if dyn.l - self._stroke[1] > self.lose_board_gap_m:
            return "lost_board"
        if dyn.leg_force_n >= 0.99 * self.rider.max_push_n and dyn.stop_n > self.bail_load_bw * self.body_weight_n:
            return "legs_collapsed"
        return None

    def _obs(self) -> np.ndarray:
        dyn, kin = self.dynamics, self._kin
        lo, hi = self._stroke
        pitch = -kin["pitch"]  # v1's sign: the spoke's angle about +y
        return np.array([
            kin["board_x"], kin["board_z"], math.sin(pitch), math.cos(pitch), kin["com_vx"], kin["com_vz"],
            dyn.l, dyn.dl, (dyn.act - lo) / (hi - lo), (dyn.leg_force_n + dyn.stop_n) / self.body_weight_n,
            self._energy_height / self.coping_height_m, max(0.0, 1.0 - self._time / self.episode_time_s),
        ], dtype=np.float32)

    def _info(self, reward_terms: dict[str, float] | None, fall: str | None) -> dict[str, Any]:
        kin = self._kin
        info: dict[str, Any] = {
            "is_success": self._reached,
            "fall": fall,
            "board_height_m": kin["board_z"],
            "max_board_height_m": self._max_height,
            "coping_height_m": self.coping_height_m,
            "time_s": self._time,
            "leg_power_w_per_kg": self._power,
            "peak_leg_power_w_per_kg": self._peak_power,
            "rotation_energy_j": kin["rotation_energy_j"],
            "body_pitch_rate_radps": kin["omega"],
            "com_height_m": kin["com_z"],
            "energy_height_m": self._energy_height,
        }
        for name in ("progress", "effort", "success", "fall"):
            info[f"reward_{name}"] = 0.0 if reward_terms is None else reward_terms[name]
        return info
