"""``sportsim/HighBar-v0``: a gymnast swinging on an elastic high bar (MuJoCo) - the first version, frozen.

Kept unchanged so that the v0 zoo entries (``zoo/highbar/*`` trained before issue 16) still load and
evaluate as they were trained; new work goes into :mod:`sportsim.envs.highbar` (``HighBar-v1``: gymnast
strength curves, a grip moment, the sport's giant and handstand definitions). One file per version, as
Gymnasium keeps ``hopper_v4.py`` next to ``hopper_v5.py``.

Model file: ``envs/highbar.xml`` (its header explains the bar springs and the joint conventions).
Parameters and their sources: :mod:`sportsim.envs.highbar_params`.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from sportsim.envs import highbar_params as hp
from sportsim.envs.rewards import HighBarRewardWeights, highbar_giant_reward, highbar_handstand_reward
from sportsim.envs.rendering import MirrorRenderer
from sportsim.errors import ConfigError
from sportsim.paths import model_path

TASKS = ("handstand", "giant")
TWO_PI = 2.0 * math.pi
_SENSORS_OFF = int(mujoco.mjtDisableBit.mjDSBL_SENSOR)
# Start perturbations (see "Starting State"): hang angle and rate, handstand lean past vertical.
HANG_START_ANGLE_RAD = math.radians(2.0)
HANG_START_RATE_RADPS = 0.05
GIANT_START_LEAN_RAD = (math.radians(2.0), math.radians(6.0))
# Training-only handstand starts (``handstand_start_fraction``): lean from vertical, bar angle rate.
HANDSTAND_START_LEAN_RAD = math.radians(5.0)
HANDSTAND_START_RATE_RADPS = 0.3
# A giant-circle streak ends when the bar angle falls back this far below its maximum (the swing reversed).
STREAK_BREAK_RAD = math.pi / 2
_SENSOR_ORDER = ("com_pos", "com_vel", "bar_x", "bar_z", "bar_vx", "bar_vz", "hand", "shoulder", "hip",
                 "shoulder_rate", "hip_rate", "hand_force")


def sport_panel_values(obs: np.ndarray, info: dict[str, Any]) -> dict[str, float]:
    """One sample of the sport panel from an observation and its info: bar angle (unwrapped), shoulder
    and hip angles in degrees, hand force in body weights."""
    return {"bar_angle_deg": math.degrees(info["bar_angle_rad"]), "shoulder_deg": math.degrees(float(obs[3])),
            "hip_deg": math.degrees(float(obs[4])), "hand_force_bw": float(info["hand_force_bw"])}


# The curves ``python -m sportsim.record`` draws under the video (format: sportsim.video.sport_panel_spec).
SPORT_PANEL = {
    "values": sport_panel_values,
    "rows": ({"ylabel": "bar angle (deg)", "curves": (("bar_angle_deg", "bar angle (180 + k 360 = above the bar)"),),
              "ygrid": (360.0, 180.0)},
             {"ylabel": "joints (deg)",
              "curves": (("shoulder_deg", "shoulder (+ closed)"), ("hip_deg", "hip (+ pike)"))},
             {"ylabel": "force (BW)", "curves": (("hand_force_bw", "hand force"),)}),
}


class HighBarEnv(gym.Env):
    """A gymnast on an elastic high bar: swing up to a handstand, or do giant circles.

    ## Description
    A horizontal bar at competition height (top 2.80 m above the floor, 28 mm diameter [R19, R20]) that
    deflects under load: a light body on damped linear springs, horizontally and vertically, as in the
    Loughborough gymnast models [REFERENCES B2, R24]. The gymnast is three rigid planar segments - arms
    (with hands), trunk (with head), legs - with de Leva (1996) masses, centres of mass and inertias
    scaled to the gymnast's height and mass [R27]. The hands turn around the bar with Coulomb friction;
    shoulder and hip are driven by torque-limited muscles and stopped by joint limits. As in real
    swings, the hand hinge carries no torque except friction: the gymnast changes the swing only by
    moving the body's shape - arch in the downswing, pike and close the shoulders in the upswing
    [R25b] - so this is an underactuated (acrobot-like) three-link pendulum on a springy pivot.

    Two tasks (``task``):

    * ``"handstand"``: from a still hang, swing up to a handstand above the bar and hold it, at least
      ``success_hold_s`` (success) and then as long as possible, with as little effort as possible.
      Handstand = the bar -> centre-of-mass (CoM) line within ``handstand_tolerance_deg`` of vertical
      above the bar, with shoulders and hips within ``handstand_joint_tolerance_deg`` of straight.
    * ``"giant"``: starting from a handstand, do consecutive backward giant circles (full turns around
      the bar, CoM passing over the top) with as little effort as possible; success after
      ``success_circles`` circles in a row.

    ## Action Space
    ``Box(-1, 1, (2,), float32)``: shoulder and hip torque, normalised. +1 is the closing limit
    (shoulder closing / hip pike, default +300 N m), -1 the opening limit (arch, default -200 N m) [R25];
    values in between scale linearly on each side of 0. Out-of-range values are clipped, NaN is 0.

    ## Observation Space
    ``Box(-inf, inf, (14,), float32)``. The bar angle is the angle of the bar -> whole-body CoM line from
    hanging straight down, counter-clockwise positive on the side camera (pi = CoM above the bar); a
    backward giant turns it in the positive direction. The state is read at the start of the control
    step's last physics step, ``physics_dt_s`` (10 ms) before its end, as if the sensors had that
    latency (it saves a forward pass); reward, success, release and ``info`` use the same reading.

    | idx | observation | unit |
    |-----|-------------|------|
    | 0 | sin of the bar angle | - |
    | 1 | cos of the bar angle | - |
    | 2 | bar angle rate | rad/s |
    | 3 | shoulder angle (0 = arms in line with the trunk, + = closed in front) | rad |
    | 4 | hip angle (0 = straight, + = pike, - = arch) | rad |
    | 5 | shoulder angle rate | rad/s |
    | 6 | hip angle rate | rad/s |
    | 7 | bar deflection x (from the unloaded bar) | m |
    | 8 | bar deflection z (- = down) | m |
    | 9 | bar velocity x | m/s |
    | 10 | bar velocity z | m/s |
    | 11 | hand force (bar on hands, magnitude) | body weights |
    | 12 | fraction of the episode time left | - |
    | 13 | task progress: handstand - hold time / ``success_hold_s``; giant - circles / ``success_circles`` (both capped at 1) | - |

    ## Rewards
    ``reward`` = the sum of the task's terms, each also in ``info["reward_<term>"]`` (weights:
    constructor arguments; 0 switches a term off). ``effort`` = mean of the squared normalised torques.

    * handstand: ``upright = w_upright (1 - cos angle)/2`` per step (0 hanging, w above the bar);
      ``hold = w_hold`` per step in the handstand; ``effort = -w_effort effort``; ``success =
      +w_success`` once when the hold time reaches ``success_hold_s``; ``fall = -w_fall`` on release.
    * giant: ``progress = w_progress (angle change)/2pi`` (potential-based: sums to the net turns);
      ``circle = +w_circle`` once per completed circle; ``effort``, ``success`` (at ``success_circles``
      circles) and ``fall`` as above.

    ## Starting State
    * handstand: still hang - body straight, bar angle uniform in +-2 deg, rate uniform in +-0.05 rad/s.
    * giant: still handstand on top of the bar, body straight, leaning 2-6 deg (uniform) past vertical
      in the circling direction, at rest. A handstand is where real giants start (after a cast to
      handstand), it makes every circle begin and end at the same state, and it leaves the task well
      posed: a rigid body released there loses energy to hand friction and bar damping and would come
      back short of the top, so each circle needs well-timed shape changes, but no more than that.

    * handstand with ``handstand_start_fraction`` f > 0 (a training aid, DeepMimic's reference state
      initialisation [R30]): a fraction f of the episodes starts instead in a straight handstand, leaning
      up to 5 deg either way at up to 0.3 rad/s, so that training sees the balance long before the
      swing-up first reaches it. Evaluation, ``record`` and the zoo cards use f = 0 (training configs
      put it under ``env.train_kwargs``, which only the training copies receive).

    In both, the bar starts statically deflected by the gymnast's weight.
    ``reset(options={"start_angle_deg": a})`` starts instead with the straight body at rest at bar
    angle ``a`` (degrees; e.g. a 20 deg swing, or 185 for a handstand just past the top).

    ## Episode End
    Terminated on success when ``terminate_on_success`` (default: giant yes; handstand no - the hold
    goes on, and ending the episode there would make circling over the top, which keeps earning
    ``upright``, pay more than holding); on release (``info["fall"] == "released"``):
    the hand force exceeded ``grip_limit_bw`` body weights; or if the physics produced a non-finite
    state (``info["fall"] == "physics_error"``, ``info["physics_error"]``; seen in tests only when forced).
    Truncated after ``episode_time_s``.

    ``info`` also holds ``is_success``, ``time_s``, ``bar_angle_rad`` (unwrapped), ``hand_force_bw``
    and ``max_hand_force_bw`` (episode), and per task: handstand - ``hold_time_s`` (current
    continuous hold), ``max_hold_s`` (longest hold of the episode) and ``in_handstand``; giant - ``circles`` (completed circles of the current
    streak, counted on the unwrapped bar angle: circle k is complete when the CoM passes over the top
    for the k-th time after the streak's first top; a streak ends when the bar angle falls back by more
    than 90 deg below its maximum) and ``peak_hand_force_bw`` (list: the highest hand force of each
    circle completed in the episode, in body weights).

    ## Model limits
    * Planar, symmetric: both arms and both legs move together; no twists, no regrasps.
    * Three segments: the knees stay straight, the head is fixed to the trunk, the shoulder girdle
      (which lengthens the arms in a real hang) is not modelled; segment parameters are de Leva's
      population averages, not a gymnast's.
    * Joint torques are net torques with constant limits; real limits depend on angle and speed
      (gymnast-specific torque-angle-velocity functions: NOT FOUND, REFERENCES B6).
    * Bar stiffness, damping, effective mass, grip friction and grip strength are derived or assumed
      (see ``highbar_params``); the Loughborough models fit them per gymnast [R24].
    * No grip or wrist moment: the hands carry only friction (about 3 N m in a handstand), so a handstand
      is balanced by body shape alone; a regulator on the linearised model recovers from about 1 deg of
      lean at rest (``scripts/highbar_handstand_balance.py``), and no trained policy has yet held the
      2 s handstand (zoo card of ``highbar/handstand/ppo``): the learned "holds" are slow passes over
      the top (``scripts/highbar_handstand_holds.py``). Real handstand balance relies mostly on wrist
      torque (Kerwin D.G., Trewartha G. (2001) "Strategies for maintaining a handstand in the
      anterior-posterior direction", Med. Sci. Sports Exerc. 33(7):1182-1188); the torque a grip can
      apply about a 28 mm bar: NOT FOUND.
    * Joints have no passive stiffness or damping: with zero torque the body is floppy (relaxed), and
      the joint ranges end in stiff stops (time constant two physics steps) - slamming into them loads
      the bar impulsively and can break the grip.

    ## Simulation
    MuJoCo, 4th-order Runge-Kutta with a 10 ms step, two steps per 20 ms control step. The modes of
    the model at the still hang are the swing (0.44 Hz), two body-shape modes (0.9, 1.7 Hz), the
    loaded bar's vertical bounce (3.8 Hz) and its horizontal mode (12.2 Hz, the bar mass against the
    swinging arms). RK4 resolves the fastest one with about 1 % numerical amplitude loss per cycle
    (a damping ratio of 0.2 %, next to the bar's assumed 5 %) and, with friction and bar damping off,
    keeps the mechanical energy within 0.2 % of the swing energy over 20 s (tests/
    test_highbar_physics.py); semi-implicit Euler at 4-5 ms, at a similar cost per control step, lets
    it swing by about 1 %. Constraints (hand friction, joint stops) use MuJoCo's PGS solver; sensors
    are evaluated once per control step (see Observation Space).

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | task | "handstand" | "handstand" or "giant" |
    | gymnast_mass_kg, gymnast_height_m, gymnast_sex | 73.0, 1.741, "male" | de Leva reference subject |
    | bar_stiffness_x_npm, bar_stiffness_z_npm | 4.4e4, 4.4e4 | bar spring stiffness, N/m (derived 2.2e4-8.8e4) |
    | bar_damping_ratio | 0.05 | fraction of critical damping of the loaded bar (assumption) |
    | bar_mass_kg | None | effective moving bar mass; None = 5.6 kg (derived) |
    | grip_friction | 0.3 | Coulomb coefficient of the hands on the bar (0 = frictionless) |
    | grip_limit_bw | 8.0 | hand force that breaks the grip, body weights |
    | shoulder_torque_nm, hip_torque_nm | (-200, 300) | (opening, closing) torque limits, N m |
    | control_hz | 50 | policy rate |
    | physics_dt_s | 0.01 | MuJoCo (RK4) time step, <= 0.01 s (the control period must be a multiple) |
    | episode_time_s | 20.0 | time limit |
    | handstand_tolerance_deg | 15.0 | handstand: max angle of the bar -> CoM line from vertical |
    | handstand_joint_tolerance_deg | 30.0 | handstand: max shoulder and hip angle magnitude |
    | success_hold_s | 2.0 | handstand: hold time for success |
    | success_circles | 3 | giant: consecutive circles for success |
    | terminate_on_success | None | end the episode at success; None = the task's default (giant True, handstand False) |
    | handstand_start_fraction | 0.0 | handstand: fraction of episodes starting in a handstand (training aid) |
    | upright_weight, hold_weight | 0.1, 0.1 | handstand reward weights (per step) |
    | progress_weight, circle_reward | 1.0, 1.0 | giant reward weights |
    | effort_weight, success_reward, fall_penalty | 0.01, 10, 10 | reward weights |
    | render_mode, render_width, render_height | None, 640, 360 | "rgb_array" renders the side camera |

    ``metadata["sport_panel"]`` describes the curves that ``python -m sportsim.record <run> panel=true``
    draws under the video: bar angle, shoulder and hip angles (degrees) and hand force (body weights)
    over time.

    ## Version History
    * v0: first version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50, "sport_panel": SPORT_PANEL}

    def __init__(
        self,
        task: str = "handstand",
        gymnast_mass_kg: float = 73.0,
        gymnast_height_m: float = 1.741,
        gymnast_sex: str = "male",
        bar_stiffness_x_npm: float = hp.BAR_STIFFNESS_NPM,
        bar_stiffness_z_npm: float = hp.BAR_STIFFNESS_NPM,
        bar_damping_ratio: float = hp.BAR_DAMPING_RATIO,
        bar_mass_kg: float | None = None,
        grip_friction: float = hp.GRIP_FRICTION_COEF,
        grip_limit_bw: float = hp.GRIP_LIMIT_BW,
        shoulder_torque_nm: tuple[float, float] = hp.JOINT_TORQUE_LIMITS_NM,
        hip_torque_nm: tuple[float, float] = hp.JOINT_TORQUE_LIMITS_NM,
        control_hz: float = 50.0,
        physics_dt_s: float = 0.01,
        episode_time_s: float = 20.0,
        handstand_tolerance_deg: float = 15.0,
        handstand_joint_tolerance_deg: float = 30.0,
        success_hold_s: float = 2.0,
        success_circles: int = 3,
        terminate_on_success: bool | None = None,
        handstand_start_fraction: float = 0.0,
        upright_weight: float = 0.1,
        hold_weight: float = 0.1,
        progress_weight: float = 1.0,
        circle_reward: float = 1.0,
        effort_weight: float = 0.01,
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
        self.joints = hp.make_joints(shoulder_torque_nm, hip_torque_nm)
        if not 0.0 <= grip_friction <= 2.0:
            raise ConfigError(f"grip_friction={grip_friction} must be in [0, 2] (0 = frictionless hands)")
        if not 1.0 < grip_limit_bw <= 100.0:
            raise ConfigError(f"grip_limit_bw={grip_limit_bw} must be in (1, 100] body weights")
        if not (control_hz > 0 and physics_dt_s > 0 and episode_time_s > 0):
            raise ConfigError(f"control_hz={control_hz}, physics_dt_s={physics_dt_s} and episode_time_s="
                              f"{episode_time_s} must all be > 0")
        if physics_dt_s > 0.01:
            raise ConfigError(f"physics_dt_s={physics_dt_s} must be <= 0.01 s (the bar springs need a short step)")
        n_sub = round(1.0 / (control_hz * physics_dt_s))
        if not n_sub or abs(n_sub * physics_dt_s * control_hz - 1.0) > 1e-6:
            raise ConfigError(f"control period 1/{control_hz} s is not a multiple of physics_dt_s={physics_dt_s}")
        if not 0.0 < handstand_tolerance_deg <= 90.0:
            raise ConfigError(f"handstand_tolerance_deg={handstand_tolerance_deg} must be in (0, 90]")
        if not 0.0 < handstand_joint_tolerance_deg <= 360.0:
            raise ConfigError(f"handstand_joint_tolerance_deg={handstand_joint_tolerance_deg} must be in (0, 360]")
        if not success_hold_s > 0:
            raise ConfigError(f"success_hold_s={success_hold_s} must be > 0")
        if isinstance(success_circles, bool) or not isinstance(success_circles, int) or success_circles < 1:
            raise ConfigError(f"success_circles={success_circles!r} must be an integer >= 1")
        if not 0.0 <= handstand_start_fraction <= 1.0:
            raise ConfigError(f"handstand_start_fraction={handstand_start_fraction} must be in [0, 1]")
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.grip_friction = float(grip_friction)
        self.grip_limit_bw = float(grip_limit_bw)
        self.n_substeps = n_sub
        self.control_dt_s = 1.0 / control_hz
        self.episode_time_s = float(episode_time_s)
        self.handstand_tolerance_rad = math.radians(handstand_tolerance_deg)
        self.handstand_joint_tolerance_rad = math.radians(handstand_joint_tolerance_deg)
        self.success_hold_s = float(success_hold_s)
        self.success_circles = success_circles
        self.terminate_on_success = task == "giant" if terminate_on_success is None else bool(terminate_on_success)
        self.handstand_start_fraction = float(handstand_start_fraction)
        self.weights = HighBarRewardWeights(upright_weight, hold_weight, progress_weight, circle_reward,
                                            effort_weight, success_reward, fall_penalty)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": control_hz}

        self.model = build_model(self.gymnast, self.bar, self.joints, physics_dt_s)
        self.data = mujoco.MjData(self.model)
        self._index_model()
        self.total_mass_kg = self.gymnast.mass_kg
        self.body_weight_n = self.total_mass_kg * hp.GRAVITY_MPS2

        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(14,), dtype=np.float32)
        self._renderer = MirrorRenderer(
            lambda: build_model(self.gymnast, self.bar, self.joints, physics_dt_s, visuals=True),
            render_height, render_width)
        self._reset_episode_state(0.0, 0.0)

    # -- model bookkeeping -----------------------------------------------------------------------
    def _index_model(self) -> None:
        m = self.model
        self._q = {n: int(m.joint(n).qposadr[0]) for n in ("bar_x", "bar_z", "hand", "shoulder", "hip")}
        self._v = {n: int(m.joint(n).dofadr[0]) for n in ("bar_x", "bar_z", "hand", "shoulder", "hip")}
        adr = [int(m.sensor(name).adr[0]) for name in _SENSOR_ORDER]
        dims = [int(m.sensor(name).dim[0]) for name in _SENSOR_ORDER]
        # step() unpacks the sensor block in this order; the model file keeps it contiguous
        if adr != [sum(dims[:i]) for i in range(len(dims))]:
            raise RuntimeError(f"highbar.xml sensors are not in the order {_SENSOR_ORDER}")
        self._opt = m.opt
        self._friction = m.dof_frictionloss
        self._hand_dof = self._v["hand"]
        self._bar_z0 = float(m.body("bar").pos[2])
        self._torque_lo = (self.joints.shoulder_torque_nm[0], self.joints.hip_torque_nm[0])
        self._torque_hi = (self.joints.shoulder_torque_nm[1], self.joints.hip_torque_nm[1])
        self._friction_per_n = self.grip_friction * self.bar.radius_m

    def _reset_episode_state(self, angle: float, force_bw: float) -> None:
        self._angle = angle  # unwrapped bar angle
        self._wrapped = math.remainder(angle, TWO_PI)
        self._omega = 0.0
        self._force_bw = force_bw
        self._max_force_bw = force_bw
        self._hold_s = 0.0
        self._max_hold_s = 0.0
        self._succeeded = False
        # giant circle bookkeeping: the streak's next top, its maximum angle, circles, per-circle peaks
        self._next_top = math.pi + TWO_PI * math.ceil((angle - math.pi) / TWO_PI)
        self._streak_max = angle
        self._streak_started = False
        self._circles = 0
        self._circle_peak_bw = force_bw
        self._circle_peaks: list[float] = []

    # -- gymnasium API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        rng = self.np_random
        start_deg = (options or {}).get("start_angle_deg")
        if start_deg is not None:  # a straight body at rest at the given bar angle
            if not (isinstance(start_deg, (int, float)) and math.isfinite(start_deg)):
                raise ConfigError(f"reset option start_angle_deg must be a finite number, got {start_deg!r}")
            d.qpos[self._q["hand"]] = math.radians(start_deg)
        elif self.task == "handstand" and self.handstand_start_fraction > 0.0 \
                and rng.uniform() < self.handstand_start_fraction:  # training aid: start in the handstand
            d.qpos[self._q["hand"]] = math.pi + rng.uniform(-HANDSTAND_START_LEAN_RAD, HANDSTAND_START_LEAN_RAD)
            d.qvel[self._v["hand"]] = rng.uniform(-HANDSTAND_START_RATE_RADPS, HANDSTAND_START_RATE_RADPS)
        elif self.task == "handstand":
            d.qpos[self._q["hand"]] = rng.uniform(-HANG_START_ANGLE_RAD, HANG_START_ANGLE_RAD)
            d.qvel[self._v["hand"]] = rng.uniform(-HANG_START_RATE_RADPS, HANG_START_RATE_RADPS)
        else:
            d.qpos[self._q["hand"]] = math.pi + rng.uniform(*GIANT_START_LEAN_RAD)
        # the bar statically deflected by the gymnast's weight (hanging or standing on it)
        d.qpos[self._q["bar_z"]] = -self.body_weight_n / self.bar.stiffness_z_npm
        self._friction[self._hand_dof] = self._friction_per_n * self.body_weight_n
        mujoco.mj_forward(m, d)
        angle, omega, force_bw = self._read_state(d.sensordata.tolist())
        on_top = math.pi - abs(angle) < math.pi / 2
        if on_top and angle < 0.0:
            angle += TWO_PI  # keep a start above the bar near +pi: circles run towards 3 pi
        self._reset_episode_state(angle, force_bw)
        self._omega = omega
        # a start above the bar is its streak's first top: the first circle ends at the next top
        self._streak_started = on_top and angle >= math.pi
        return self._obs(d.sensordata.tolist()), self._info(None, None)

    def step(self, action):
        m, d = self.model, self.data
        a_s, a_h = float(action[0]), float(action[1])
        a_s = min(1.0, max(-1.0, a_s)) if math.isfinite(a_s) else 0.0
        a_h = min(1.0, max(-1.0, a_h)) if math.isfinite(a_h) else 0.0
        ctrl = d.ctrl
        ctrl[0] = a_s * (self._torque_hi[0] if a_s > 0.0 else -self._torque_lo[0])
        ctrl[1] = a_h * (self._torque_hi[1] if a_h > 0.0 else -self._torque_lo[1])
        # Sensors (the CoM velocity and the hand force cost extra passes) are evaluated only in the last
        # physics step, which computes them at its start: one physics step (10 ms) before the end of
        # the control step. A forward pass at the end instead would cost 15 % of the step.
        opt = self._opt
        if self.n_substeps > 1:
            opt.disableflags |= _SENSORS_OFF
            mujoco.mj_step(m, d, nstep=self.n_substeps - 1)
            opt.disableflags &= ~_SENSORS_OFF
        mujoco.mj_step(m, d)

        sd = d.sensordata.tolist()
        wrapped, omega, force_bw = self._read_state(sd)
        if not math.isfinite(wrapped + omega + force_bw + sd[6] + sd[7]):
            return self._physics_error(sd)
        # Coulomb friction of the hands around the bar: mu * r * |hand force|, from this step's force
        self._friction[self._hand_dof] = self._friction_per_n * force_bw * self.body_weight_n
        advance = math.remainder(wrapped - self._wrapped, TWO_PI)
        self._wrapped = wrapped
        self._angle += advance
        self._omega = omega
        self._force_bw = force_bw
        if force_bw > self._max_force_bw:
            self._max_force_bw = force_bw
        released = force_bw > self.grip_limit_bw
        fall = "released" if released else None
        effort = 0.5 * (a_s * a_s + a_h * a_h)
        succeeded_now = False
        if self.task == "handstand":
            in_handstand = self._in_handstand(wrapped, sd)
            self._hold_s = self._hold_s + self.control_dt_s if in_handstand else 0.0
            self._max_hold_s = max(self._max_hold_s, self._hold_s)
            if not self._succeeded and self._hold_s >= self.success_hold_s - 1e-9:
                self._succeeded = succeeded_now = True
            reward, terms = highbar_handstand_reward(wrapped, in_handstand, effort, succeeded_now, released,
                                                     self.weights)
        else:
            circle_done = self._count_circles(force_bw)
            if not self._succeeded and self._circles >= self.success_circles:
                self._succeeded = succeeded_now = True
            reward, terms = highbar_giant_reward(advance, circle_done, effort, succeeded_now, released, self.weights)
        terminated = released or (self._succeeded and self.terminate_on_success)
        truncated = d.time >= self.episode_time_s - 1e-9
        return self._obs(sd), reward, terminated, truncated, self._info(terms, fall)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return self._renderer.render(self.data)

    def close(self) -> None:
        self._renderer.close()

    # -- physical read-outs ----------------------------------------------------------------------
    def hand_force_n(self) -> tuple[float, float]:
        """World (x, z) components of the force the bar exerts on the hands at the last sensor reading (N).
        From MuJoCo's ``force`` sensor (the bar-arms interaction force of its recursive Newton-Euler
        pass), which reads in the arms' frame; here turned into the world frame."""
        sd = self.data.sensordata
        fx, fz, phi = float(sd[15]), float(sd[17]), float(sd[10])
        c, s = math.cos(phi), math.sin(phi)  # arms frame -> world: turn by the hand angle about -y
        return c * fx - s * fz, s * fx + c * fz

    def _read_state(self, sd: list[float]) -> tuple[float, float, float]:
        """Bar angle (wrapped to (-pi, pi]), its rate and the hand force (body weights) from the sensors."""
        dx = sd[0] - sd[6]
        dz = sd[2] - (self._bar_z0 + sd[7])
        vx = sd[3] - sd[8]
        vz = sd[5] - sd[9]
        omega = (dx * vz - dz * vx) / (dx * dx + dz * dz)
        force = math.sqrt(sd[15] * sd[15] + sd[16] * sd[16] + sd[17] * sd[17]) / self.body_weight_n
        return math.atan2(dx, -dz), omega, force

    def _in_handstand(self, wrapped: float, sd: list[float]) -> bool:
        tol = self.handstand_joint_tolerance_rad
        return (math.pi - abs(wrapped) <= self.handstand_tolerance_rad
                and abs(sd[11]) <= tol and abs(sd[12]) <= tol)

    def _count_circles(self, force_bw: float) -> bool:
        """Update the giant-circle streak; True when this step completed a circle."""
        angle = self._angle
        self._circle_peak_bw = max(self._circle_peak_bw, force_bw)
        if angle > self._streak_max:
            self._streak_max = angle
        elif angle < self._streak_max - STREAK_BREAK_RAD:
            # the swing turned back short of the top: the streak ends; a new one starts at the next top passed
            self._circles = 0
            self._streak_started = False
            self._streak_max = angle
            self._next_top = math.pi + TWO_PI * math.ceil((angle - math.pi) / TWO_PI)
            return False
        if angle < self._next_top:
            return False
        self._next_top += TWO_PI
        if not self._streak_started:  # the streak's first top: circles count from here
            self._streak_started = True
            self._circle_peak_bw = force_bw
            return False
        self._circles += 1
        self._circle_peaks.append(self._circle_peak_bw)
        self._circle_peak_bw = force_bw
        return True

    def _obs(self, sd: list[float]) -> np.ndarray:
        if self.task == "handstand":
            progress = min(1.0, self._hold_s / self.success_hold_s)
        else:
            progress = min(1.0, self._circles / self.success_circles)
        return np.array([
            math.sin(self._wrapped), math.cos(self._wrapped), self._omega,
            sd[11], sd[12], sd[13], sd[14],
            sd[6], sd[7], sd[8], sd[9],
            self._force_bw,
            max(0.0, 1.0 - self.data.time / self.episode_time_s),
            progress,
        ], dtype=np.float32)

    def _info(self, reward_terms: dict[str, float] | None, fall: str | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "is_success": self._succeeded,
            "fall": fall,
            "time_s": float(self.data.time),
            "bar_angle_rad": self._angle,
            "hand_force_bw": self._force_bw,
            "max_hand_force_bw": self._max_force_bw,
        }
        if self.task == "handstand":
            info["hold_time_s"] = self._hold_s
            info["max_hold_s"] = self._max_hold_s
            info["in_handstand"] = self._hold_s > 0.0
            names = ("upright", "hold", "effort", "success", "fall")
        else:
            info["circles"] = self._circles
            info["peak_hand_force_bw"] = list(self._circle_peaks)
            names = ("progress", "circle", "effort", "success", "fall")
        for name in names:
            info[f"reward_{name}"] = 0.0 if reward_terms is None else reward_terms[name]
        return info

    def _physics_error(self, sd: list[float]):
        obs = np.nan_to_num(self._obs(sd), nan=0.0, posinf=0.0, neginf=0.0)
        info = self._info(None, "physics_error")
        info["physics_error"] = True
        return obs, 0.0, True, False, info


