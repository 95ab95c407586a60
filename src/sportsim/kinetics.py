"""Kinetics of a simulated athlete: what motion capture cannot show.

Per physics step, read from MuJoCo (:class:`KineticsProbe`, used by ``sportsim/Imitation`` with
``kinetics=True``; with ``engine="pybullet"`` the forces come from PyBullet's contacts instead, see the
class):

* ground reaction force per foot (N, world frame, the floor's force on the foot; reported in body
  weights) summed over the foot's contacts with :func:`mujoco.mj_contactForce`, and its centre of
  pressure (the force-weighted mean of the contact points, m, world; zeros without contact - read it
  with ``foot_contact``);
* the floor's force on each hand (``hand_grf_bw``, the same way; zero off the floor): a cartwheel's or a
  handstand's support (:func:`hand_figures`);
* the net joint moment of every actuated degree of freedom (N m/kg): the servo's torque (MuJoCo's
  ``qfrc_actuator``; the human body's damping is inside it) + passive joint forces (``qfrc_passive``) +
  the joint-limit constraint torque (``J^T f`` over the joint-limit rows) - the moment an inverse
  dynamics analysis of the same motion would attribute to the joint;
* joint power = moment x joint angular velocity (W/kg; + = concentric work);
* foot slip velocity: the horizontal velocity of the foot's material point under its centre of pressure
  while the foot bears weight (m/s, world x and y; 0 off the floor). A foot that rolls from heel to toe
  without sliding has none; low-pass filtered like the forces and integrated over a stance, its speed is
  the distance the sole slid on the floor (:func:`stance_slip_mm`).

Signal processing (:func:`lowpass`): zero-lag 4th-order Butterworth (a 2nd-order filter run forwards
and backwards, :func:`scipy.signal.filtfilt`), cut-off :data:`GRF_CUTOFF_HZ` - the 15-20 Hz band
used for walking ground reaction forces. Gait figures (:func:`gait_summary`) follow the conventions of
Winter (2009) "Biomechanics and Motor Control of Human Movement", 4th ed.: stance from a vertical
force threshold, the two peaks in the first and second half of stance, the trough between them.

Units: SI, forces in body weights (BW), moments N m/kg, power W/kg, as the literature reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from sportsim import humanoid

# Walking norms to read a simulated walk against (docs/walking_norms.md has how each was obtained).
# Winter (2009) "Biomechanics and Motor Control of Human Movement", 4th ed., Appendix A (one subject,
# 1.41 m/s, stride 1.415 m, 56.7 kg), peaks computed from the tables' data; Keller et al. (1996) Clin.
# Biomech. 11:253 (abstract): vertical GRF peak 1.2 BW at 1.5 m/s.
WALKING_NORMS = {
    "grf_first_peak_bw": 1.09,  # Winter Table A.5(a), 22 % of stance
    "grf_trough_bw": 0.65,  # 44 % of stance
    "grf_second_peak_bw": 1.10,  # 78 % of stance
    "peak_hip_moment_nm_per_kg": 0.96,  # extensor at heel contact (0.66 over the rest of stance)
    "peak_knee_moment_nm_per_kg": 0.67,  # extensor, 13 % of the cycle
    "peak_ankle_moment_nm_per_kg": 1.58,  # plantarflexor, 48 % of the cycle
    "ankle_plantarflexion_toe_off_deg": 20.1,  # Table A.4 (excursion from the stance maximum: ~27 deg)
    "positive_work_j_per_kg_m": 0.97,  # hip + knee + ankle, both legs, Table A.7 integrated per stride
    "positive_work_sagittal_legs_j_per_kg_m": 0.97,  # the same joints: what sportsim's figure of that name sums
    "positive_work_sagittal_legs_filtered_j_per_kg_m": 0.97,  # ... computed from filtered moment and velocity
}
GRF_CUTOFF_HZ = 15.0
STANCE_THRESHOLD_BW = 0.05  # a foot is in stance while its filtered vertical force exceeds this
FOOT_GEOMS = ("right_foot", "left_foot")
HAND_GEOMS = ("right_hand", "left_hand")  # floor forces on the hands: a cartwheel's or a handstand's support
_LIMIT = int(mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT)


class KineticsProbe:
    """Samples ground reaction forces, centres of pressure, joint moments and powers after physics steps.

    ``start(n)`` before a control step of ``n`` physics steps, ``sample(data)`` after each of them,
    ``result()`` for the arrays of that control step (a dict of ``(n, ...)`` arrays, see :data:`KEYS`).

    ``engine``: the engine adapter stepping ``data`` (:mod:`sportsim.sim`). MuJoCo's (or None) - the
    forces come from MuJoCo's contacts and constraint forces in ``data``; another engine's - the ground
    reaction forces come from its ``contact_forces()`` (PyBullet: each contact point's normal and
    friction forces of Bullet's last solve, the point on the floor), the joint moments from the servo
    and passive torques the engine wrote into ``data`` (Bullet's joint-limit forces are not read back:
    the moments leave them out). Bullet's reported forces equal the body's momentum change step by step
    (``tests/test_kinetics_pybullet.py``) except in the first one or two physics steps of a rigid
    touchdown, where they miss part of the impact (the vertical impulse by 20 % when the standing
    humanoid is dropped from 2 cm); filtered stance curves are barely touched, impact peaks are."""

    KEYS = ("grf_bw", "cop_m", "foot_contact", "moment_nm_per_kg", "power_w_per_kg", "joint_velocity_rad_s",
            "slip_velocity_mps", "hand_grf_bw")

    def __init__(self, model: mujoco.MjModel, mass_kg: float, engine: Any = None) -> None:
        self._model = model
        self._mass = float(mass_kg)
        self._weight_n = self._mass * float(np.linalg.norm(model.opt.gravity))
        self._feet = np.array([model.geom(n).id for n in FOOT_GEOMS])
        self._foot_bodies = model.geom_bodyid[self._feet]
        self._hands = np.array([model.geom(n).id for n in HAND_GEOMS])
        self._hand_bodies = model.geom_bodyid[self._hands]
        self._engine = engine if getattr(engine, "name", "mujoco") != "mujoco" else None
        self._dof = humanoid.actuator_dofs(model)
        self._force6 = np.zeros(6)
        self._velocity6 = np.zeros(6)
        self._limit_qfrc = np.zeros(model.nv)
        self.start(1)

    def start(self, n_steps: int) -> None:
        nu = self._model.nu
        self._i = 0
        self._grf = np.zeros((n_steps, 2, 3))
        self._cop = np.zeros((n_steps, 2, 3))  # zeros off the floor (foot_contact False): no NaN in info
        self._contact = np.zeros((n_steps, 2), dtype=bool)
        self._moment = np.zeros((n_steps, nu))
        self._power = np.zeros((n_steps, nu))
        self._velocity = np.zeros((n_steps, nu))
        self._slip = np.zeros((n_steps, 2, 2))
        self._hand_grf = np.zeros((n_steps, 2, 3))

    def sample(self, data: mujoco.MjData) -> None:
        m, i = self._model, self._i
        if i >= len(self._grf):
            raise RuntimeError("KineticsProbe.sample called more often than start() announced")
        moment_arm_sum = np.zeros((2, 3))
        if self._engine is not None:  # another engine's contact forces (class docstring)
            for body, point, force in self._engine.contact_forces():
                side = np.flatnonzero(self._foot_bodies == body)
                hand = np.flatnonzero(self._hand_bodies == body)
                if len(hand):
                    self._hand_grf[i, int(hand[0])] += force
                if len(side):
                    k = int(side[0])
                    self._grf[i, k] += force
                    moment_arm_sum[k] += max(force[2], 0.0) * point
        for c in range(0 if self._engine is not None else data.ncon):
            contact = data.contact[c]
            g1, g2 = contact.geom1, contact.geom2
            side = np.flatnonzero((self._feet == g1) | (self._feet == g2))
            hand = np.flatnonzero((self._hands == g1) | (self._hands == g2))
            if len(side) == 0 and len(hand) == 0:
                continue
            mujoco.mj_contactForce(m, data, c, self._force6)
            frame = contact.frame.reshape(3, 3)  # rows: normal (geom1 -> geom2), tangents
            force = frame.T @ self._force6[:3]  # force of geom1 on geom2, world frame
            if len(hand):  # a hand on anything (the floor: the only geom a body geom collides with)
                self._hand_grf[i, int(hand[0])] += -force if self._hands[hand[0]] == g1 else force
                continue
            if self._feet[side[0]] == g1:
                force = -force
            k = int(side[0])
            self._grf[i, k] += force
            moment_arm_sum[k] += max(force[2], 0.0) * contact.pos
        fz = self._grf[i, :, 2]
        if self._engine is not None and (fz > 1e-9).any():
            # another engine wrote the state into data; MuJoCo's own step left its kinematics and com
            # velocities in data (of the state the contact forces were solved at)
            mujoco.mj_kinematics(m, data)
            mujoco.mj_comPos(m, data)
            mujoco.mj_comVel(m, data)
        for k in range(2):
            if fz[k] > 1e-9:
                self._cop[i, k] = moment_arm_sum[k] / fz[k]
                self._contact[i, k] = True
                self._slip[i, k] = self._point_velocity(data, int(self._foot_bodies[k]), self._cop[i, k])
        self._grf[i] /= self._weight_n
        self._hand_grf[i] /= self._weight_n
        # joint-limit constraint torques: J^T f over the joint-limit rows only
        n_efc = 0 if self._engine is not None else data.nefc
        if n_efc:
            forces = np.where(data.efc_type[:n_efc] == _LIMIT, data.efc_force[:n_efc], 0.0)
            mujoco.mj_mulJacTVec(m, data, self._limit_qfrc, forces)
        else:
            self._limit_qfrc[:] = 0.0
        tau = data.qfrc_actuator + data.qfrc_passive + self._limit_qfrc
        self._moment[i] = tau[self._dof] / self._mass
        self._velocity[i] = data.qvel[self._dof]
        self._power[i] = self._moment[i] * self._velocity[i]
        self._i = i + 1

    def _point_velocity(self, data: mujoco.MjData, body: int, point: np.ndarray) -> np.ndarray:
        """Horizontal velocity (m/s) of ``body``'s material point at world ``point``: v + w x (p - origin), with v the
        velocity of the body frame's origin (mjOBJ_XBODY; mjOBJ_BODY would give the centre of mass')."""
        mujoco.mj_objectVelocity(self._model, data, mujoco.mjtObj.mjOBJ_XBODY, body, self._velocity6, 0)
        w, v = self._velocity6[:3], self._velocity6[3:]
        return (v + np.cross(w, point - data.xpos[body]))[:2]

    def result(self) -> dict[str, np.ndarray]:
        n = self._i
        return {"grf_bw": self._grf[:n].copy(), "cop_m": self._cop[:n].copy(), "foot_contact": self._contact[:n].copy(),
                "moment_nm_per_kg": self._moment[:n].copy(), "power_w_per_kg": self._power[:n].copy(),
                "joint_velocity_rad_s": self._velocity[:n].copy(), "slip_velocity_mps": self._slip[:n].copy(),
                "hand_grf_bw": self._hand_grf[:n].copy()}


def linear_momentum(model: mujoco.MjModel, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
    """The whole body's linear momentum (kg m/s, world) in state (``qpos``, ``qvel``): total mass x the root
    subtree's centre-of-mass velocity - what the floor's impulse plus gravity's changes (the tests' physics
    check of the measured forces)."""
    d = mujoco.MjData(model)
    d.qpos[:], d.qvel[:] = qpos, qvel
    for f in (mujoco.mj_kinematics, mujoco.mj_comPos, mujoco.mj_comVel, mujoco.mj_subtreeVel):
        f(model, d)
    return float(model.body_subtreemass[1]) * d.subtree_linvel[1]


def stack(steps: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate the per-control-step results of :class:`KineticsProbe` into one time series each."""
    if not steps:
        raise ValueError("no kinetics samples (was the env built with kinetics=True?)")
    return {key: np.concatenate([s[key] for s in steps], axis=0) for key in KineticsProbe.KEYS}


