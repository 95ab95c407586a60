"""``sportsim/HighBar-v1``: a gymnast with an elite gymnast's strength on an elastic high bar (MuJoCo).

Model file: ``envs/highbar.xml`` (its header explains the bar springs and the joint conventions).
Parameters and their sources: :mod:`sportsim.envs.highbar_params`; strength: :mod:`sportsim.strength`.
``HighBar-v0`` (constant torque limits, stiff stops, no grip moment) lives on, frozen, in
:mod:`sportsim.envs.highbar_v0` for its zoo entries.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from sportsim import strength
from sportsim.envs import highbar_params as hp
from sportsim.envs.highbar_v0 import SPORT_PANEL, _add_visuals, _place_camera
from sportsim.envs.rendering import MirrorRenderer
from sportsim.envs.rewards import HighBarV1RewardWeights, highbar_v1_giant_reward, highbar_v1_handstand_reward
from sportsim.errors import ConfigError
from sportsim.paths import model_path

TASKS = ("handstand", "handstand_hold", "giant")
EPISODE_TIME_S = {"handstand": 20.0, "handstand_hold": 20.0, "giant": 8.0}
TWO_PI = 2.0 * math.pi
_SENSORS_OFF = int(mujoco.mjtDisableBit.mjDSBL_SENSOR)
HANG_START_ANGLE_RAD = math.radians(2.0)
HANG_START_RATE_RADPS = 0.05
GIANT_START_LEAN_RAD = (math.radians(2.0), math.radians(6.0))
HANDSTAND_START_LEAN_RAD = math.radians(5.0)
HANDSTAND_START_RATE_RADPS = 0.3
STREAK_BREAK_RAD = math.pi / 2
ARRIVAL_SLOW_SCALE_RADPS = 2.0  # arrival reward: hold term falls linearly to 0 at this bar angle rate
_SENSOR_ORDER = ("com_pos", "com_vel", "bar_x", "bar_z", "bar_vx", "bar_vz", "hand", "shoulder", "hip",
                 "shoulder_rate", "hip_rate", "hand_force")
_CIRCLE_KEYS = ("circle_period_s", "peak_hand_force_bw", "top_shoulder_deg", "top_hip_deg",
                "peak_hip_power_w", "peak_shoulder_power_w", "circle_straight")


class GymnastStrength:
    """Shoulder and hip torque limits and passive torques of both sides, in the model's angles.

    Model angles: shoulder ``q_s`` = 180 deg - anatomical flexion (+ closes = extension torque), hip
    ``q_h`` = anatomical flexion (+ pike = flexion torque). Velocities are the model joint rates."""

    def __init__(self, scale: float) -> None:
        self.k = 2.0 * scale  # two arms, two legs
        self.sh_ext, self.sh_flex = strength.curve("shoulder", "extension"), strength.curve("shoulder", "flexion")
        self.hip_ext, self.hip_flex = strength.curve("hip", "extension"), strength.curve("hip", "flexion")
        self.hip_shift = math.radians(hp.HIP_EXTENSOR_PASSIVE_SHIFT_DEG)
        self.reference_nm = (self.k * max(self.sh_ext.max_isometric_torque_nm, self.sh_flex.max_isometric_torque_nm),
                             self.k * max(self.hip_ext.max_isometric_torque_nm, self.hip_flex.max_isometric_torque_nm))

    def shoulder(self, q: float, qd: float) -> tuple[float, float, float]:
        """(opening limit >= 0, closing limit >= 0, passive torque signed) in N m."""
        th = math.pi - q
        return (self.k * self.sh_flex.peak_torque_nm(th, -qd), self.k * self.sh_ext.peak_torque_nm(th, qd),
                self.k * (self.sh_ext.passive_torque_nm(th) - self.sh_flex.passive_torque_nm(th)))

    def hip(self, q: float, qd: float) -> tuple[float, float, float]:
        """(arch limit >= 0, pike limit >= 0, passive torque signed) in N m."""
        return (self.k * self.hip_ext.peak_torque_nm(q, -qd), self.k * self.hip_flex.peak_torque_nm(q, qd),
                self.k * (self.hip_flex.passive_torque_nm(q) - self.hip_ext.passive_torque_nm(q - self.hip_shift)))


class HighBarEnv(gym.Env):
    """A gymnast on an elastic high bar: giant circles, or a swing up to a handstand.

    ## Description
    The bar, body and hands of HighBar-v0 (a light bar body on damped linear springs [REFERENCES B2, R24];
    three planar rigid segments - arms, trunk, legs - with de Leva (1996) parameters [R27]; hands turning
    around the bar with Coulomb friction), with three changes (issue 16):

    * **Strength**: shoulder and hip torques are limited by an elite male gymnast's torque-angle-velocity
      curves (Jackson 2010 via Millard et al. 2019, :mod:`sportsim.strength`; both sides, scaled by body
      mass / 69.6 kg): the hip flexors give 330 N m isometric at 40 deg of pike and nothing at 9.2 rad/s.
    * **Passive ranges**: the same data set's passive torque-angle curves replace the stiff joint stops;
      their torque is counted in the effort and reported (``info["passive_torque_nm"]``).
    * **Grip moment**: the hands apply a moment about the bar, up to +-0.41 N m per kg of body mass (+-30 N m
      at 73 kg: two wrists of the same gymnast [E1]), the third action, on top of the friction. Gymnasts
      balance handstands mainly with the wrists (Kerwin & Trewartha 2001, MSSE 33:1182).

    Tasks (``task``):

    * ``"giant"`` (as the sport defines it): starting from a handstand, backward giant circles. A circle
      counts when the centre of mass (CoM) passes over the top (the bar -> CoM line crossing vertical
      above the bar) with shoulder and hip within ``straight_tolerance_deg`` (20) of straight; success
      after ``success_circles`` (3) counted circles in a row. Fixed episode length (8 s), not ended on
      success: the reward pays technique per step, not speed.
    * ``"handstand"``: from a still hang, a controlled *arrival* in handstand - the CoM within
      ``handstand_tolerance_deg`` (15) of vertical above the bar, shoulder and hip within 20 deg of
      straight, bar angle rate below ``arrival_rate_radps`` (1 rad/s). Ends on success.
    * ``"handstand_hold"``: the same handstand (no rate bound) held for ``success_hold_s`` (2 s); the
      episode goes on after success.

    ## Action Space
    ``Box(-1, 1, (3,), float32)``: shoulder, hip and grip activation. +1 is the joint's maximal closing
    torque at its current angle and rate (shoulder extension, hip pike), -1 its maximal opening torque
    (shoulder flexion, hip extension = arch); grip +-1 = +-``grip_moment_nm`` about the bar (+ turns the
    body in the positive, circling direction). Out-of-range values are clipped, NaN is 0. The passive
    torques add to the joint torques whatever the action.

    ## Observation Space
    ``Box(-inf, inf, (14,), float32)``, as HighBar-v0 (the bar angle is the bar -> CoM line from hanging
    straight down, counter-clockwise positive; state read one physics step before the control step's end):

    | idx | observation | unit |
    |-----|-------------|------|
    | 0, 1 | sin, cos of the bar angle | - |
    | 2 | bar angle rate | rad/s |
    | 3, 4 | shoulder, hip angle (0 straight, + closed / pike) | rad |
    | 5, 6 | shoulder, hip angle rate | rad/s |
    | 7, 8 | bar deflection x, z (from the unloaded bar) | m |
    | 9, 10 | bar velocity x, z | m/s |
    | 11 | hand force | body weights |
    | 12 | fraction of the episode time left | - |
    | 13 | task progress: giant circles / ``success_circles``; hold time / ``success_hold_s``; arrival: 1 in the handstand | - |

    ## Rewards
    ``reward`` = the sum of the task's terms, each in ``info["reward_<term>"]`` (weights: constructor
    arguments; 0 switches a term off). ``effort`` = mean over shoulder, hip and grip of ((|active| +
    |passive| torque) / reference)^2, references: each joint's larger isometric peak (both sides), the
    grip moment limit.

    * handstand tasks: ``upright = w (1 - cos angle)/2`` per step; ``hold = w_hold`` per step in the
      handstand, times ``1 - min(1, |rate| / 2 rad/s)`` for the arrival; ``effort = -w_effort effort``;
      ``success`` (when the arrival ends the episode, plus ``(w_upright + w_hold)`` x the steps left, so
      that arriving is never worth less than circling on near the top); ``fall = -w_fall`` on release
      or physics error.
    * giant: ``progress = w (angle change)/2pi`` (potential-based); ``giant = w_giant`` per step while the
      streak is alive (every top since its start passed straight, the last less than
      ``max_circle_period_s`` ago); ``top = w_top s`` at each top passage, s = 1 - (larger of |shoulder|,
      |hip|) / tolerance (>= 0); ``force = -w_force max(0, F - force_free_bw)^2`` (F hand force, BW);
      ``effort``; ``success`` (at ``success_circles``); ``fall``.

    ## Starting State
    handstand tasks: still hang, bar angle uniform +-2 deg, rate +-0.05 rad/s (with
    ``handstand_start_fraction`` f, a fraction f of training episodes starts in a handstand leaning up
    to 5 deg at up to 0.3 rad/s instead). giant: still straight handstand leaning 2-6 deg past vertical.
    ``reset(options={"start_angle_deg": a})``: straight body at rest at bar angle a.

    ## Episode End
    Terminated on success when ``terminate_on_success`` (default: handstand arrival yes, otherwise no);
    on release (``info["fall"] == "released"``: hand force above ``grip_limit_bw``); on a physics error
    (``info["fall"] == "physics_error"``, ``info["physics_error"]`` True): a non-finite state, a hand or
    bar spring force above 20 body weights. Truncated after ``episode_time_s``.

    ``info``: ``is_success``, ``time_s``, ``bar_angle_rad`` (unwrapped), ``hand_force_bw``,
    ``max_hand_force_bw``, ``joint_torque_nm`` / ``passive_torque_nm`` / ``joint_power_w`` ((shoulder,
    hip), active torque x rate), ``grip_moment_nm``; handstand tasks ``hold_time_s``, ``max_hold_s``,
    ``in_handstand``; giant ``circles`` and, one entry per full turn from top to top: ``circle_period_s``,
    ``peak_hand_force_bw``, ``top_shoulder_deg``, ``top_hip_deg`` (at the top passage),
    ``peak_hip_power_w``, ``peak_shoulder_power_w``, ``circle_straight``; after the first turn also their
    episode summaries ``circle_period_mean_s``, ``circle_peak_force_mean_bw``, ``top_angle_max_deg`` (the
    largest |shoulder| or |hip| at a top), ``peak_hip_power_max_w``, ``peak_shoulder_power_max_w``
    (``metadata["tb_metrics"]``: logged and evaluated per episode).

    ## Model limits
    Those of HighBar-v0 (planar, three segments, knees straight, bar parameters derived or assumed), and:
    the strength curves are one gymnast's, measured per joint with the others still (no two-joint muscle
    coupling), scaled by mass; the hip extensors' passive curve is shifted to v0's 125 deg pike limit
    (``highbar_params``); torque limits are read at the start of each physics step (10 ms).

    ## Simulation
    MuJoCo RK4, 10 ms step, two per 20 ms control step; the torque limits and passive torques are set in
    Python before each physics step. Bar stiffness is checked against the step: sqrt(k / m_bar) dt <= 1.5.

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | task | "giant" | "giant", "handstand" (arrival) or "handstand_hold" |
    | gymnast_mass_kg, gymnast_height_m, gymnast_sex | 73.0, 1.741, "male" | de Leva reference subject |
    | strength_scale | None | multiplies the gymnast curves; None = body mass / 69.6 kg |
    | grip_moment_nm | None | grip moment limit, N m; None = 0.41 N m/kg x mass |
    | bar_stiffness_x_npm, bar_stiffness_z_npm, bar_damping_ratio, bar_mass_kg | 4.4e4, 4.4e4, 0.05, None | as v0 |
    | grip_friction, grip_limit_bw | 0.3, 8.0 | as v0 |
    | control_hz, physics_dt_s | 50, 0.01 | policy rate, RK4 step |
    | episode_time_s | None | None = the task's: giant 8 s, handstand tasks 20 s |
    | handstand_tolerance_deg, straight_tolerance_deg | 15, 20 | handstand / top passage bounds |
    | arrival_rate_radps | 1.0 | handstand arrival: max bar angle rate |
    | success_hold_s, success_circles | 2.0, 3 | |
    | max_circle_period_s | 2.5 | giant: the streak's per-step reward stops this long after a top |
    | terminate_on_success | None | None = the task's default |
    | handstand_start_fraction | 0.0 | training aid (handstand tasks) |
    | upright_weight, hold_weight, progress_weight, giant_weight, top_weight | 0.1, 0.1, 0.2, 0.05, 0.5 | |
    | force_weight, force_free_bw, effort_weight, success_reward, fall_penalty | 0.05, 4.5, 0.05, 10, 10 | |
    | render_mode, render_width, render_height | None, 640, 360 | "rgb_array" renders the side camera |

    ## Version History
    * v1 (issue 16): gymnast strength curves and passive ranges, grip moment (3 actions), the sport's giant
      definition with technique rewards and a fixed episode, handstand arrival / hold tasks, physics errors.
      v0 zoo entries run on the frozen v0 env.
    * v0: first version.
    """

    # per-episode figures for TensorBoard, enjoy and the zoo cards (giant: over the completed turns)
    metadata = {"render_modes": ["rgb_array"], "render_fps": 50, "sport_panel": SPORT_PANEL,
                "tb_metrics": {"circle_period_mean_s": "last", "circle_peak_force_mean_bw": "last",
                               "top_angle_max_deg": "last", "peak_hip_power_max_w": "last",
                               "peak_shoulder_power_max_w": "last", "max_hold_s": "last"}}

    def __init__(
        self,
        task: str = "giant",
        gymnast_mass_kg: float = 73.0,
        gymnast_height_m: float = 1.741,
        gymnast_sex: str = "male",
        strength_scale: float | None = None,
        grip_moment_nm: float | None = None,
        bar_stiffness_x_npm: float = hp.BAR_STIFFNESS_NPM,
        bar_stiffness_z_npm: float = hp.BAR_STIFFNESS_NPM,
        bar_damping_ratio: float = hp.BAR_DAMPING_RATIO,
        bar_mass_kg: float | None = None,
        grip_friction: float = hp.GRIP_FRICTION_COEF,
        grip_limit_bw: float = hp.GRIP_LIMIT_BW,
        control_hz: float = 50.0,
        physics_dt_s: float = 0.01,
        episode_time_s: float | None = None,
        handstand_tolerance_deg: float = 15.0,
        straight_tolerance_deg: float = 20.0,
        arrival_rate_radps: float = 1.0,
        success_hold_s: float = 2.0,
        success_circles: int = 3,
        max_circle_period_s: float = 2.5,
        terminate_on_success: bool | None = None,
        handstand_start_fraction: float = 0.0,
        upright_weight: float = 0.1,
        hold_weight: float = 0.1,
        progress_weight: float = 0.2,
        giant_weight: float = 0.05,
        top_weight: float = 0.5,
        force_weight: float = 0.05,
        force_free_bw: float = 4.5,
        effort_weight: float = 0.05,
        success_reward: float = 10.0,
        fall_penalty: float = 10.0,
        render_mode: str | None = None,
        render_width: int = 640,
        render_height: int = 360,
    ) -> None:
        if task not in TASKS:
            raise ConfigError(f"unknown task {task!r} (choose from: {', '.join(TASKS)})")
        if gymnast_sex not in ("male", "female"):
            raise ConfigError(f"gymnast_sex must be 'male' or 'female', got {gymnast_sex!r}")
        self.task = task
        self.gymnast = hp.make_gymnast(gymnast_mass_kg, gymnast_height_m, gymnast_sex)  # type: ignore[arg-type]
        self.bar = hp.make_bar(bar_stiffness_x_npm, bar_stiffness_z_npm, bar_damping_ratio, bar_mass_kg)
        self.joints = hp.make_joints()
        scale = self.gymnast.mass_kg / strength.SUBJECT_MASS_KG if strength_scale is None else strength_scale
        if not 0.1 <= scale <= 3.0:
            raise ConfigError(f"strength_scale={strength_scale} must be in [0.1, 3] (1 = Jackson's gymnast)")
        grip = hp.GRIP_MOMENT_NM_PER_KG * self.gymnast.mass_kg if grip_moment_nm is None else grip_moment_nm
        if not 0.0 <= grip <= 200.0:
            raise ConfigError(f"grip_moment_nm={grip_moment_nm} must be in [0, 200] N m (decision: 0.41 N m/kg)")
        if not 0.0 <= grip_friction <= 2.0:
            raise ConfigError(f"grip_friction={grip_friction} must be in [0, 2] (0 = frictionless hands)")
        if not 1.0 < grip_limit_bw <= hp.PHYSICS_ERROR_FORCE_BW:
            raise ConfigError(f"grip_limit_bw={grip_limit_bw} must be in (1, {hp.PHYSICS_ERROR_FORCE_BW:g}] body weights")
        episode_time_s = EPISODE_TIME_S[task] if episode_time_s is None else episode_time_s
        if not (control_hz > 0 and physics_dt_s > 0 and episode_time_s > 0):
            raise ConfigError(f"control_hz={control_hz}, physics_dt_s={physics_dt_s} and episode_time_s="
                              f"{episode_time_s} must all be > 0")
        for name, k in (("bar_stiffness_x_npm", self.bar.stiffness_x_npm), ("bar_stiffness_z_npm", self.bar.stiffness_z_npm)):
            dt_max = hp.max_stable_dt_s(k, self.bar.effective_mass_kg)
            if physics_dt_s > dt_max * (1 + 1e-9):
                raise ConfigError(f"{name}={k:g} with physics_dt_s={physics_dt_s}: the bar's own mode (sqrt(k/m) = "
                                  f"{math.sqrt(k / self.bar.effective_mass_kg):.0f} rad/s) needs physics_dt_s <= "
                                  f"{dt_max:.4f} s")
        n_sub = round(1.0 / (control_hz * physics_dt_s))
        if not n_sub or abs(n_sub * physics_dt_s * control_hz - 1.0) > 1e-6:
            raise ConfigError(f"control period 1/{control_hz} s is not a multiple of physics_dt_s={physics_dt_s}")
        for name, v, hi in (("handstand_tolerance_deg", handstand_tolerance_deg, 90.0),
                            ("straight_tolerance_deg", straight_tolerance_deg, 180.0)):
            if not 0.0 < v <= hi:
                raise ConfigError(f"{name}={v} must be in (0, {hi:g}]")
        if not (arrival_rate_radps > 0 and success_hold_s > 0 and max_circle_period_s > 0):
            raise ConfigError(f"arrival_rate_radps={arrival_rate_radps}, success_hold_s={success_hold_s} and "
                              f"max_circle_period_s={max_circle_period_s} must all be > 0")
        if isinstance(success_circles, bool) or not isinstance(success_circles, int) or success_circles < 1:
            raise ConfigError(f"success_circles={success_circles!r} must be an integer >= 1")
        if not 0.0 <= handstand_start_fraction <= 1.0:
            raise ConfigError(f"handstand_start_fraction={handstand_start_fraction} must be in [0, 1]")
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.strength = GymnastStrength(scale)
        self.grip_moment_nm = float(grip)
        self.grip_friction = float(grip_friction)
        self.grip_limit_bw = float(grip_limit_bw)
        self.n_substeps = n_sub
        self.control_dt_s = 1.0 / control_hz
        self.episode_time_s = float(episode_time_s)
        self.handstand_tolerance_rad = math.radians(handstand_tolerance_deg)
        self.straight_tolerance_rad = math.radians(straight_tolerance_deg)
        self.arrival_rate_radps = float(arrival_rate_radps)
        self.success_hold_s = float(success_hold_s)
        self.success_circles = success_circles
        self.max_circle_period_s = float(max_circle_period_s)
        self.terminate_on_success = task == "handstand" if terminate_on_success is None else bool(terminate_on_success)
        self.handstand_start_fraction = float(handstand_start_fraction)
        self.weights = HighBarV1RewardWeights(upright_weight, hold_weight, progress_weight, giant_weight, top_weight,
                                              force_weight, force_free_bw, effort_weight, success_reward, fall_penalty)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": control_hz}

        self.model = build_model(self.gymnast, self.bar, physics_dt_s, self.grip_moment_nm)
        self.data = mujoco.MjData(self.model)
        self._index_model()
        self.body_weight_n = self.gymnast.mass_kg * hp.GRAVITY_MPS2
        self.action_space = spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(14,), dtype=np.float32)
        self._renderer = MirrorRenderer(
            lambda: build_model(self.gymnast, self.bar, physics_dt_s, self.grip_moment_nm, visuals=True),
            render_height, render_width)
        self._reset_episode_state(0.0, 0.0)

    def _index_model(self) -> None:
        m = self.model
        names = ("bar_x", "bar_z", "hand", "shoulder", "hip")
        self._q = {n: int(m.joint(n).qposadr[0]) for n in names}
        self._v = {n: int(m.joint(n).dofadr[0]) for n in names}
        adr = [int(m.sensor(name).adr[0]) for name in _SENSOR_ORDER]
        dims = [int(m.sensor(name).dim[0]) for name in _SENSOR_ORDER]
        if adr != [sum(dims[:i]) for i in range(len(dims))]:
            raise RuntimeError(f"highbar.xml sensors are not in the order {_SENSOR_ORDER}")
        self._opt = m.opt
        self._friction = m.dof_frictionloss
        self._hand_dof = self._v["hand"]
        self._bar_z0 = float(m.body("bar").pos[2])
        self._friction_per_n = self.grip_friction * self.bar.radius_m
        self._act = {n: int(m.actuator(n).id) for n in ("shoulder", "hip", "grip")}

    def _reset_episode_state(self, angle: float, force_bw: float) -> None:
        self._angle = angle
        self._wrapped = math.remainder(angle, TWO_PI)
        self._omega = 0.0
        self._force_bw = force_bw
        self._max_force_bw = force_bw
        self._hold_s = 0.0
        self._max_hold_s = 0.0
        self._succeeded = False
        self._torque = (0.0, 0.0)
        self._passive = (0.0, 0.0)
        self._power = (0.0, 0.0)
        self._grip = 0.0
        # giant bookkeeping: next top, streak maximum, counted circles, per-turn statistics
        self._next_top = math.pi + TWO_PI * math.ceil((angle - math.pi) / TWO_PI)
        self._streak_max = angle
        self._streak_started = False
        self._circles = 0
        self._last_top_s: float | None = None
        self._turn_peak = [force_bw, 0.0, 0.0]  # hand force (BW), hip power, shoulder power (W)
        self._turns: dict[str, list] = {k: [] for k in _CIRCLE_KEYS}

    # -- gymnasium API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        rng = self.np_random
        start_deg = (options or {}).get("start_angle_deg")
        if start_deg is not None:
            if not (isinstance(start_deg, (int, float)) and math.isfinite(start_deg)):
                raise ConfigError(f"reset option start_angle_deg must be a finite number, got {start_deg!r}")
            d.qpos[self._q["hand"]] = math.radians(start_deg)
        elif self.task != "giant" and self.handstand_start_fraction > 0.0 \
                and rng.uniform() < self.handstand_start_fraction:
            d.qpos[self._q["hand"]] = math.pi + rng.uniform(-HANDSTAND_START_LEAN_RAD, HANDSTAND_START_LEAN_RAD)
            d.qvel[self._v["hand"]] = rng.uniform(-HANDSTAND_START_RATE_RADPS, HANDSTAND_START_RATE_RADPS)
        elif self.task != "giant":
            d.qpos[self._q["hand"]] = rng.uniform(-HANG_START_ANGLE_RAD, HANG_START_ANGLE_RAD)
            d.qvel[self._v["hand"]] = rng.uniform(-HANG_START_RATE_RADPS, HANG_START_RATE_RADPS)
        else:
            d.qpos[self._q["hand"]] = math.pi + rng.uniform(*GIANT_START_LEAN_RAD)
        d.qpos[self._q["bar_z"]] = -self.body_weight_n / self.bar.stiffness_z_npm
        self._friction[self._hand_dof] = self._friction_per_n * self.body_weight_n
        mujoco.mj_forward(m, d)
        sd = d.sensordata.tolist()
        angle, omega, force_bw = self._read_state(sd)
        on_top = math.pi - abs(angle) < math.pi / 2
        if on_top and angle < 0.0:
            angle += TWO_PI
        self._reset_episode_state(angle, force_bw)
        self._omega = omega
        if on_top and angle >= math.pi and self._straight(sd):  # a straight start past the top opens a streak
            self._streak_started = True
            self._last_top_s = 0.0
        return self._obs(sd), self._info(None, None)

    def _apply_torques(self, a_s: float, a_h: float) -> tuple[float, float, float]:
        """Set the joint motors from the activations and this instant's strength; returns the effort of
        this physics step and records torques and powers."""
        d, q, v = self.data, self._q, self._v
        qs, qsd = float(d.qpos[q["shoulder"]]), float(d.qvel[v["shoulder"]])
        qh, qhd = float(d.qpos[q["hip"]]), float(d.qvel[v["hip"]])
        open_s, close_s, pas_s = self.strength.shoulder(qs, qsd)
        arch_h, pike_h, pas_h = self.strength.hip(qh, qhd)
        tau_s = a_s * (close_s if a_s > 0.0 else open_s)
        tau_h = a_h * (pike_h if a_h > 0.0 else arch_h)
        ctrl = d.ctrl
        ctrl[self._act["shoulder"]] = tau_s + pas_s
        ctrl[self._act["hip"]] = tau_h + pas_h
        self._torque, self._passive = (tau_s, tau_h), (pas_s, pas_h)
        self._power = (tau_s * qsd, tau_h * qhd)
        ref_s, ref_h = self.strength.reference_nm
        return (((abs(tau_s) + abs(pas_s)) / ref_s) ** 2, ((abs(tau_h) + abs(pas_h)) / ref_h) ** 2)

    def step(self, action):
        m, d = self.model, self.data
        acts = [float(x) for x in np.asarray(action, dtype=np.float64).reshape(-1)[:3]]
        a_s, a_h, a_g = (min(1.0, max(-1.0, x)) if math.isfinite(x) else 0.0 for x in acts)
        self._grip = a_g * self.grip_moment_nm
        d.ctrl[self._act["grip"]] = self._grip
        opt, effort_s, effort_h = self._opt, 0.0, 0.0
        peak_power = [0.0, 0.0]
        for i in range(self.n_substeps):  # torque limits follow the state at each physics step
            es, eh = self._apply_torques(a_s, a_h)
            effort_s, effort_h = effort_s + es, effort_h + eh
            peak_power = [max(peak_power[0], self._power[1]), max(peak_power[1], self._power[0])]
            last = i == self.n_substeps - 1
            if not last:
                opt.disableflags |= _SENSORS_OFF
            mujoco.mj_step(m, d)
            if not last:
                opt.disableflags &= ~_SENSORS_OFF
        effort = (effort_s + effort_h) / (3.0 * self.n_substeps) + a_g * a_g / 3.0

        sd = d.sensordata.tolist()
        wrapped, omega, force_bw = self._read_state(sd)
        bar_force_bw = max(abs(sd[6]) * self.bar.stiffness_x_npm, abs(sd[7]) * self.bar.stiffness_z_npm) / self.body_weight_n
        if not math.isfinite(wrapped + omega + force_bw + sum(sd[6:15])) \
                or max(force_bw, bar_force_bw) > hp.PHYSICS_ERROR_FORCE_BW:
            return self._physics_error(sd)
        self._friction[self._hand_dof] = self._friction_per_n * force_bw * self.body_weight_n
        advance = math.remainder(wrapped - self._wrapped, TWO_PI)
        self._wrapped = wrapped
        self._angle += advance
        self._omega = omega
        self._force_bw = force_bw
        self._max_force_bw = max(self._max_force_bw, force_bw)
        released = force_bw > self.grip_limit_bw
        succeeded_now = False
        if self.task == "giant":
            self._turn_peak = [max(self._turn_peak[0], force_bw), max(self._turn_peak[1], peak_power[0]),
                               max(self._turn_peak[2], peak_power[1])]
            straightness = self._count_circles(sd)
            if not self._succeeded and self._circles >= self.success_circles:
                self._succeeded = succeeded_now = True
            circling = self._streak_started and self._last_top_s is not None \
                and d.time - self._last_top_s <= self.max_circle_period_s
            reward, terms = highbar_v1_giant_reward(advance, circling, straightness, force_bw, effort,
                                                    succeeded_now, released, self.weights)
        else:
            in_handstand = self._in_handstand(wrapped, sd)
            self._hold_s = self._hold_s + self.control_dt_s if in_handstand else 0.0
            self._max_hold_s = max(self._max_hold_s, self._hold_s)
            if self.task == "handstand":
                done = in_handstand and abs(omega) < self.arrival_rate_radps
                hold = (1.0 - min(1.0, abs(omega) / ARRIVAL_SLOW_SCALE_RADPS)) if in_handstand else 0.0
            else:
                done = self._hold_s >= self.success_hold_s - 1e-9
                hold = 1.0 if in_handstand else 0.0
            if not self._succeeded and done:
                self._succeeded = succeeded_now = True
            reward, terms = highbar_v1_handstand_reward(wrapped, hold, effort, succeeded_now, released, self.weights)
            if succeeded_now and self.terminate_on_success:
                # the episode ends at the arrival: pay the upright and hold reward of the steps it cuts off,
                # so that arriving is never worth less than circling on near the top
                steps_left = max(0.0, (self.episode_time_s - d.time) / self.control_dt_s)
                bonus = (self.weights.upright + self.weights.hold) * steps_left
                terms["success"] += bonus
                reward += bonus
        terminated = released or (self._succeeded and self.terminate_on_success)
        truncated = d.time >= self.episode_time_s - 1e-9
        return self._obs(sd), reward, terminated, truncated, self._info(terms, "released" if released else None)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return self._renderer.render(self.data)

    def close(self) -> None:
        self._renderer.close()

    # -- read-outs -------------------------------------------------------------------------------
    def hand_force_n(self) -> tuple[float, float]:
        """World (x, z) components of the bar's force on the hands at the last sensor reading (N)."""
        sd = self.data.sensordata
        fx, fz, phi = float(sd[15]), float(sd[17]), float(sd[10])
        c, s = math.cos(phi), math.sin(phi)
        return c * fx - s * fz, s * fx + c * fz

    def _read_state(self, sd: list[float]) -> tuple[float, float, float]:
        dx = sd[0] - sd[6]
        dz = sd[2] - (self._bar_z0 + sd[7])
        vx = sd[3] - sd[8]
        vz = sd[5] - sd[9]
        omega = (dx * vz - dz * vx) / (dx * dx + dz * dz)
        force = math.sqrt(sd[15] * sd[15] + sd[16] * sd[16] + sd[17] * sd[17]) / self.body_weight_n
        return math.atan2(dx, -dz), omega, force

    def _straight(self, sd: list[float]) -> bool:
        tol = self.straight_tolerance_rad
        return abs(sd[11]) <= tol and abs(sd[12]) <= tol

    def _in_handstand(self, wrapped: float, sd: list[float]) -> bool:
        return math.pi - abs(wrapped) <= self.handstand_tolerance_rad and self._straight(sd)

    def _count_circles(self, sd: list[float]) -> float:
        """Update the giant bookkeeping; at a top passage return its straightness in [0, 1] (else 0)."""
        angle = self._angle
        if angle > self._streak_max:
            self._streak_max = angle
        elif angle < self._streak_max - STREAK_BREAK_RAD:  # the swing turned back: the streak ends
            self._circles, self._streak_started, self._last_top_s = 0, False, None
            self._streak_max = angle
            self._next_top = math.pi + TWO_PI * math.ceil((angle - math.pi) / TWO_PI)
            return 0.0
        if angle < self._next_top:
            return 0.0
        self._next_top += TWO_PI
        now = float(self.data.time)
        straight = self._straight(sd)
        if self._last_top_s is not None:  # a full turn from top to top: record it
            t = self._turns
            t["circle_period_s"].append(now - self._last_top_s)
            t["peak_hand_force_bw"].append(self._turn_peak[0])
            t["top_shoulder_deg"].append(math.degrees(sd[11]))
            t["top_hip_deg"].append(math.degrees(sd[12]))
            t["peak_hip_power_w"].append(self._turn_peak[1])
            t["peak_shoulder_power_w"].append(self._turn_peak[2])
            t["circle_straight"].append(straight)
        self._turn_peak = [self._force_bw, 0.0, 0.0]
        self._last_top_s = now
        if not straight:  # a piked or arched top: no giant; the streak ends
            self._circles, self._streak_started = 0, False
            return 0.0
        if self._streak_started:
            self._circles += 1
        self._streak_started = True
        deviation = max(abs(sd[11]), abs(sd[12])) / self.straight_tolerance_rad
        return max(0.0, 1.0 - deviation)

    def _obs(self, sd: list[float]) -> np.ndarray:
        if self.task == "giant":
            progress = min(1.0, self._circles / self.success_circles)
        elif self.task == "handstand_hold":
            progress = min(1.0, self._hold_s / self.success_hold_s)
        else:
            progress = 1.0 if self._hold_s > 0.0 else 0.0
        return np.array([
            math.sin(self._wrapped), math.cos(self._wrapped), self._omega,
            sd[11], sd[12], sd[13], sd[14], sd[6], sd[7], sd[8], sd[9],
            self._force_bw, max(0.0, 1.0 - self.data.time / self.episode_time_s), progress,
        ], dtype=np.float32)

    def _info(self, reward_terms: dict[str, float] | None, fall: str | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "is_success": self._succeeded, "fall": fall, "time_s": float(self.data.time),
            "bar_angle_rad": self._angle, "hand_force_bw": self._force_bw, "max_hand_force_bw": self._max_force_bw,
            "joint_torque_nm": self._torque, "passive_torque_nm": self._passive, "joint_power_w": self._power,
            "grip_moment_nm": self._grip,
        }
        if self.task == "giant":
            info["circles"] = self._circles
            for key in _CIRCLE_KEYS:
                info[key] = list(self._turns[key])
            t = self._turns
            if t["circle_period_s"]:  # summaries over the episode's completed turns (absent before the first)
                info["circle_period_mean_s"] = float(np.mean(t["circle_period_s"]))
                info["circle_peak_force_mean_bw"] = float(np.mean(t["peak_hand_force_bw"]))
                info["top_angle_max_deg"] = max(max(abs(a), abs(b)) for a, b in zip(t["top_shoulder_deg"], t["top_hip_deg"]))
                info["peak_hip_power_max_w"] = max(t["peak_hip_power_w"])
                info["peak_shoulder_power_max_w"] = max(t["peak_shoulder_power_w"])
            names: tuple[str, ...] = ("progress", "giant", "top", "force", "effort", "success", "fall")
        else:
            info["hold_time_s"] = self._hold_s
            info["max_hold_s"] = self._max_hold_s
            info["in_handstand"] = self._hold_s > 0.0
            names = ("upright", "hold", "effort", "success", "fall")
        for name in names:
            info[f"reward_{name}"] = 0.0 if reward_terms is None else reward_terms[name]
        return info

    def _physics_error(self, sd: list[float]):
        obs = np.nan_to_num(self._obs(sd), nan=0.0, posinf=0.0, neginf=0.0)
        info = self._info(None, "physics_error")
        info["physics_error"] = True
        return obs, 0.0, True, False, info


