"""``sportsim/HalfPipe-v1``: pump a skateboard or snowboard up a half-pipe (MuJoCo) - a rider with a body.

Model file: ``envs/halfpipe.xml`` (its header explains how the exact pipe surface is built from
joint limits). Parameters and their sources: :mod:`sportsim.envs.halfpipe_params`. ``HalfPipe-v0`` (a
point-mass rider, no power limit) lives on, frozen, in :mod:`sportsim.envs.halfpipe_v0` for its zoo entries.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from sportsim.envs import halfpipe_params as hp
from sportsim.envs.rewards import HalfPipeRewardWeights, halfpipe_v1_reward
from sportsim.envs.rendering import MirrorRenderer
from sportsim.errors import ConfigError
from sportsim.paths import model_path

RIDE_WIDTH_M = 2.4  # extent of the rendered pipe along y
_SENSORS_OFF = int(mujoco.mjtDisableBit.mjDSBL_SENSOR)
# how hard the legs brake the stroke before its ends (assumption: 1 g)
LEG_DECELERATION_MPS2 = 9.81
# v1: an extension is stopped no harder than the load pressing the body onto the board allows (the feet do
# not pull; near a wall gravity no longer does it), but at least this hard (the servo then leaves the stroke
# end a little late instead of never)
MIN_EXTENSION_DECELERATION_MPS2 = 2.0
# sport panel: a pump (extension) is marked while the legs lengthen faster than this
PUMP_STANCE_RATE_MPS = 0.05
# rider pitch inertia of the point-mass model (kg m^2): it only regularises the spoke's free turn in the air
POINT_MASS_INERTIA_KGM2 = 0.01
# the leg force-velocity limit is re-read from the leg's rate at least this often
FORCE_VELOCITY_UPDATE_S = 0.01


def sport_panel_values(obs: np.ndarray, info: dict[str, Any]) -> dict[str, float]:
    """One sample of the sport panel from an observation and its info: CoM height and mechanical energy
    height E / (m g) = z + v^2 / 2g (m above the flat bottom), the coping height, and whether the rider
    is pumping (stance rate above ``PUMP_STANCE_RATE_MPS``: the legs extending)."""
    coping_m = float(info["coping_height_m"])
    energy_height_m = float(obs[10]) * coping_m
    speed2 = float(obs[4]) ** 2 + float(obs[5]) ** 2
    return {"com_height_m": energy_height_m - speed2 / (2.0 * hp.GRAVITY_MPS2), "energy_height_m": energy_height_m,
            "coping_height_m": coping_m, "pumping": float(obs[7] > PUMP_STANCE_RATE_MPS)}


# The curves ``python -m sportsim.record`` draws under the video (format: sportsim.video.sport_panel_spec).
SPORT_PANEL = {
    "values": sport_panel_values,
    "rows": ({"ylabel": "height (m)",
              "curves": (("com_height_m", "CoM height"), ("energy_height_m", "energy E/(m g)")),
              "levels": (("coping_height_m", "coping"),)},),
    "spans": ("pumping", "pump"),
}


class HalfPipeEnv(gym.Env):
    """Half-pipe pumping: the physical version of ``MountainCarContinuous``.

    ## Description
    A rider stands on a board in a half-pipe (flat bottom, circular transitions, vertical walls on
    vert ramps, coping at the top). The only way to gain height is *pumping*: moving the centre of
    mass (CoM) towards and away from the surface at the right moments - extend (stand up) while the
    board runs through the curved transition, crouch near the top - as skaters and snowboarders do
    [Kogelbauer et al. 2024, REFERENCES A3]. Gravity and the rider's legs are the only energy sources;
    rolling resistance / snow friction and air drag take energy out. The rider is a point mass at the
    whole-body CoM on a massless board; the legs set the CoM's distance from the board along the surface
    normal, with force, speed, stroke and power limits.

    v1 (issue 16): the body's moment of inertia about its CoM is computed from de Leva's segments
    (``body_inertia_kgm2``: standing, mid-stroke, crouched = 11.4, 9.2, 7.4 kg m^2 for the reference male,
    :func:`halfpipe_params.body_pitch_inertia_kgm2`) but NOT put into the dynamics by default: see Model
    limits. The legs have a linear force-velocity limit,
    F <= F0 (1 - v / v0) while extending (v0 = ``leg_max_velocity_mps``, 4 m/s: at most F0 v0 / 4 =
    30 W/kg), and a servo 10x stiffer than v0's, which holds the legs without draining energy.

    ## Action Space
    ``Box(-1, 1, (1,), float32)``: commanded leg extension speed as a fraction of ``max_leg_speed_mps``
    (+1 stand up as fast as possible, -1 crouch as fast as possible, 0 hold). The command is integrated
    into the leg servo's target, which stays inside the stroke; the leg force is limited, so under a
    large load the legs give way.

    ## Observation Space
    ``Box(-inf, inf, (12,), float32)``:

    | idx | observation | unit |
    |-----|-------------|------|
    | 0 | board contact point x (0 = middle of the flat bottom) | m |
    | 1 | board contact point height above the flat bottom | m |
    | 2 | sin of the board pitch (surface angle; 0 on the flat, +-1 on a vertical wall) | - |
    | 3 | cos of the board pitch | - |
    | 4 | CoM velocity x | m/s |
    | 5 | CoM velocity z | m/s |
    | 6 | CoM height above the board along the surface normal (stance) | m |
    | 7 | stance rate | m/s |
    | 8 | leg servo target, as a fraction of the stroke (0 crouched .. 1 standing) | - |
    | 9 | normal load on the board | body weights |
    | 10 | CoM energy height z + v^2/2g, as a fraction of the coping height | - |
    | 11 | fraction of the episode time left | - |

    ## Rewards
    ``reward = progress + effort + success + fall`` (each also in ``info["reward_<term>"]``):
    ``progress = w_progress * delta(energy height) / coping height`` (potential-based: sums to the net
    energy gain); ``effort = -w_effort * (P / 30 W/kg)^2``, P the legs' positive mechanical power per kg
    of body mass over the step (``info["leg_power_w_per_kg"]``; the episode's peak in
    ``info["peak_leg_power_w_per_kg"]``); ``success = +w_success`` once when the board reaches the coping;
    ``fall = -w_fall`` once when the rider falls. Weights: constructor arguments.

    ## Starting State
    Board on the flat bottom, uniformly within its middle half, rider at mid-stroke, rolling in a random
    direction with the speed that would carry it up a fraction of the coping height drawn uniformly
    from ``start_energy_frac`` (so bigger pipes start with proportionally more speed).

    ## Episode End
    Terminated on success (board at coping height, ``info["is_success"]``) when
    ``terminate_on_success``; on a fall (``info["fall"]`` names it): ``"lost_board"`` - the CoM rose more
    than ``lose_board_gap_m`` above where the legs reach (the rider jumped off the board) - or
    ``"legs_collapsed"`` - the legs push as hard as they can and are still bottomed out, the stop
    carrying more than ``bail_load_bw`` body weights; or if the physics ever produced a non-finite state
    (``info["physics_error"]``; never seen in tests). Truncated after ``episode_time_s``.

    ## Model limits
    * The rider is still a point mass for the dynamics. Giving it the body's inertia
      (``rider_inertia_kgm2=9.2``) makes it turn with the board, and the exact point-contact profile's
      curvature steps at every flat/transition junction then force the turning rate to jump (0 <-> v/r):
      MuJoCo's constraint absorbs 1/2 I (v/r)^2 at each crossing - with the legs held, friction and drag
      off, the mini ramp loses half its energy in 30 s (tests/test_halfpipe_v1.py measures it). A board's
      wheelbase spreads that change over ~0.2 s without loss; modelling it (a two-wheel contact, or a
      body turning on a compliant ankle with a board inertia) is left open. Arms and balance are not modelled, and the board is
      massless (it cannot be lifted: the legs only push). This is the pumping model of the literature
      [REFERENCES A3]; it also keeps the flat/transition junctions free of the impulsive pitch jolt a
      single rigid contact point would give.
    * The force-velocity limit is re-read from the leg's rate every 10 ms (``FORCE_VELOCITY_UPDATE_S``),
      not every physics step; no eccentric force enhancement (the legs yield at F0 while shortening).
    * Above a vertical lip the board flies along the wall's line (the guide keeps following it): a
      take-off from a vertical wall is vertical, so the flight lands back on the wall as in reality, but
      the rider cannot fly out over the deck. Past a sub-vertical coping (mini ramps) the episode ends.
    * Snow pipes slope 16-18.5 deg along their length [R2]; the env is the cross-section only. With snow
      friction (mu 0.05) pumping alone cannot gain height, as for real riders who draw speed from the
      slope; ``along_pipe_speed_mps`` approximates that (friction and drag then act on the total
      sliding velocity), but carving is not modelled.

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | pipe | "mini" | preset: "mini" (1.22 m), "vert" (3.35 m), "superpipe" (6.5 m snow pipe) |
    | flat_width_m, transition_radius_m, height_m | None | override the preset's geometry |
    | surface | "skateboard" | "skateboard" (urethane on concrete) or "snowboard" (snow) |
    | rolling_resistance, drag_area_m2 | None | override the surface's friction coefficient / C_D*A (m^2) |
    | along_pipe_speed_mps | 0.0 | steady speed down the pipe (snow pipes slope 16-18.5 deg [R2]); friction and drag act on the total sliding velocity, so only its cross-section share resists pumping |
    | rider_mass_kg, rider_height_m, rider_sex | 73.0, 1.741, "male" | de Leva reference subject |
    | stroke_m, max_push_bw, max_leg_speed_mps | None, None, 2.0 | leg limits (see halfpipe_params) |
    | leg_max_velocity_mps | 4.0 | unloaded leg extension velocity v0 of the force-velocity limit |
    | rider_inertia_kgm2 | 0.01 | rider's pitch inertia about the CoM in the model (see Model limits: the body's own, ``body_inertia_kgm2``, loses energy at every flat/transition junction) |
    | control_hz | 25 | policy rate |
    | physics_dt_s | 0.0025 | MuJoCo time step (control period must be a multiple) |
    | episode_time_s | 30.0 | time limit |
    | start_energy_frac | (0.05, 0.2) | initial kinetic energy, as a fraction of the energy to reach the coping |
    | progress_weight, effort_weight, success_reward, fall_penalty | 10, 0.005, 10, 10 | reward weights |
    | terminate_on_success | True | end the episode at the coping (False needs a vertical lip) |
    | lose_board_gap_m, bail_load_bw | 0.1, 1.0 | fall thresholds |
    | render_mode, render_width, render_height | None, 640, 360 | "rgb_array" renders the side camera |

    ``metadata["sport_panel"]`` describes the curves that ``python -m sportsim.record <run> panel=true``
    draws under the video: CoM height and mechanical energy (as a height, E / (m g)) over time, each
    pump (legs extending) shaded.

    ## Version History
    * v2 (issue 16, :class:`sportsim.envs.halfpipe_v2.HalfPipeV2Env`, a subclass): the body's rotation in the
      dynamics on a board with a wheelbase (the junction loss above gone), integrated in reduced coordinates.
    * v1 (issue 16): the rider's body inertia, the legs' force-velocity (power) limit, a stiffer leg
      servo, effort as leg power (W/kg), ``info`` leg power. v0 zoo entries run on the frozen v0 env.
    * v0: first version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25, "sport_panel": SPORT_PANEL,
                "tb_metrics": {"max_board_height_m": "last", "peak_leg_power_w_per_kg": "last",
                               "leg_power_w_per_kg": "mean"}}

    def __init__(
        self,
        pipe: str = "mini",
        flat_width_m: float | None = None,
        transition_radius_m: float | None = None,
        height_m: float | None = None,
        surface: str = "skateboard",
        rolling_resistance: float | None = None,
        drag_area_m2: float | None = None,
        along_pipe_speed_mps: float = 0.0,
        rider_mass_kg: float = 73.0,
        rider_height_m: float = 1.741,
        rider_sex: str = "male",
        stroke_m: float | None = None,
        max_push_bw: float | None = None,
        max_leg_speed_mps: float = 2.0,
        leg_max_velocity_mps: float = hp.LEG_MAX_VELOCITY_MPS,
        rider_inertia_kgm2: float = POINT_MASS_INERTIA_KGM2,
        control_hz: float = 25.0,
        physics_dt_s: float = 0.0025,
        episode_time_s: float = 30.0,
        start_energy_frac: tuple[float, float] = (0.05, 0.2),
        progress_weight: float = 10.0,
        effort_weight: float = 0.005,
        success_reward: float = 10.0,
        fall_penalty: float = 10.0,
        terminate_on_success: bool = True,
        lose_board_gap_m: float = 0.1,
        bail_load_bw: float = 1.0,
        render_mode: str | None = None,
        render_width: int = 640,
        render_height: int = 360,
    ) -> None:
        self.pipe = hp.resolve_pipe(pipe, flat_width_m=flat_width_m,
                                    transition_radius_m=transition_radius_m, height_m=height_m)
        base_surface = hp.resolve_surface(surface)
        self.rolling_resistance = base_surface.rolling_resistance if rolling_resistance is None else rolling_resistance
        self.drag_area_m2 = base_surface.drag_area_m2 if drag_area_m2 is None else drag_area_m2
        self.surface = base_surface
        if not 0.0 <= along_pipe_speed_mps <= 40.0:
            raise ConfigError(f"along_pipe_speed_mps={along_pipe_speed_mps} must be in [0, 40] m/s")
        self.along_pipe_speed_mps = float(along_pipe_speed_mps)
        self.rider = hp.make_rider(rider_mass_kg, rider_height_m, rider_sex, stroke_m, max_push_bw, max_leg_speed_mps)
        if not 0.5 <= leg_max_velocity_mps <= 10.0:
            raise ConfigError(f"leg_max_velocity_mps={leg_max_velocity_mps} must be in [0.5, 10] m/s")
        self.leg_max_velocity_mps = float(leg_max_velocity_mps)
        # the body's own inertia (de Leva squat), reported: standing, mid-stroke, crouched (kg m^2)
        self.body_inertia_kgm2 = tuple(hp.body_pitch_inertia_kgm2(rider_height_m, rider_mass_kg, rider_sex,  # type: ignore[arg-type]
                                                                  f * self.rider.stroke_m) for f in (0.0, 0.5, 1.0))
        if not 0.0 < rider_inertia_kgm2 <= 50.0:
            raise ConfigError(f"rider_inertia_kgm2={rider_inertia_kgm2} must be in (0, 50] kg m^2")
        self.rider_inertia_kgm2 = float(rider_inertia_kgm2)
        self.weights = HalfPipeRewardWeights(progress_weight, effort_weight, success_reward, fall_penalty)
        if not (control_hz > 0 and physics_dt_s > 0 and episode_time_s > 0):
            raise ConfigError(f"control_hz={control_hz}, physics_dt_s={physics_dt_s} and episode_time_s="
                              f"{episode_time_s} must all be > 0")
        if not (lose_board_gap_m > 0 and bail_load_bw > 0):
            raise ConfigError(f"lose_board_gap_m={lose_board_gap_m} and bail_load_bw={bail_load_bw} must be > 0")
        n_sub = round(1.0 / (control_hz * physics_dt_s))
        if not n_sub or abs(n_sub * physics_dt_s * control_hz - 1.0) > 1e-6:
            raise ConfigError(f"control period 1/{control_hz} s is not a multiple of physics_dt_s={physics_dt_s}")
        if not (0.0 <= self.rolling_resistance < 1.0 and 0.0 <= self.drag_area_m2 < 5.0):
            raise ConfigError(f"rolling_resistance={self.rolling_resistance} must be in [0, 1) and drag_area_m2={self.drag_area_m2} in [0, 5)")
        if not terminate_on_success and self.pipe.lip_angle_rad < math.pi / 2 - 1e-9:
            raise ConfigError("terminate_on_success=False needs a vertical lip (height_m >= transition_radius_m): "
                              "riding past a sub-vertical coping means rolling onto the deck, which is not modelled")
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        lo, hi = start_energy_frac
        if not 0.0 <= lo <= hi <= 1.0:
            raise ConfigError(f"start_energy_frac must be (low, high) with 0 <= low <= high <= 1, got {start_energy_frac}")
        self.n_substeps = n_sub
        self.control_dt_s = 1.0 / control_hz
        self.episode_time_s = episode_time_s
        self.start_energy_frac = (float(lo), float(hi))
        self.terminate_on_success = terminate_on_success
        self.lose_board_gap_m = lose_board_gap_m
        self.bail_load_bw = bail_load_bw
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": control_hz}

        self.model = build_model(self.pipe, self.surface, self.rider, physics_dt_s, self.rider_inertia_kgm2)
        self.data = mujoco.MjData(self.model)
        self._index_model()
        self.body_weight_n = self.total_mass_kg * hp.GRAVITY_MPS2
        self.coping_height_m = self.pipe.height_m

        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(12,), dtype=np.float32)
        self._renderer = MirrorRenderer(
            lambda: build_model(self.pipe, self.surface, self.rider, physics_dt_s, self.rider_inertia_kgm2, visuals=True),
            render_height, render_width)
        self._energy_height = 0.0
        self._reached = False
        self._max_height = 0.0
        self._power = 0.0
        self._peak_power = 0.0
        # physics steps between force-velocity updates
        self._fv_chunk = max(1, min(n_sub, int(FORCE_VELOCITY_UPDATE_S / physics_dt_s + 1e-9)))

    # -- model bookkeeping -----------------------------------------------------------------------
    def _index_model(self) -> None:
        m = self.model
        self._q = {n: m.joint(n).qposadr[0] for n in ("guide_x", "guide_z", "pitch", "stance", "leg")}
        self._v = {n: m.joint(n).dofadr[0] for n in ("guide_x", "guide_z", "pitch", "stance", "leg")}
        self._friction_dofs = (self._v["guide_x"], self._v["guide_z"], self._v["pitch"])
        adr = {m.sensor(i).name: m.sensor_adr[i] for i in range(m.nsensor)}
        self._s_board_pos = adr["board_pos"]
        self._s_board_vel = adr["board_vel"]
        self._s_com_pos = adr["com_pos"]
        self._s_com_vel = adr["com_vel"]
        self._s_load = adr["leg_load"]
        self._s_pitch = adr["pitch"]
        self._s_stance = adr["stance"]
        self._s_stance_rate = adr["stance_rate"]
        self._s_stop = adr["leg_stop"]
        self._rider_body = m.body("rider").id
        self._opt = m.opt
        self.total_mass_kg = float(m.body_subtreemass[self._rider_body])
        self._drag_coef = 0.5 * hp.AIR_DENSITY_KGPM3 * self.drag_area_m2
        lo, hi = m.actuator_actrange[0]
        self._stroke = (float(lo), float(hi))
        self._leg_dof = self._v["leg"]
        self._forcerange = m.actuator_forcerange

    # -- gymnasium API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        rng = self.np_random
        half_flat = self.pipe.flat_width_m / 2
        lo, hi = self._stroke
        target = lo + 0.5 * (hi - lo)
        sag = self.body_weight_n / m.actuator_gainprm[0, 0]  # servo deflection under body weight
        d.qpos[self._q["guide_x"]] = rng.uniform(-half_flat / 2, half_flat / 2)
        d.qpos[self._q["stance"]] = target - sag
        d.qpos[self._q["leg"]] = target - sag
        d.act[0] = target
        # initial speed: enough to roll up to a random fraction of the coping height
        rise = rng.uniform(*self.start_energy_frac) * self.pipe.height_m
        speed = math.sqrt(2.0 * hp.GRAVITY_MPS2 * rise) * (1.0 if rng.random() < 0.5 else -1.0)
        d.qvel[self._v["guide_x"]] = speed
        mujoco.mj_forward(m, d)
        friction = self.rolling_resistance * self.body_weight_n
        ix, iz, ip = self._friction_dofs
        m.dof_frictionloss[[ix, iz, ip]] = [friction, friction, friction * self.pipe.transition_radius_m]
        self._energy_height = self._com_energy_height()
        self._reached = False
        self._max_height = float(d.sensordata[self._s_board_pos + 2])
        self._power = self._peak_power = 0.0
        self._forcerange[0, 1] = self.rider.max_push_n
        return self._obs(), self._info(reward_terms=None, fall=None)

    def step(self, action):
        m, d = self.model, self.data
        a = float(action[0])
        a = min(1.0, max(-1.0, a)) if math.isfinite(a) else 0.0
        # the servo target never leads the legs by more than the servo's sag under 2 body weights: a target
        # far ahead of force-limited legs would let them arrive at the stroke end at full speed and throw
        # the body off the board (the feet cannot pull)
        leg_q = float(d.qpos[self._q["leg"]])
        lead = 1.6 * hp.SERVO_SAG_M  # kp x lead = 3.2 BW: above the force limit, so the legs can push their hardest
        d.act[0] = min(max(float(d.act[0]), leg_q - lead), leg_q + lead)
        d.ctrl[0] = self._leg_speed(a)
        sd = d.sensordata
        u2 = self.along_pipe_speed_mps**2
        # air drag -1/2 rho C_D A |V| v on the CoM (V includes the speed along the pipe), held over the
        # control step
        i = self._s_com_vel
        vx, vy, vz = float(sd[i]), float(sd[i + 1]), float(sd[i + 2])
        k = -self._drag_coef * math.sqrt(vx * vx + vy * vy + vz * vz + u2)
        d.xfrc_applied[self._rider_body, :3] = (k * vx, k * vy, k * vz)
        # sensors (about half the cost of a substep) are only read after the control step; the leg force
        # limit follows the legs' extension rate (linear force-velocity relation) every _fv_chunk steps
        opt, qvel, fr, f0 = self._opt, d.qvel, self._forcerange, self.rider.max_push_n
        v0, leg, act_force = self.leg_max_velocity_mps, self._leg_dof, d.actuator_force
        work, left = 0.0, self.n_substeps
        opt.disableflags |= _SENSORS_OFF
        while left > 0:
            n = min(self._fv_chunk, left)
            left -= n
            v = float(qvel[leg])
            fr[0, 1] = f0 * max(0.0, 1.0 - v / v0) if v > 0.0 else f0
            if left == 0:
                if n > 1:
                    mujoco.mj_step(m, d, nstep=n - 1)
                opt.disableflags &= ~_SENSORS_OFF
                mujoco.mj_step(m, d)
            else:
                mujoco.mj_step(m, d, nstep=n)
            work += max(0.0, float(act_force[0]) * float(qvel[leg])) * n
        self._power = work / (self.n_substeps * self.rider.mass_kg)  # W/kg, mean of the chunk-end rates
        self._peak_power = max(self._peak_power, self._power)

        load = float(sd[self._s_load])
        # Rolling resistance / snow friction: Coulomb friction mu*N on the guide joints (and mu*N*R on
        # the spoke's turn), N from the last step's leg load - always dissipative. When the rider also
        # slides down the pipe, only the cross-section share of the sliding velocity is resisted here.
        share = 1.0
        if u2 > 0.0:
            vb = sd[self._s_board_vel:self._s_board_vel + 3]
            vb2 = vb @ vb
            share = math.sqrt(vb2 / (vb2 + u2))
        friction = self.rolling_resistance * share * load
        fl, (ix, iz, ip) = m.dof_frictionloss, self._friction_dofs
        fl[ix] = fl[iz] = friction
        fl[ip] = friction * self.pipe.transition_radius_m

        board_z = float(sd[self._s_board_pos + 2])
        energy_height = self._com_energy_height()
        if not math.isfinite(board_z + energy_height + load):  # a blown-up state shows in every sensor
            return self._physics_error()
        self._max_height = max(self._max_height, board_z)
        reached_now = not self._reached and board_z >= self.coping_height_m
        self._reached = self._reached or reached_now
        fall = self._fall(load)
        reward, terms = halfpipe_v1_reward(self._energy_height, energy_height, self.coping_height_m, self._power,
                                           reached_now, fall is not None, self.weights)
        self._energy_height = energy_height
        terminated = fall is not None or (self._reached and self.terminate_on_success)
        truncated = d.time >= self.episode_time_s - 1e-9
        return self._obs(), reward, terminated, truncated, self._info(terms, fall)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return self._renderer.render(self.data)

    def close(self) -> None:
        self._renderer.close()

    # -- helpers ---------------------------------------------------------------------------------
    def _leg_speed(self, a: float) -> float:
        """Commanded leg speed: ``a`` x the speed limit, slowed so the servo target can stop at either
        end of the stroke with the rider's deceleration limit (no knee lock-out at full speed)."""
        lo, hi = self._stroke
        room = (hi - self.data.act[0]) if a > 0 else (self.data.act[0] - lo)
        decel = LEG_DECELERATION_MPS2
        if a > 0:  # the feet cannot pull: an extension can only be stopped by what presses the body onto the board
            load = float(self.data.sensordata[self._s_load]) / self.total_mass_kg
            decel = min(decel, max(MIN_EXTENSION_DECELERATION_MPS2, load))
        stoppable = math.sqrt(2.0 * decel * max(room, 0.0))
        return math.copysign(min(abs(a) * self.rider.max_speed_mps, stoppable), a)

    def _com_energy_height(self) -> float:
        sd = self.data.sensordata
        v = sd[self._s_com_vel:self._s_com_vel + 3]
        return float(sd[self._s_com_pos + 2] + (v @ v) / (2.0 * hp.GRAVITY_MPS2))

    def _fall(self, load: float) -> str | None:
        q = self.data.qpos
        if q[self._q["stance"]] - q[self._q["leg"]] > self.lose_board_gap_m:
            return "lost_board"
        # bottomed out while pushing as hard as the legs can, and the stop carries the rest of the load
        if (self.data.actuator_force[0] >= 0.99 * self.rider.max_push_n
                and self.data.sensordata[self._s_stop] > self.bail_load_bw * self.body_weight_n):
            return "legs_collapsed"
        return None

    def _obs(self) -> np.ndarray:
        d, sd = self.data, self.data.sensordata
        lo, hi = self._stroke
        pitch = sd[self._s_pitch]
        return np.array([
            sd[self._s_board_pos], sd[self._s_board_pos + 2],
            math.sin(pitch), math.cos(pitch),
            sd[self._s_com_vel], sd[self._s_com_vel + 2],
            sd[self._s_stance], sd[self._s_stance_rate],
            (d.act[0] - lo) / (hi - lo),
            sd[self._s_load] / self.body_weight_n,
            self._energy_height / self.coping_height_m,
            max(0.0, 1.0 - d.time / self.episode_time_s),
        ], dtype=np.float32)

    def _info(self, reward_terms: dict[str, float] | None, fall: str | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "is_success": self._reached,
            "fall": fall,
            "board_height_m": float(self.data.sensordata[self._s_board_pos + 2]),
            "max_board_height_m": self._max_height,
            "coping_height_m": self.coping_height_m,
            "time_s": float(self.data.time),
            "leg_power_w_per_kg": self._power,
            "peak_leg_power_w_per_kg": self._peak_power,
        }
        for name in ("progress", "effort", "success", "fall"):
            info[f"reward_{name}"] = 0.0 if reward_terms is None else reward_terms[name]
        return info

    def _physics_error(self):
        obs = np.nan_to_num(self._obs(), nan=0.0, posinf=0.0, neginf=0.0)
        info = self._info(None, "physics_error")
        info["physics_error"] = True
        return obs, 0.0, True, False, info