def lowpass(x: np.ndarray, rate_hz: float, cutoff_hz: float = GRF_CUTOFF_HZ) -> np.ndarray:
    """Zero-lag Butterworth low-pass along axis 0 (2nd order, forwards and backwards). Series shorter than
    the filter's padding are returned unfiltered."""
    from scipy.signal import butter, filtfilt

    x = np.asarray(x, dtype=float)
    b, a = butter(2, cutoff_hz / (0.5 * rate_hz))
    if len(x) <= 3 * max(len(a), len(b)):
        return x.copy()
    return filtfilt(b, a, x, axis=0)


@dataclass(frozen=True)
class StanceFigures:
    """One foot's stance phases: medians over complete stances (peaks and trough in BW, durations in s)."""

    n_stances: int
    first_peak_bw: float
    trough_bw: float
    second_peak_bw: float
    stance_s: float


MIN_STANCE_S = 0.2  # a floor contact shorter than this - a swinging foot's toe scuffing the floor - is not a stance


def gait_stances(fz_bw: np.ndarray, rate_hz: float, min_stance_s: float = MIN_STANCE_S) -> list[tuple[int, int]]:
    """:func:`stances` that last at least ``min_stance_s``: the stances of a gait. A swinging foot that scuffs
    the floor for a few hundredths of a second neither counts as a stance (its slide, its forces) nor
    starts a stride (:func:`brief_contacts` counts those scuffs)."""
    return [(a, b) for a, b in stances(fz_bw) if (b - a) / rate_hz >= min_stance_s]


