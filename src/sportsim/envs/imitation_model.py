"""The imitation env's model: the sportsim humanoid with its motors turned into PD servos, for the two
``body`` choices of :class:`sportsim.envs.imitation.ImitationEnv` (its class docstring, "PD control and the
body", is the spec), and the human body's velocity-dependent strength limits.

* :func:`build_spec` / :func:`build_model`: :func:`sportsim.humanoid.build_humanoid_spec` plus one position
  servo per actuated dof - ``body="human"`` (Imitation-v1 on) bounds the whole servo torque by the
  direction-dependent strengths of :mod:`sportsim.humanoid_limits`; ``body="deepmimic"`` (Imitation-v0)
  keeps DeepMimic's symmetric limits and passive damping.
* :class:`StrengthLimits`: lowers the human body's torque bounds with the joint velocity (Hill's
  torque-velocity relation) once per control step.
* :class:`ServoFeedforward`: the servos' damping about the reference's joint velocity (Imitation-v6).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mujoco
import numpy as np

from sportsim import humanoid
from sportsim import humanoid_limits as limits

BODIES = ("human", "deepmimic")
# human body: each servo reaches its joint's strength at this error (= action_scale_rad's default, so a full
# residual action can call on the full strength); damping/stiffness as DeepMimic's humanoid3d (Kd = Kp/10)
SERVO_FULL_STRENGTH_RAD = 0.5
KD_PER_KP = 0.1


class StrengthLimits:
    """Writes each actuator's torque bounds into ``model.actuator_forcerange`` from its joint velocity:
    isometric strength (:mod:`sportsim.humanoid_limits`, x body mass) x the torque-velocity factor, for
    the + and the - direction separately (concentric in one is eccentric in the other).

    Updated once per control step (33 ms at 30 Hz), from the velocities the step starts with: the
    bound lags the velocity by at most that - the time scale on which muscle force follows its
    excitation (OpenSim's Thelen 2003 muscle: activation 15 ms, deactivation 50 ms) - and the four
    physics steps then run in one engine call. Updating at every physics step cost 30 % of the env's
    speed (6.4x instead of ~9x PyBullet's DeepMimic env, ``scripts/bench_imitation_speed.py``)."""

    def __init__(self, model: mujoco.MjModel, mass_kg: float, plantarflexor_scale: float = 1.0,
                 profile: str = "dynamometer") -> None:
        self._model = model
        names = humanoid.ACTUATOR_NAMES
        table = [limits.strength(n, plantarflexor_scale, profile) for n in names]
        self._dof = humanoid.actuator_dofs(model)
        self._iso = np.array([[s.negative_nm_per_kg, s.positive_nm_per_kg] for s in table]) * mass_kg
        self._sign = np.array([-1.0, 1.0])
        # limits.torque_velocity_factor, unrolled for speed (it runs at every physics step): the velocity in
        # each direction's sense scaled by 1/omega_max; concentric hyperbola x eccentric rise (one of the
        # two is 1 at any velocity)
        wmax = np.array([[s.omega_max_negative, s.omega_max_positive] for s in table])
        half = np.array([[s.tv_half_negative, s.tv_half_positive] for s in table])
        self._scale = self._sign / wmax
        self._inv_k = (0.5 / half - 1.0) / 0.5
        self._ecc_gain = np.array([[s.eccentric_max - 1.0] * 2 for s in table])
        self._signed_iso = self._iso * self._sign
        # the two paths side by side, so that one NumPy call serves both where they do the same: [0] the
        # concentric one (from w = v / omega_max), [1] the eccentric one (from -w: max(-w, 0) = -min(w, 0), exact)
        self._scale2 = np.stack([self._scale, -self._scale])
        self._k2 = np.stack([self._inv_k, np.full_like(self._inv_k, -5.0)])
        self._paths, self._terms = np.zeros((2, model.nu, 2)), np.zeros((2, model.nu, 2))
        self._factor = np.zeros((model.nu, 2))
        contiguous = len(self._dof) and np.array_equal(self._dof, np.arange(self._dof[0], self._dof[0] + len(self._dof)))
        self._dof_slice = slice(int(self._dof[0]), int(self._dof[0]) + len(self._dof)) if contiguous else None

    def update(self, data: mujoco.MjData) -> None:
        # in place on preallocated buffers, 12 NumPy calls: this runs every control step (it was 20 % of one)
        paths, terms, factor = self._paths, self._terms, self._factor
        qvel = data.qvel[self._dof_slice] if self._dof_slice is not None else data.qvel[self._dof]
        np.multiply(qvel[:, None], self._scale2, out=paths)  # w, -w
        np.maximum(paths, 0.0, out=paths)  # concentric part of w, -(eccentric part)
        np.multiply(paths, self._k2, out=terms)  # conc x inv_k, 5 min(w, 0)
        conc, ecc = terms[0], terms[1]
        np.subtract(1.0, paths[0], out=factor)
        np.maximum(factor, 0.0, out=factor)
        np.exp(ecc, out=ecc)
        np.subtract(1.0, ecc, out=ecc)
        ecc *= self._ecc_gain
        terms += 1.0  # both: 1 + conc x inv_k and 1 + gain (1 - exp(5 min(w, 0)))
        factor /= conc  # concentric: Hill's hyperbola (1 where w <= 0)
        factor *= ecc  # eccentric rise (1 where w >= 0)
        np.multiply(self._signed_iso, factor, out=self._model.actuator_forcerange)


def build_spec(height_m: float, mass_kg: float, sex: str, physics_dt_s: float,
               pd_gain_scale: float = 1.0, body: str = "human", plantarflexor_scale: float = 1.0,
               strength_profile: str = "dynamometer", activation_time_s: float = 0.0) -> mujoco.MjSpec:
    """The humanoid (:func:`sportsim.humanoid.build_humanoid_spec`) with its motors turned into the PD
    servos of the class docstring: one position actuator per dof (gear = unit axis, Kp).

    * ``body="human"`` (Imitation-v1): Kp = min(DeepMimic's, strength / ``SERVO_FULL_STRENGTH_RAD``), Kd =
      Kp / 10; the damping Kd qdot is part of the actuator (``biasprm[2]``), so
      the whole servo torque is bounded by ``forcerange``: the direction-dependent isometric strength of
      :mod:`sportsim.humanoid_limits` x body mass (the env lowers it with the joint velocity every control
      step); targets clamped to the anatomical ranges (``ctrlrange``); ball-joint cones at the largest
      anatomical excursion; de Leva's radii on their own axes. ``plantarflexor_scale``: the ankles'
      plantarflexion strength x this (:data:`sportsim.humanoid_limits.GAIT_PLANTARFLEXOR_SCALE`);
      ``strength_profile``: one of :data:`sportsim.humanoid_limits.STRENGTH_PROFILES`.
    * ``body="deepmimic"`` (Imitation-v0): DeepMimic's symmetric limits scaled to the body, Kd as a passive
      joint damper outside the limit, DeepMimic's cones, the swapped inertia axes.
    * ``activation_time_s`` > 0 (human body; Imitation-v10): each servo's target reaches its torque through a
      first-order lag of that time constant, as a muscle's activation does - MuJoCo's own activation state
      (``dyntype`` filterexact, ``dynprm[0]`` = the time constant; the gain multiplies ``act``, not ``ctrl``):
      the torque no longer jumps at every control step."""
    legacy = body == "deepmimic"
    spec = humanoid.build_humanoid_spec(height_m, mass_kg, sex, legacy_inertia_axes=legacy)  # type: ignore[arg-type]
    spec.option.timestep = physics_dt_s
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    # one kinematic tree: island discovery finds nothing to split and costs ~6 % of a step
    spec.option.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_ISLAND)
    gains = humanoid.pd_gains(height_m, mass_kg)
    for name, gain in gains.items():
        joint = spec.joint(name)
        if legacy:
            joint.damping[0] = gain.kd_nms_per_rad * pd_gain_scale
        else:
            joint.damping[0] = 0.0
            if joint.type == mujoco.mjtJoint.mjJNT_BALL:
                joint.range = [0.0, limits.cone_rad(name)]
                joint.limited = mujoco.mjtLimited.mjLIMITED_TRUE
            else:
                joint.range = list(limits.range_rad(name))
    for name in humanoid.ACTUATOR_NAMES:
        act = spec.actuator(name)
        joint = name if name in gains else name.rsplit("_", 1)[0]
        axis = 0 if name == joint else "xyz".index(name[-1])
        kp, kd = gains[joint].kp_nm_per_rad * pd_gain_scale, gains[joint].kd_nms_per_rad * pd_gain_scale
        gear = [0.0] * 6
        gear[axis] = 1.0
        act.gear = gear
        act.gaintype = mujoco.mjtGain.mjGAIN_FIXED
        act.gainprm = [kp] + [0.0] * 9
        act.biastype = mujoco.mjtBias.mjBIAS_AFFINE
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        if legacy:
            limit = gains[joint].torque_limit_nm
            act.biasprm = [0.0, -kp] + [0.0] * 8
            act.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
            act.forcerange = [-limit, limit]
        else:
            s = limits.strength(name, plantarflexor_scale, strength_profile)
            # stiffness scaled to strength: DeepMimic's Kp would saturate the weak axes (trunk rotation,
            # ankle inversion, hip rotation) at 3-5 deg of error - a bang-bang servo the policy cannot
            # steer (61 % of servo-steps at a limit with the v0 walk's actions, 3 % with this rule)
            kp = min(kp, max(s.positive_nm_per_kg, s.negative_nm_per_kg) * mass_kg / SERVO_FULL_STRENGTH_RAD)
            kd = kp * KD_PER_KP
            act.gainprm = [kp] + [0.0] * 9
            act.biasprm = [0.0, -kp, -kd] + [0.0] * 7
            act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.ctrlrange = list(limits.range_rad(name))
            act.forcerange = [-s.negative_nm_per_kg * mass_kg, s.positive_nm_per_kg * mass_kg]
            if activation_time_s > 0.0:
                act.dyntype = mujoco.mjtDyn.mjDYN_FILTEREXACT
                act.dynprm = [activation_time_s] + [0.0] * 9
    return spec


def build_model(height_m: float, mass_kg: float, sex: str, physics_dt_s: float,
                pd_gain_scale: float = 1.0, body: str = "human", plantarflexor_scale: float = 1.0,
                strength_profile: str = "dynamometer", activation_time_s: float = 0.0) -> mujoco.MjModel:
    """:func:`build_spec`, compiled."""
    return build_spec(height_m, mass_kg, sex, physics_dt_s, pd_gain_scale, body, plantarflexor_scale,
                      strength_profile, activation_time_s).compile()


SERVO_VELOCITIES = ("zero", "reference")


def limit_servo_damping(model: mujoco.MjModel, limit: float) -> np.ndarray:
    """Cap each servo's damping at ``limit`` x I / h (``servo_damping_limit``, Imitation-v7); returns the
    servos' Kd after the cap (N m s/rad; the model's ``biasprm[:, 2]`` is set to minus it).

    A servo at its strength bound exerts a constant torque for the whole physics step: MuJoCo leaves a
    clamped actuator out of the implicit damping of the velocity update (its force no longer depends on the
    velocity). A step at the bound S changes the joint's velocity by about h S / I, while the servo is
    unclamped only inside a velocity window (S_+ + S_-) / Kd wide. When h Kd / I > (S_+ + S_-) / S - between
    1 and 2, 2 for symmetric bounds - a full-strength step jumps over that window and the servo lands on the
    other bound, and again: a bang-bang limit cycle. Kd = Kp / 10 gives the ankle's plantar/dorsiflexion
    h Kd / I = 13 at h = 1/120 s (the foot's 0.0165 kg m^2 with the armature): the v6 walk's swing ankle sat
    at a bound in 14 % of swing physics steps with sign flips step to step (velocity above 15 Hz 7.5 rad/s
    rms; v5's 0.07). ``limit`` = 2 removes the flips (the v6 walk's policy on the capped model: 0 % clamped,
    0.4 rad/s rms; the v7 walk trained on it: 3 % clamped, no flips, 1.7 rad/s - its servo ringing at its
    natural frequency) and puts the free foot's servo near critical damping (Kd = 3.8 against
    2 sqrt(Kp I) = 4.1).

    I is the smallest inertia the servo drives: the dof's effective inertia 1 / (M^-1)_ii of the floating
    body at the model's rest pose (the segment swinging freely; a stance leg drives more). Only dofs whose
    Kd is above the bound change (ankles, knees, elbows, shoulder rotation, hip flexion and rotation,
    trunk flexion at 1/120 s)."""
    m = model
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    mass_matrix = np.zeros((m.nv, m.nv))
    mujoco.mj_fullM(m, d, mass_matrix)
    inertia = 1.0 / np.diag(np.linalg.inv(mass_matrix))[humanoid.actuator_dofs(m)]
    kd = np.minimum(-m.actuator_biasprm[:, 2], limit * inertia / m.opt.timestep)
    m.actuator_biasprm[:, 2] = -kd
    return kd


class ServoFeedforward:
    """The servos' damping about the reference's joint velocity instead of about rest (``servo_velocity=
    "reference"``, Imitation-v6): torque = clip(Kp (target - q) + Kd (v_ref - qdot), forcerange).

    With a velocity target of zero (v0-v5) the damping term -Kd qdot brakes every fast movement the reference
    asks for, inside the strength bound: at the DeepMimic run's 10 rad/s knee and hip speeds Kd qdot is
    8.2 and 4.8 N m/kg, more than the knee's and hip's strength (and than the 4.1 / 2.5 N m/kg a full
    residual action adds), so the strength went into the damper and the take-offs of the run and the kick
    saturated (issue 20). A tracking servo damps the velocity *error*. MuJoCo's position actuator computes
    Kp ctrl - Kp q - Kv qdot; shifting its target by Kv/Kp x v_ref gives exactly the torque above while the
    damping stays inside the actuator (implicit, bounded by ``forcerange``). The anatomical clamp of the
    target (``ctrlrange``) is applied before the shift, here, because MuJoCo's own clamp would apply it
    after; so the model's ``ctrllimited`` is switched off for the env's model.

    ``v_ref`` is the actuator's velocity of the reference (for a ball joint the component of the joint's
    angular velocity along the actuator's axis: the quantity MuJoCo damps), at the end of the control step
    - the instant of the pose target."""

    def __init__(self, model: mujoco.MjModel, tracks: Sequence[Any]) -> None:
        m = model
        ratio = -m.actuator_biasprm[:, 2] / m.actuator_gainprm[:, 0]  # Kv / Kp of each servo
        dofs = humanoid.actuator_dofs(m)  # each servo acts along one dof: its gear selects one axis
        axis = dofs - m.jnt_dofadr[m.actuator_trnid[:, 0]]
        scale = ratio * m.actuator_gear[np.arange(m.nu), axis]
        limited = m.actuator_ctrllimited.astype(bool)
        self.low = np.where(limited, m.actuator_ctrlrange[:, 0], -np.inf)
        self.high = np.where(limited, m.actuator_ctrlrange[:, 1], np.inf)
        #: per track, (K, nu): the target shift Kv/Kp x v_ref at each reference step
        self.shifts = tuple(np.ascontiguousarray(t.qvel[:, dofs] * scale) for t in tracks)
        m.actuator_ctrllimited[:] = 0  # clamped here, before the shift

    def apply(self, ctrl: np.ndarray, clip: int, k: int) -> None:
        """Clamp the pose targets in ``ctrl`` to the anatomical ranges and add the velocity shift of reference step ``k``."""
        np.maximum(ctrl, self.low, out=ctrl)  # the ufuncs directly: np.clip's wrapper costs ~2 us a control step
        np.minimum(ctrl, self.high, out=ctrl)
        np.add(ctrl, self.shifts[clip][k], out=ctrl)