def build_model(pipe: hp.PipeGeometry, surface: hp.Surface, rider: hp.Rider, physics_dt_s: float,
                rider_inertia_kgm2: float, visuals: bool = False) -> mujoco.MjModel:
    """Size ``envs/halfpipe.xml`` to the configuration; with ``visuals`` also add the pipe, board and
    rider geometry. The visuals change no dynamics; the physics model leaves them out because MuJoCo
    updates every geom and tendon on every step (a quarter of the step's cost here)."""
    spec = mujoco.MjSpec.from_file(str(model_path("halfpipe.xml")))
    R, half_flat = pipe.transition_radius_m, pipe.flat_width_m / 2
    spec.option.timestep = physics_dt_s

    # geometry: guide rectangle, spoke length = transition radius
    spec.body("guide").pos = [0.0, 0.0, R]
    spec.joint("guide_x").range = [-half_flat, half_flat]
    spec.site("contact").pos = [0.0, 0.0, -R]
    spec.body("rider").pos = [0.0, 0.0, -R]

    # rider: point mass = body + board; stance from the standing CoM height on the deck
    mass = rider.mass_kg + surface.board_mass_kg
    rider_body = spec.body("rider")
    rider_body.mass = mass
    # the rider's pitch inertia about its CoM (y: the pitch axis; x, z unused in the plane, set alike)
    rider_body.inertia = [rider_inertia_kgm2] * 3
    stand = surface.deck_height_m + rider.standing_com_m()
    crouch = stand - rider.stroke_m
    spec.joint("stance").range = [0.3, stand + 2.0]
    spec.joint("leg").range = [crouch - 0.05, stand]
    legs = spec.actuator("legs")
    legs.ctrlrange = [-rider.max_speed_mps, rider.max_speed_mps]
    legs.actrange = [crouch, stand]
    legs.forcerange = [-rider.max_pull_n, rider.max_push_n]
    # servo: sags SERVO_SAG_M under 2 body weights, critically damped with the body on the legs. Its output
    # (stiffness and damping terms together) is clipped to [0, max push]: relaxed legs fold freely.
    kp = 2.0 * mass * hp.GRAVITY_MPS2 / hp.SERVO_SAG_M
    kv = 2.0 * math.sqrt(kp * mass)
    legs.gainprm[0] = kp
    legs.biasprm[1] = -kp
    legs.biasprm[2] = -kv

    # constraint time constants: twice the time step (the stiffest Euler keeps stable)
    for j in ("guide_x", "guide_z", "pitch", "stance", "leg"):
        spec.joint(j).solref_limit = [2.0 * physics_dt_s, 1.0]
    spec.tendon("feet_on_board").solref_limit = [2.0 * physics_dt_s, 1.0]

    if visuals:
        _add_pipe_visuals(spec, pipe)
        _add_rider_visuals(spec, rider, surface, R, stand)
    _place_camera(spec, pipe)
    model = spec.compile()
    _set_constraint_scales(model, mass, R)
    return model