def brief_contacts(fz_bw: np.ndarray, rate_hz: float, min_stance_s: float = MIN_STANCE_S) -> int:
    """Number of complete floor contacts of one foot shorter than ``min_stance_s`` (scuffs, :func:`gait_stances`)."""
    return sum((b - a) / rate_hz < min_stance_s for a, b in stances(fz_bw))


def stances(fz_bw: np.ndarray, threshold_bw: float = STANCE_THRESHOLD_BW) -> list[tuple[int, int]]:
    """Complete stance phases ``[start, end)`` of one foot's (filtered) vertical force: above the
    threshold, not touching the ends of the series."""
    on = np.asarray(fz_bw) > threshold_bw
    edges = np.flatnonzero(np.diff(on.astype(int)))
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        if on[a + 1] and not on[b + 1]:
            out.append((int(a + 1), int(b + 1)))
    return out


def stance_figures(fz_bw: np.ndarray, rate_hz: float, min_stance_s: float = MIN_STANCE_S) -> StanceFigures:
    """Double-hump figures of one foot's filtered vertical GRF (BW) over its :func:`gait_stances`: first
    peak = maximum of the first half of stance, second peak = maximum of the second half, trough = minimum
    between them."""
    firsts, troughs, seconds, durations = [], [], [], []
    for a, b in gait_stances(fz_bw, rate_hz, min_stance_s):
        seg = np.asarray(fz_bw[a:b])
        half = len(seg) // 2
        p1, p2 = int(np.argmax(seg[:half])), half + int(np.argmax(seg[half:]))
        firsts.append(seg[p1])
        seconds.append(seg[p2])
        troughs.append(seg[p1:p2 + 1].min())
        durations.append((b - a) / rate_hz)
    if not firsts:
        return StanceFigures(0, float("nan"), float("nan"), float("nan"), float("nan"))
    return StanceFigures(len(firsts), float(np.median(firsts)), float(np.median(troughs)), float(np.median(seconds)),
                         float(np.median(durations)))