def build_model(gymnast: hp.Gymnast, bar: hp.Bar, joints: hp.Joints, physics_dt_s: float,
                visuals: bool = False) -> mujoco.MjModel:
    """Size ``envs/highbar.xml`` to the configuration; with ``visuals`` also add the apparatus and the
    body geometry. The visuals change no dynamics; the physics model leaves them out because MuJoCo
    updates every geom on every step."""
    return build_spec(gymnast, bar, joints, physics_dt_s, visuals).compile()


def build_spec(gymnast: hp.Gymnast, bar: hp.Bar, joints: hp.Joints, physics_dt_s: float,
               visuals: bool = False) -> mujoco.MjSpec:
    """The model specification :func:`build_model` compiles (validation tests edit it, e.g. to weld joints)."""
    spec = mujoco.MjSpec.from_file(str(model_path("highbar.xml")))
    spec.option.timestep = physics_dt_s

    # bar: effective mass on two damped springs; springref cancels the bar's own weight
    spec.body("bar").pos = [0.0, 0.0, bar.centre_height_m]
    spec.body("bar").mass = bar.effective_mass_kg
    for name, k in (("bar_x", bar.stiffness_x_npm), ("bar_z", bar.stiffness_z_npm)):
        joint = spec.joint(name)
        joint.stiffness[0] = k  # linear coefficient (MuJoCo 4 also offers higher-order terms, left at 0)
        joint.damping[0] = bar.damping_nspm(k, gymnast.mass_kg)
    spec.joint("bar_z").springref = bar.effective_mass_kg * hp.GRAVITY_MPS2 / bar.stiffness_z_npm

    # gymnast: three segments hanging straight down from the bar, each starting where its parent ends
    for seg, start in ((gymnast.arms, 0.0), (gymnast.trunk, gymnast.arms.length_m), (gymnast.legs, gymnast.trunk.length_m)):
        body = spec.body(seg.name)
        body.pos = [0.0, 0.0, -start]
        body.mass = seg.mass_kg
        body.ipos = [0.0, 0.0, -seg.com_m]
        # planar: only the y inertia matters; x and z get the same value (a valid, non-degenerate body)
        body.inertia = [seg.inertia_kgm2] * 3
    spec.joint("shoulder").range = list(joints.shoulder_range_rad)
    spec.joint("hip").range = list(joints.hip_range_rad)
    spec.actuator("shoulder").ctrlrange = list(joints.shoulder_torque_nm)
    spec.actuator("hip").ctrlrange = list(joints.hip_torque_nm)

    # joint stops and hand friction: constraint time constant of two time steps (the stiffest MuJoCo allows)
    for name in ("bar_x", "bar_z", "hand", "shoulder", "hip"):
        spec.joint(name).solref_limit = [2.0 * physics_dt_s, 1.0]
        spec.joint(name).solref_friction = [2.0 * physics_dt_s, 1.0]

    if visuals:
        _add_visuals(spec, gymnast, bar)
    _place_camera(spec, gymnast, bar)
    return spec