def _set_constraint_scales(model: mujoco.MjModel, mass_kg: float, radius_m: float) -> None:
    """Regularise the limits with the inverse masses they really hold.

    MuJoCo scales a constraint's softness by ``dof_invweight0`` (the dof's inverse inertia at qpos0).
    For the guide dofs that number is dominated by the 1 g guide sliding under a still rider, which
    would make the pipe surface spongy; the surface carries the rider, so use the rider's numbers.
    """
    leg_mass = model.body_mass[model.body("leg_servo").id]
    for name, inv in (("guide_x", 1 / mass_kg), ("guide_z", 1 / mass_kg), ("pitch", 2 / (mass_kg * radius_m**2)),
                      ("stance", 1 / mass_kg), ("leg", 1 / leg_mass)):
        model.dof_invweight0[model.joint(name).dofadr[0]] = inv
    model.tendon_invweight0[model.tendon("feet_on_board").id] = 1 / mass_kg + 1 / leg_mass


def _box(parent, name: str | None, pos, half_size, quat=(1, 0, 0, 0), material: str = "ramp") -> None:
    g = parent.add_geom()
    if name:
        g.name = name
    g.type = mujoco.mjtGeom.mjGEOM_BOX
    g.pos, g.size, g.quat, g.material = list(pos), list(half_size), list(quat), material