def positive_work_j_per_kg(power_w_per_kg: np.ndarray, rate_hz: float) -> float:
    """Positive joint work summed over every dof (J/kg): the integral of max(power, 0)."""
    return float(np.maximum(np.asarray(power_w_per_kg), 0.0).sum() / rate_hz)


def filtered_power(moment: np.ndarray, velocity: np.ndarray, rate_hz: float,
                   cutoff_hz: float = GRF_CUTOFF_HZ) -> np.ndarray:
    """Joint power as gait laboratories compute it: the moment and the joint's angular velocity each
    low-pass filtered (at the forces' cut-off) before they are multiplied (Winter 2009, ch. 7). Servo
    vibration - moment and velocity oscillating together at tens of Hz - puts a positive product into
    every oscillation; the raw per-physics-step power integrates it as work, this one does not (the two
    side by side show how much of a policy's work is vibration)."""
    return lowpass(moment, rate_hz, cutoff_hz) * lowpass(velocity, rate_hz, cutoff_hz)


SAGITTAL_DOFS = (("hip", "hip_y"), ("knee", "knee"), ("ankle", "ankle_y"))  # Winter's three joints


def stance_slip_mm(slip_velocity_mps: np.ndarray, fz_bw: np.ndarray, rate_hz: float,
                   cutoff_hz: float | None = GRF_CUTOFF_HZ, net: bool = False,
                   min_stance_s: float = MIN_STANCE_S) -> list[float]:
    """Distance one foot's sole slid on the floor in each complete stance (mm): the integral of the speed
    of its slip velocity (``(T, 2)``, :class:`KineticsProbe`) over the stance of its filtered vertical
    force (:func:`gait_stances`: a scuff of the swinging foot is not a stance - counted as one, the v5
    walk's right-foot scuffs of 0.04 s halved its foot's median slide). The velocity is low-pass filtered at ``cutoff_hz`` first (None: raw), as the forces are: a
    servo's vibration of the loaded foot (tens of Hz, back and forth) is not a slide and would otherwise
    count as distance at every physics step. ``net=True``: the length of the stance's net displacement
    instead (the integral of the velocity vector: slides back and forth cancel) - a lower bound."""
    v = np.asarray(slip_velocity_mps, dtype=float)
    if cutoff_hz is not None:
        v = lowpass(v, rate_hz, cutoff_hz)
    if net:
        return [1000.0 * float(np.hypot(*v[a:b].sum(axis=0))) / rate_hz for a, b in gait_stances(fz_bw, rate_hz, min_stance_s)]
    speed = np.hypot(v[:, 0], v[:, 1])
    return [1000.0 * float(np.sum(speed[a:b])) / rate_hz for a, b in gait_stances(fz_bw, rate_hz, min_stance_s)]