def _geom(parent: mujoco.MjsBody, gtype: mujoco.mjtGeom, material: str, size: tuple[float, ...],
          pos: tuple[float, ...] | None = None, fromto: tuple[float, ...] | None = None,
          quat: tuple[float, ...] | None = None) -> mujoco.MjsGeom:
    """A visual geom (no collisions, no mass: the defaults of highbar.xml)."""
    g = parent.add_geom()
    g.type, g.size, g.material = gtype, list(size), material
    if fromto is not None:
        g.fromto = list(fromto)
    if pos is not None:
        g.pos = list(pos)
    if quat is not None:
        g.quat = list(quat)
    return g


def _add_visuals(spec: mujoco.MjSpec, gymnast: hp.Gymnast, bar: hp.Bar) -> None:
    G = mujoco.mjtGeom
    wb, half_len, top = spec.worldbody, hp.BAR_LENGTH_M / 2, bar.centre_height_m
    _geom(wb, G.mjGEOM_PLANE, "floor", (6.0, 4.0, 0.1))
    _geom(wb, G.mjGEOM_BOX, "mat", (2.5, 1.5, hp.MAT_THICKNESS_M / 2), pos=(0, 0, hp.MAT_THICKNESS_M / 2))
    # uprights; the near one (between the side camera and the gymnast) is drawn see-through
    for y, material in ((-half_len - 0.03, "frame_near"), (half_len + 0.03, "frame")):
        _geom(wb, G.mjGEOM_CYLINDER, material, (0.03, 0, 0), fromto=(0, y, 0, 0, y, top + 0.05))
    # the bar moves with its body (its deflection is visible); drawn along y
    _geom(spec.body("bar"), G.mjGEOM_CYLINDER, "steel", (bar.radius_m, half_len, 0),
          quat=(math.sqrt(0.5), math.sqrt(0.5), 0, 0))
    scale = gymnast.height_m / 1.741
    arms, trunk, legs = spec.body("arms"), spec.body("trunk"), spec.body("legs")
    for y in (-0.2, 0.2):  # both arms, shoulder-width grip
        _geom(arms, G.mjGEOM_CAPSULE, "skin", (0.04 * scale, 0, 0),
              fromto=(0, y, -0.03, 0, y * 0.95, -gymnast.arms.length_m))
    _geom(trunk, G.mjGEOM_CAPSULE, "suit", (0.13 * scale, 0, 0), fromto=(0, 0, -0.1 * scale, 0, 0, -gymnast.trunk.length_m + 0.05))
    _geom(trunk, G.mjGEOM_SPHERE, "skin", (0.1 * scale, 0, 0), pos=(0.02 * scale, 0, 0.13 * scale))
    toes = gymnast.legs.length_m - 0.065  # the capsule's rounded end reaches the toe tips
    for y in (-0.08, 0.08):
        _geom(legs, G.mjGEOM_CAPSULE, "suit", (0.065 * scale, 0, 0), fromto=(0, y * scale, 0, 0, y * scale * 0.6, -toes))


def _place_camera(spec: mujoco.MjSpec, gymnast: hp.Gymnast, bar: hp.Bar) -> None:
    """Side camera framing the whole circle the body sweeps around the bar (16:9, fovy 45 deg)."""
    reach = sum(seg.length_m for seg in gymnast.segments)
    top, bottom = bar.centre_height_m + reach + 0.15, 0.0
    half_h = (top - bottom) / 2
    dist = half_h / math.tan(math.radians(22.5))
    cam = spec.camera("side")
    cam.pos = [0.0, -dist, (top + bottom) / 2]
    cam.quat = [math.sqrt(0.5), math.sqrt(0.5), 0.0, 0.0]  # look along +y, z up