def _add_pipe_visuals(spec: mujoco.MjSpec, pipe: hp.PipeGeometry) -> None:
    wb, R, half_flat, t = spec.worldbody, pipe.transition_radius_m, pipe.flat_width_m / 2, 0.06
    half_y = RIDE_WIDTH_M / 2
    if half_flat > 0:
        _box(wb, "flat", (0, 0, -t), (half_flat, half_y, t))
    n = max(8, int(math.degrees(pipe.lip_angle_rad) / 2.0))
    dphi = pipe.lip_angle_rad / n
    for side in (-1.0, 1.0):
        cx = side * half_flat
        for i in range(n):
            phi = (i + 0.5) * dphi
            # surface point at angle phi on this side's transition, box centred t below the surface
            nx, nz = side * math.sin(phi), -math.cos(phi)  # outward normal (from centre to surface)
            pos = (cx + (R + t) * nx, 0.0, R + (R + t) * nz)
            _box(wb, None, pos, (R * dphi / 2 * 1.04, half_y, t), (math.cos(-side * phi / 2), 0, math.sin(-side * phi / 2), 0))
        lip_x = side * pipe.half_span_m
        if pipe.vert_m > 0:
            _box(wb, None, (lip_x + side * t, 0, R + pipe.vert_m / 2), (t, half_y, pipe.vert_m / 2))
        # deck (platform) behind the coping, and the coping pipe itself
        _box(wb, None, (lip_x + side * 0.9, 0, pipe.height_m - t), (0.9, half_y, t), material="ramp_side")
        cop = wb.add_geom()
        cop.type, cop.size = mujoco.mjtGeom.mjGEOM_CYLINDER, [0.03, half_y, 0]
        cop.pos, cop.quat, cop.material = [lip_x, 0, pipe.height_m], [math.sqrt(0.5), math.sqrt(0.5), 0, 0], "coping"
    # ground under the flat bottom and the decks' supports (the ramp's side silhouette)
    span = pipe.half_span_m + 1.8
    _box(wb, "ground", (0, 0, -2 * t - 0.01), (span + 4, half_y + 4, 0.01), material="ramp_side")