def stride_peaks(x: np.ndarray, fz_bw: np.ndarray, rate_hz: float, min_stance_s: float = MIN_STANCE_S) -> list[float]:
    """Peak of ``|x|`` in each complete stride of one leg: from a heel strike (start of one of the
    :func:`gait_stances` of its filtered vertical force ``fz_bw``; a scuff opens no stride) to the next -
    how gait studies report a moment's peak (from the stride-normalised curve), and free of the start of
    an episode (the first heel strike opens the first stride)."""
    starts = [a for a, _ in gait_stances(fz_bw, rate_hz, min_stance_s)]
    return [float(np.abs(x[a:b]).max()) for a, b in zip(starts[:-1], starts[1:])]


def stride_peak_phases(x: np.ndarray, fz_bw: np.ndarray, rate_hz: float,
                       min_stance_s: float = MIN_STANCE_S) -> list[float]:
    """Where in each complete stride (as :func:`stride_peaks`) the peak of ``|x|`` falls, in % of the stride
    from heel strike (0) to the next heel strike (100) - how gait studies place a moment's peak (a knee
    extensor peak at ~15 % is loading response; at 30-45 % it is late stance, where a human knee is nearly
    straight and its moment small)."""
    starts = [a for a, _ in gait_stances(fz_bw, rate_hz, min_stance_s)]
    return [100.0 * float(np.argmax(np.abs(x[a:b]))) / (b - a) for a, b in zip(starts[:-1], starts[1:])]