def build_model(gymnast: hp.Gymnast, bar: hp.Bar, physics_dt_s: float, grip_moment_nm: float,
                visuals: bool = False) -> mujoco.MjModel:
    """Size ``envs/highbar.xml`` to the configuration (see :func:`build_spec`)."""
    return build_spec(gymnast, bar, physics_dt_s, grip_moment_nm, visuals).compile()


def build_spec(gymnast: hp.Gymnast, bar: hp.Bar, physics_dt_s: float, grip_moment_nm: float,
               visuals: bool = False) -> mujoco.MjSpec:
    """The v1 model: v0's bar and segments; shoulder and hip without stops (passive curves instead),
    motors without a control range (the env computes the limits), and a grip motor on the hand hinge."""
    spec = mujoco.MjSpec.from_file(str(model_path("highbar.xml")))
    spec.option.timestep = physics_dt_s
    spec.body("bar").pos = [0.0, 0.0, bar.centre_height_m]
    spec.body("bar").mass = bar.effective_mass_kg
    for name, k in (("bar_x", bar.stiffness_x_npm), ("bar_z", bar.stiffness_z_npm)):
        joint = spec.joint(name)
        joint.stiffness[0] = k
        joint.damping[0] = bar.damping_nspm(k, gymnast.mass_kg)
    spec.joint("bar_z").springref = bar.effective_mass_kg * hp.GRAVITY_MPS2 / bar.stiffness_z_npm
    for seg, start in ((gymnast.arms, 0.0), (gymnast.trunk, gymnast.arms.length_m), (gymnast.legs, gymnast.trunk.length_m)):
        body = spec.body(seg.name)
        body.pos = [0.0, 0.0, -start]
        body.mass = seg.mass_kg
        body.ipos = [0.0, 0.0, -seg.com_m]
        body.inertia = [seg.inertia_kgm2] * 3
    for name in ("shoulder", "hip"):
        spec.joint(name).limited = mujoco.mjtLimited.mjLIMITED_FALSE
        spec.actuator(name).ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
    grip = spec.add_actuator()
    grip.name, grip.target, grip.trntype = "grip", "hand", mujoco.mjtTrn.mjTRN_JOINT
    if grip_moment_nm > 0.0:  # (a zero range is invalid in MuJoCo; the env then always sends 0)
        grip.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        grip.ctrlrange = [-grip_moment_nm, grip_moment_nm]
    for name in ("bar_x", "bar_z", "hand"):
        spec.joint(name).solref_friction = [2.0 * physics_dt_s, 1.0]
    if visuals:
        _add_visuals(spec, gymnast, bar)
    _place_camera(spec, gymnast, bar)
    return spec