def _add_rider_visuals(spec: mujoco.MjSpec, rider: hp.Rider, surface: hp.Surface, R: float, stand: float) -> None:
    spoke, body = spec.body("spoke"), spec.body("rider")
    deck = surface.deck_height_m
    board_len = 0.8 if surface.name == "skateboard" else 1.5
    _box(spoke, "deck", (0, 0, -R + max(deck - 0.01, 0.01)), (board_len / 2, 0.11, 0.01), material="board")
    if surface.name == "skateboard":
        for x in (-0.3, 0.3):
            w = spoke.add_geom()
            w.type, w.size, w.material = mujoco.mjtGeom.mjGEOM_CYLINDER, [0.027, 0.1, 0], "wheel"
            w.pos, w.quat = [x, 0, -R + 0.027], [math.sqrt(0.5), math.sqrt(0.5), 0, 0]
    # body drawn around the CoM: hips a little below it, torso and head above
    h = rider.height_m
    hip = -0.08 * h / 1.741
    torso = body.add_geom()
    torso.type, torso.size, torso.material = mujoco.mjtGeom.mjGEOM_CAPSULE, [0.13 * h / 1.741, 0, 0], "rider"
    torso.fromto = [0, 0, hip, 0, 0, hip + 0.45 * h / 1.741]
    head = body.add_geom()
    head.type, head.size, head.material = mujoco.mjtGeom.mjGEOM_SPHERE, [0.11 * h / 1.741, 0, 0], "skin"
    head.pos = [0, 0, hip + 0.62 * h / 1.741]
    for side, x in (("front", 0.12), ("back", -0.12)):
        hs = body.add_site()
        hs.name, hs.pos, hs.size, hs.group = f"hip_{side}", [x * 0.6, 0, hip], [0.02, 0, 0], 5
        fs = spoke.add_site()
        fs.name, fs.pos, fs.size, fs.group = f"foot_{side}", [x, 0, -R + deck], [0.02, 0, 0], 5
        leg = spec.add_tendon()
        leg.name, leg.width, leg.rgba = f"leg_{side}_visual", 0.06, [0.15, 0.2, 0.35, 1]
        leg.wrap_site(f"hip_{side}")
        leg.wrap_site(f"foot_{side}")


def _place_camera(spec: mujoco.MjSpec, pipe: hp.PipeGeometry) -> None:
    """Side camera framing the whole pipe and some air above the coping (16:9, fovy 45 deg)."""
    half_w = pipe.half_span_m + 1.0
    top = pipe.height_m + 1.6
    half_h = max(top / 2 + 0.2, half_w * 9 / 16)
    dist = half_h / math.tan(math.radians(22.5))
    cam = spec.camera("side")
    cam.pos = [0.0, -dist, top / 2]
    cam.quat = [math.sqrt(0.5), math.sqrt(0.5), 0.0, 0.0]  # look along +y, z up