def summary(series: dict[str, np.ndarray], rate_hz: float, actuator_names: tuple[str, ...],
            distance_m: float | None = None) -> dict[str, Any]:
    """Headline figures of a rollout's kinetics (``stack`` output at ``rate_hz``):

    * per-foot double-hump figures of the filtered vertical GRF (:func:`stance_figures`);
    * sagittal moments of hip (extension +), knee and ankle (plantarflexion +), filtered like the forces:
      ``peak_<joint>_moment_nm_per_kg`` the absolute peak over the whole series (the start of an episode
      included), ``stride_peak_<joint>_moment_nm_per_kg`` the median over complete strides of each
      stride's absolute peak (:func:`stride_peaks`; the larger of the two legs) - the figure to read
      against walking norms, which are peaks of a stride-normalised curve - and
      ``stride_peak_<joint>_moment_pct_stride`` where in the stride that leg's peaks fall (median, %
      from heel strike; :func:`stride_peak_phases`);
    * positive joint work: ``positive_work_j_per_kg`` over every dof, ``positive_work_sagittal_legs_j_per_kg``
      over hip, knee and ankle flexion/extension of both legs (the joints and axis of Winter's Table A.7,
      :data:`WALKING_NORMS`), each also per metre when ``distance_m`` is given - from the raw power of every
      physics step; ``positive_work_sagittal_legs_filtered_j_per_kg`` (and per metre) the same joints'
      work from :func:`filtered_power` (moment and velocity filtered first, as gait laboratories compute
      it; needs ``joint_velocity_rad_s``) - the gap between the two is servo vibration;
    * ``stance_slip_mm``: the median over both feet's complete stances of the distance the sole slid
      (:func:`stance_slip_mm`, filtered), per foot as ``<side>_stance_slip_mm``; ``stance_slip_net_mm`` the
      median length of a stance's net displacement (back-and-forth slides cancel: a lower bound);
    * ``brief_contacts`` (per foot ``<side>_brief_contacts``): floor contacts shorter than
      :data:`MIN_STANCE_S` - a swinging foot scuffing the floor (:func:`brief_contacts`), left out of the
      stance figures above."""
    grf = lowpass(series["grf_bw"][:, :, 2], rate_hz)
    out: dict[str, Any] = {"grf_cutoff_hz": GRF_CUTOFF_HZ, "rate_hz": rate_hz}
    for k, side in enumerate(("right", "left")):
        fig = stance_figures(grf[:, k], rate_hz)
        out[f"{side}_stances"] = fig.n_stances
        out[f"{side}_grf_first_peak_bw"] = fig.first_peak_bw
        out[f"{side}_grf_trough_bw"] = fig.trough_bw
        out[f"{side}_grf_second_peak_bw"] = fig.second_peak_bw
    moments = lowpass(series["moment_nm_per_kg"], rate_hz)
    for joint, dof in SAGITTAL_DOFS:
        cols = [actuator_names.index(f"{side}_{dof}") for side in ("right", "left")]
        out[f"peak_{joint}_moment_nm_per_kg"] = float(np.abs(moments[:, cols]).max())
        per_leg = [stride_peaks(moments[:, c], grf[:, k], rate_hz) for k, c in enumerate(cols)]
        legs = [k for k, p in enumerate(per_leg) if p]
        peak = phase = float("nan")
        if legs:  # the leg with the larger median peak: its peak and where in its strides it falls
            k = max(legs, key=lambda leg: np.median(per_leg[leg]))
            peak = float(np.median(per_leg[k]))
            phase = float(np.median(stride_peak_phases(moments[:, cols[k]], grf[:, k], rate_hz)))
        out[f"stride_peak_{joint}_moment_nm_per_kg"] = peak
        out[f"stride_peak_{joint}_moment_pct_stride"] = phase
    power = np.asarray(series["power_w_per_kg"])
    legs = [actuator_names.index(f"{side}_{dof}") for side in ("right", "left") for _, dof in SAGITTAL_DOFS]
    works = [("positive_work", positive_work_j_per_kg(power, rate_hz)),
             ("positive_work_sagittal_legs", positive_work_j_per_kg(power[:, legs], rate_hz))]
    if "joint_velocity_rad_s" in series:
        smooth = filtered_power(np.asarray(series["moment_nm_per_kg"])[:, legs],
                                np.asarray(series["joint_velocity_rad_s"])[:, legs], rate_hz)
        works.append(("positive_work_sagittal_legs_filtered", positive_work_j_per_kg(smooth, rate_hz)))
    for key, work in works:
        out[f"{key}_j_per_kg"] = work
        if distance_m is not None and distance_m > 0:
            out[f"{key}_j_per_kg_m"] = work / distance_m
    if "slip_velocity_mps" in series:
        slips, net = [], []
        for k, side in enumerate(("right", "left")):
            per = stance_slip_mm(series["slip_velocity_mps"][:, k], grf[:, k], rate_hz)
            net += stance_slip_mm(series["slip_velocity_mps"][:, k], grf[:, k], rate_hz, net=True)
            out[f"{side}_stance_slip_mm"] = float(np.median(per)) if per else float("nan")
            slips += per
        out["stance_slip_mm"] = float(np.median(slips)) if slips else float("nan")
        out["stance_slip_net_mm"] = float(np.median(net)) if net else float("nan")
    scuffs = [brief_contacts(grf[:, k], rate_hz) for k in range(2)]
    out["right_brief_contacts"], out["left_brief_contacts"] = scuffs
    out["brief_contacts"] = sum(scuffs)
    return out


FLIGHT_MIN_S = 0.05  # an airborne stretch shorter than this is not a flight (a walk has none, a run ~0.1 s)


def hand_figures(series: dict[str, np.ndarray], rate_hz: float) -> dict[str, float]:
    """Figures of the hands' support (a cartwheel, a handstand): per hand (``right_``/``left_`` prefixes) the
    peak vertical floor force (BW, filtered at :data:`GRF_CUTOFF_HZ` like the feet's) and the time the hand
    bore weight (filtered vertical force above :data:`STANCE_THRESHOLD_BW`, s); ``hand_peak_grf_bw`` the
    larger hand's peak. Empty when no hand touched the floor."""
    if "hand_grf_bw" not in series or not (series["hand_grf_bw"][:, :, 2] > 0.0).any():
        return {}
    fz = lowpass(series["hand_grf_bw"][:, :, 2], rate_hz)
    out = {}
    for k, side in enumerate(("right", "left")):
        out[f"{side}_hand_peak_grf_bw"] = float(fz[:, k].max())
        out[f"{side}_hand_support_s"] = float((fz[:, k] > STANCE_THRESHOLD_BW).sum() / rate_hz)
    out["hand_peak_grf_bw"] = max(out["right_hand_peak_grf_bw"], out["left_hand_peak_grf_bw"])
    return out


def jump_figures(series: dict[str, np.ndarray], rate_hz: float, actuator_names: tuple[str, ...]) -> dict[str, float]:
    """Take-off and landing figures of a jump: the longest stretch (>= :data:`FLIGHT_MIN_S`) in which the
    two feet's filtered vertical force stays under :data:`STANCE_THRESHOLD_BW` is the flight; the
    take-off is everything before it, the landing everything after. Per phase: the peak of the two feet's
    summed vertical force (BW, filtered at :data:`GRF_CUTOFF_HZ` like the gait figures - impact peaks at
    landing are higher unfiltered) and the peak absolute sagittal moments of hip, knee and ankle (N m/kg,
    filtered, the larger leg). Empty when there is no flight."""
    total = lowpass(series["grf_bw"][:, :, 2].sum(axis=1), rate_hz)
    air = np.concatenate([[False], total < STANCE_THRESHOLD_BW, [False]])
    edges = np.flatnonzero(np.diff(air.astype(int)))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if (b - a) / rate_hz >= FLIGHT_MIN_S]
    if not runs:
        return {}
    start, end = max(runs, key=lambda r: r[1] - r[0])
    moments = lowpass(series["moment_nm_per_kg"], rate_hz)
    out = {"flight_s": (end - start) / rate_hz}
    for phase, window in (("takeoff", slice(0, start)), ("landing", slice(end, len(total)))):
        if window.stop <= window.start:  # airborne from the first or to the last sample
            continue
        out[f"{phase}_peak_grf_bw"] = float(total[window].max())
        for joint, dof in SAGITTAL_DOFS:
            cols = [actuator_names.index(f"{side}_{dof}") for side in ("right", "left")]
            out[f"{phase}_peak_{joint}_moment_nm_per_kg"] = float(np.abs(moments[window][:, cols]).max())
    return out
