"""``sportsim/Imitation-v5`` (and ``-v4`` ... ``-v0``): the sportsim humanoid tracks a motion capture, DeepMimic style (MuJoCo).

This module is the env - its class docstring is the spec - and the gymnasium API. The parts it is built from:

* model: ``envs/humanoid.xml`` sized by :func:`sportsim.humanoid.build_humanoid_spec` (its header and
  :mod:`sportsim.humanoid` document masses, proportions, joint limits and PD gains), turned into PD servos
  for the ``body`` chosen, and the human body's strength limits: :mod:`sportsim.envs.imitation_model`;
* reference motions, loops, skills and the DeepMimic constants: :mod:`sportsim.envs.imitation_params`;
  several clips: :mod:`sportsim.envs.imitation_clips`;
* the comparison with the reference (errors, metrics, observation, the foot terms):
  :mod:`sportsim.envs.imitation_compare`; the reward from the errors: :mod:`sportsim.envs.rewards`;
* episode kinetics figures: :mod:`sportsim.envs.imitation_episode_kinetics`; rendering with the reference
  beside the humanoid: :mod:`sportsim.envs.imitation_render`.

``BODIES``, ``SERVO_FULL_STRENGTH_RAD``, ``KD_PER_KP``, :func:`build_spec`, :func:`build_model` and
``KINETICS_TB_METRICS`` are still importable from here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from sportsim import humanoid
from sportsim import kinetics as kin
from sportsim.humanoid_limits import STRENGTH_PROFILES
from sportsim.coach.forces import RECORD_PANEL
from sportsim.envs import imitation_clips as clips
from sportsim.envs import imitation_params as ip
from sportsim.envs.imitation_compare import FootComparison, ReferenceComparison
from sportsim.envs.imitation_episode_kinetics import KINETICS_TB_METRICS, EpisodeKinetics
from sportsim.envs.imitation_model import (BODIES, KD_PER_KP, SERVO_FULL_STRENGTH_RAD, SERVO_VELOCITIES,
                                         ServoFeedforward, StrengthLimits, build_model, build_spec,
                                         limit_servo_damping)
from sportsim.envs.imitation_render import GhostRenderer
from sportsim.envs.rewards import ImitationRewardWeights, imitation_reward_terms
from sportsim.errors import ConfigError, ModelFileError
from sportsim.sim import make_engine

__all__ = ["ACTION_MODES", "BODIES", "KD_PER_KP", "KINETICS_TB_METRICS", "SERVO_FULL_STRENGTH_RAD", "ImitationEnv",
           "build_model", "build_spec"]

ACTION_MODES = ("residual", "absolute")
_FRESH_STATE = mujoco.mjtState.mjSTATE_INTEGRATION  # what reset restores (see __init__)
#: ``integrator``: MuJoCo's integrators the env offers (see "Simulation")
INTEGRATORS = {"implicitfast": mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
               "discrete": mujoco.mjtIntegrator.mjINT_DISCRETE}
_BADQACC = int(mujoco.mjtWarning.mjWARN_BADQACC)
_INFO_KEYS = tuple((f"reward_{t}", f"similarity_{t}", f"error_{t}") for t in ImitationRewardWeights.TERMS)
_NO_REWARD = (0.0,) * len(ImitationRewardWeights.TERMS)


class ImitationEnv(gym.Env):
    """The sportsim humanoid imitates a reference motion from motion capture, DeepMimic style [R30].

    ## Description
    A physically simulated humanoid - DeepMimic's humanoid3d joint tree (8 ball joints, 4 hinges, a
    free root) with de Leva (1996) segment masses, lengths and inertias [R27] and clinical joint limits
    (``envs/humanoid.xml``) - is driven by PD servos towards joint targets chosen by the policy 30 times
    a second, and is rewarded for matching a reference motion: a motion-capture clip retargeted onto the
    same humanoid (:mod:`sportsim.mocap.retarget`). ``motion`` takes any capture sportsim reads - BVH,
    Xsens MVNX, DeepMimic ``.txt``/``.json``, a clip ``.npz`` - or a reference motion ``.npz`` from
    ``python -m sportsim.mocap convert``; a list of files trains one policy on several clips. The
    humanoid is built at the first motion's size (the performer's stature estimated from the legs,
    unless ``humanoid_height_m`` is given); other clips are retargeted to it.

    Several clips (a list, or ``task="walk_run"``): every reset draws the clip the episode tracks -
    uniformly, or by ``clip_weights`` ("length": in proportion to the steps an episode of it covers;
    "adaptive": by how much of it recent episodes failed to complete; or one number per clip) - and then its
    start phase; ``info["clip"]`` is its index in the list
    (``clip_names``). The observation is the same as with one clip, with no clip index: it already holds
    where the reference goes next, which is what the action depends on, so one layout serves any number
    of clips and a single-clip policy is a starting point for a multi-clip one
    (:mod:`sportsim.envs.imitation_clips` says why and how the clips are drawn).

    Cyclic motion loops (``loop``): the reference keeps going with its heading and horizontal position
    carried forward from one cycle to the next, so a 1.1 s gait cycle becomes a walk of any length.
    With ``loop="auto"`` a clip whose last frame matches its first, or a DeepMimic motion file that
    declares ``"Loop": "wrap"``, loops as a whole; otherwise the
    best-matching cycle inside it (at least 0.5 s long, seam within 8 deg - see
    :func:`~sportsim.envs.imitation_params.find_cycle`) is cut out and looped, e.g. one gait cycle of
    the shipped CMU walk; a clip without one is played once. ``env.unwrapped.track_notes`` says what
    was done with each clip.

    Skills (a jump, a cartwheel, a kick) are clips played once (``loop=False``), and a skill has a start
    and an end: ``stand_before_s`` holds the clip's first pose still before it and ``stand_after_s``
    its last pose after it (zero reference velocity), so the humanoid starts from a stand and must land
    and stay up. ``task`` names a skill (:data:`sportsim.envs.imitation_params.SKILLS`: its clip, frame
    window, loop and stands, each with its source): ``task="jump"`` is the shipped CMU forward jump, played
    once between a 0.5 s and a 1 s stand; on the command line ``task=<skill>`` (``configs/env/imitation.yaml``).

    ## Action Space
    ``Box(-1, 1, (28,), float32)``: one value per actuated degree of freedom, in the humanoid's actuator
    order (:data:`sportsim.humanoid.ACTUATOR_NAMES`: chest x y z, neck x y z, right shoulder x y z, right
    elbow, left shoulder x y z, left elbow, right hip x y z, right knee, right ankle x y z, left hip x y
    z, left knee, left ankle x y z). Ball joints are set by the three components of a rotation vector
    (axis x angle, in the child body's frame, the frame its motors push in), hinges by their angle.

    * ``action_mode="residual"`` (default): PD target = the reference pose at the end of the control
      step + ``action_scale_rad`` x action, per component. Zero action tracks the reference with the
      PD servos alone (the walk, from any phase, for about 0.7 s before it falls); the policy learns
      the corrections that keep the balance. Chosen over DeepMimic's absolute targets for PPO's sample
      budget: from the first update on, episodes start and stay near the motion instead of in a
      random pose.
    * ``action_mode="absolute"``: PD target = the middle of each joint's range + half the range x
      action (DeepMimic [R28]); ball joints with a cone limit r span +-r per component, unlimited ones
      (shoulders) +-pi.

    Out-of-range values are clipped, NaN counts as 0.

    ## PD control and the body (``body``)
    One position servo per actuated dof with DeepMimic's humanoid3d gains scaled by weight and stature
    (:func:`sportsim.humanoid.pd_gains`; ``pd_gain_scale`` scales Kp and Kd). For ball joints q is the
    rotation vector of the joint quaternion per child-frame axis (MuJoCo's ball-joint actuator length):
    the servo pulls each component to its target. Targets change at the control rate; the servos run at
    the physics rate; ``implicitfast`` integrates the damping implicitly (DeepMimic's Kd = Kp/10 on a
    forearm's small twist inertia needs a 0.25 ms step explicitly, tests/test_humanoid_model.py).

    * ``body="human"`` (v1, default): torque = clip(Kp (target - q) - Kd qdot, -S_-(qdot), S_+(qdot)) -
      the damping is part of the servo, so the whole joint torque is bounded. Kp is DeepMimic's or, where
      smaller, the joint's strength / 0.5 rad (a full residual action reaches the full strength; with
      DeepMimic's stiffness the weak axes saturated at 3-5 deg of error), Kd = Kp / 10. S_+ and S_- are the
      direction-dependent isometric strengths of :mod:`sportsim.humanoid_limits` (elite-gymnast knee
      flexion 1.42 / extension 4.10 N m/kg, ankle plantarflexion 1.83 / dorsiflexion 0.64, hip extension
      2.53 / flexion 2.26, ...; Jackson 2010 via Millard et al. 2019, and cited values for the other
      axes) x body mass x a torque-velocity factor (Hill's hyperbola through Millard's torque at half
      the maximal velocity; 0 beyond it; up to 1.1-1.4x when lengthening), updated every control step
      from the joint velocity (:class:`~sportsim.envs.imitation_model.StrengthLimits`). Ball joints are
      limited per anatomical axis (flexion/extension about y, ab/adduction about x, rotation about z, in
      the child body's frame). Targets are clamped to the anatomical ranges per axis (``ctrlrange``; hips
      flexion 120 / extension 30, ankles dorsiflexion 20 / plantarflexion 50 deg, ...); the ball joints'
      cones sit at the largest excursion. de Leva's radii of gyration on their own axes
      (:func:`sportsim.humanoid._limb_inertia`). The reference is retargeted with planted feet and clamped
      to the same ranges (:mod:`sportsim.mocap.retarget`).
    * ``body="deepmimic"`` (v0): torque = clip(Kp (target - q), -limit, limit) - Kd qdot with DeepMimic's
      symmetric limits scaled by weight and stature, Kd a passive joint damper outside the limit, one
      cone per ball joint, the swapped inertia axes; the reference as the source gives it.
    * ``servo_velocity="reference"`` (v6; human body): the servo damps the velocity *error*, torque =
      clip(Kp (target - q) + Kd (v_ref - qdot), -S_-(qdot), S_+(qdot)), v_ref the reference's joint
      velocity at the end of the control step (for ball joints along each servo's axis). With v1-v5's
      zero velocity target the damper -Kd qdot brakes every movement the reference asks for, inside the
      strength bound: at the DeepMimic run's 10 rad/s, Kd qdot is 8.2 N m/kg at the knee and 4.8 at the
      hip - more than their strength - and the run's and the kick's take-offs saturated. Implemented as
      a target shift of Kd/Kp x v_ref on MuJoCo's position servo (the damping stays implicit and inside
      ``forcerange``), with the anatomical clamp of the pose target applied by the env before the shift
      (:class:`~sportsim.envs.imitation_model.ServoFeedforward`).
    * ``servo_damping_limit`` (v7: 2; human body): each servo's Kd capped at that x I / h, I the dof's
      effective inertia with the body floating at rest, h ``physics_dt_s``. A servo at its strength bound is
      a constant torque over the step (MuJoCo's implicit damping leaves clamped actuators out), so with
      h Kd / I above (S_+ + S_-) / S (1-2) a full-strength step jumps the servo's unclamped velocity window
      and it flips bound every step: v6's swing ankle (h Kd / I = 13) did in 14 % of the walk's swing steps. The cap lowers
      the ankles', knees', elbows' and a few more servos' Kd (ankle flexion 25.6 -> 3.8 N m s/rad, near
      the free foot's critical damping); Kp and the strength are unchanged
      (:func:`~sportsim.envs.imitation_model.limit_servo_damping`).

    ## Observation Space
    ``Box(-inf, inf, (263,), float32)`` for one clip or several, DeepMimic-style [R28, R29]:
    the humanoid described in its *heading frame* (origin at the root, the mid-hip point; x = the
    pelvis's forward axis projected on the floor; z up), plus the motion phase and where the reference
    goes next. Velocities and poses are those at the end of the control step.

    | idx | observation | unit |
    |-----|-------------|------|
    | 0 | phase: fraction of the cycle (looping) or of the clip with its stands (played once) done | - |
    | 1-2 | sin, cos of 2 pi phase | - |
    | 3 | root height above the floor | m |
    | 4-45 | positions of the 14 other bodies' origins (joint centres) relative to the root, heading frame | m |
    | 46-90 | orientation of the 15 bodies in the heading frame: each body's x axis (first rotation-matrix column) | - |
    | 91-135 | each body's y axis (second column; with the x axis a continuous 6D rotation) | - |
    | 136-180 | linear velocity of the 15 body origins, heading frame | m/s |
    | 181-225 | angular velocity of the 15 bodies, heading frame | rad/s |
    | 226-253 | reference joint coordinates at the end of the next control step minus the current ones (actuator order, as the action) | rad |
    | 254-256 | reference root position at the end of the next control step relative to the root, heading frame | m |
    | 257-262 | reference root orientation then, heading frame (x and y axes) | - |

    Bodies (MuJoCo order): pelvis, chest, neck (head), right_shoulder (upper arm), right_elbow
    (forearm), right_wrist (hand), left_shoulder, left_elbow, left_wrist, right_hip (thigh),
    right_knee (shank), right_ankle (foot), left_hip, left_knee, left_ankle.

    ## Rewards
    DeepMimic's imitation reward (the published code's values, not the paper's [R28, R29];
    :func:`sportsim.envs.rewards.imitation_reward`), every term in ``info["reward_<term>"]``:

        reward = sum over terms of  w_term / (sum of w) * exp(-scale_term * err_term)     in [0, 1]

    * ``pose`` (w 0.5, scale 2): sum over joints of w_j x (rotation angle between the simulated and
      the reference joint rotation)^2, hinges (angle difference)^2, plus the root's weight x the root
      orientation error^2. w_j = DeepMimic's humanoid3d joint weights (root 1, chest 0.5, neck 0.3,
      hip 0.5, knee 0.3, ankle 0.2, shoulder 0.3, elbow 0.2) / 4.8.
    * ``velocity`` (w 0.05, scale 0.1): the same with the joint velocity differences (rad/s; root:
      angular velocity in the world frame).
    * ``end_effector`` (w 0.15, scale 40): mean over hands and feet of the squared distance (m^2)
      between simulated and reference positions, each taken relative to its own root in its own heading
      frame, heights above the floor.
    * ``root`` (w 0.2, scale 5): |root position error|^2 + 0.1 |root rotation angle|^2 + 0.01 |root
      velocity error|^2 + 0.001 |root angular velocity error|^2 (world frame).
    * ``com`` (w 0.1, scale 10): 0.1 |centre-of-mass velocity error|^2.
    * ``foot_slip`` (sportsim's; w 0 in v0 and v1, 0.1 in v2; scale 100): the mean over the feet touching
      the floor at the end of the control step of the squared horizontal speed ((m/s)^2) of the foot's
      material point at the middle of its contacts - 0.1 m/s keeps exp(-1) of the term. The reference's
      stance feet are planted (``sportsim.mocap.retarget``), but DeepMimic's terms barely notice a
      simulated stance foot sliding or rocking under the body: the v1 zoo walk's soles slide 5-10 cm
      per stance (``scripts/imitation_kinetics.py``: ``stance_slip_mm``), corner contacts pulling
      against each other at the friction limit - friction and contact settings do not stop a policy
      that drives its feet that way. Reported (``reward_foot_slip`` etc.) only where its weight is > 0.
    * ``foot_contact`` (sportsim's; w 0 up to v4, 0.1 in v5; scale 2): the fraction of the two feet (0,
      0.5 or 1) whose floor contact at the end of the control step differs from the reference's stance
      flag (the planted-feet reference's contacts, ``ReferenceTrack.foot_contacts``) - one foot of two
      wrong keeps exp(-1) of the term. The v1-v4 walks lift the stance foot about two control steps
      before the reference's toe-off, still dorsiflexed (no push-off), and land it moving; DeepMimic's
      terms pay nothing for the timing. Reported only where its weight is > 0.

    Weights and scales are constructor arguments (a weight of 0 switches a term off). ``info`` also
    holds ``similarity_<term>`` = exp(-scale err) (1 = perfect tracking) and ``error_<term>``.

    ## Tracking metrics (``info``, every step)
    * ``mpjpe_mm``: mean distance between simulated and reference positions of the 13 joint centres and
      the 5 end-effector sites (head, hands, feet), world frame, mm;
    * ``mpjpe_root_relative_mm``: the same after subtracting each humanoid's root position;
    * ``joint_angle_error_deg``: mean over the 12 joints of the rotation angle between simulated and
      reference joint rotation (hinges: the angle difference), degrees;
    * ``clip_fraction_completed``: the fraction of this episode's stretch of the reference (from the
      start frame to the end of the clip or of ``episode_time_s``) done so far without falling;
      ``is_success`` is True once it reaches 1 (the evaluation's success rate).

    ``metadata["tb_metrics"]`` lists them for TensorBoard: :class:`sportsim.callbacks.RewardTermsCallback`
    logs ``metrics/<name>`` for training episodes and :class:`sportsim.callbacks.MetricsEvalCallback`
    ``eval/<name>`` for evaluations - the episode mean, or the last value for ``clip_fraction_completed``.

    ## Starting State
    Reference state initialisation (``rsi=True``, DeepMimic's [R30]): a clip drawn (``clip_weights``), a start
    step drawn uniformly (or, ``phase_weights="adaptive"``, where training tracks worst) over its cycle
    (looping) or over the whole clip played once - the stands before and after it included - but its last
    step, and the humanoid set to the reference's pose and velocities there (joint, root, everything). ``rsi=False`` starts at frame 0; among several clips a
    reset with a seed draws the clip, one without a seed takes the next clip in the list - so n
    consecutive evaluation episodes (SB3 seeds its evaluation env once) cover each of n clips once.
    ``reset(options={"start_phase": p, "clip": i})`` starts at
    phase ``p`` in [0, 1] of clip ``i``; either key may be left out. The phase is quantised to the
    control steps (1/30 s).

    ## Episode End
    Terminated when a body other than the feet (``support_bodies``) touches the floor (``terminate_on_fall``;
    ``info["fall"] == "contact"``), when the mean joint position error ``mpjpe_mm`` exceeds
    ``max_tracking_error_m`` (``terminate_on_tracking_error``; ``info["fall"] == "tracking"``), when a
    clip played once reaches its last step (its stand after included), or if the physics produced a
    non-finite state (``info["fall"] == "physics_error"``). Truncated after ``episode_time_s``.

    The end of a clip played once is a success, not a failure and not a truncation: ``terminated`` (the
    task is over - nothing is left to imitate, so nothing is bootstrapped beyond it), ``info["fall"]``
    None, ``info["motion_ended"]`` and ``info["is_success"]`` True, ``clip_fraction_completed`` 1. A fall
    ends the episode the same way but without the rewards still to come - which the stand after makes
    worth keeping: a humanoid that falls on landing loses them.

    ## Kinetics (``kinetics=True``)
    ``info["kinetics"]`` holds the control step's physics steps (:class:`sportsim.kinetics.KineticsProbe`):
    ``grf_bw`` (n, 2, 3) ground reaction force of the right and left foot in body weights (world frame,
    the floor's force on the foot), ``cop_m`` (n, 2, 3) centre of pressure (zeros off the floor),
    ``foot_contact`` (n, 2), ``moment_nm_per_kg`` (n, 28) net joint moment per actuated dof (servo +
    passive + joint-limit torque), ``power_w_per_kg`` (n, 28) = moment x joint velocity and
    ``slip_velocity_mps`` (n, 2, 2) the horizontal velocity of each foot's sole under its centre of pressure
    (0 off the floor), ``hand_grf_bw`` (n, 2, 3) the floor's force on each hand; and episode
    figures for TensorBoard and ``enjoy`` (``metadata["tb_metrics"]``): ``kinetics_peak_grf_bw`` (largest
    control-step mean vertical force of a foot), ``kinetics_peak_{hip,knee,ankle}_moment_nm_per_kg``
    (sagittal, control-step means) and ``kinetics_positive_work_j_per_kg``. Filtering and gait figures:
    :mod:`sportsim.kinetics`, ``scripts/imitation_kinetics.py`` (CSV per physics step, walking norms, the
    same episode at a 4x smaller step). Off by default: the probe costs a Python loop over the contacts
    at every physics step.

    ## Simulation
    MuJoCo, ``implicitfast`` integrator (v6: ``discrete``), ``physics_dt_s`` = 1/120 s (4 steps per 1/30 s
    control step): the servos' stiffness (the fastest joint mode, the foot about the ankle, ~225 rad/s) and the soft
    contacts (time constant 20 ms) are integrated stably: the servos hold a standing reference within
    15 mm (tests/test_imitation.py), an open-loop landing's force converges (tests/test_humanoid_v1.py),
    and with zero action on the walk 1/240 s and 1/480 s change the root-relative tracking error of the
    first 1/3 s by 1-2 mm (of 60 mm) at twice and four times the cost. A trained walk's forces do not
    converge with the step: the v1 zoo walk's per-foot GRF trough is 0.52 BW at 1/120 s, 0.66 at 1/240 s
    and 0.70 at 1/480 s, and the same walk fine-tuned at 1/240 s (1.45M steps) tuned itself to that step
    (trough 0.32 there, 0.50 at 1/480 s) - so a smaller step alone was not adopted (it also costs 1.45x
    the time per control step). Its stance feet slide 5-10 cm per stance (``kinetics`` ``slip_velocity_mps``);
    MuJoCo's noslip pass and impratio do not stop it; part of it is the servos' implicit damping, which
    MuJoCo applies after the contact solve (google-deepmind/mujoco#3443). Measured with
    ``scripts/imitation_kinetics.py --refine``. ``integrator="discrete"`` (v6; MuJoCo 3.13's integrator
    that solves the constraints and the implicit velocity update together, in the metric M + h D that
    includes the servos' damping) removes that part: a standing body held by the v1 zoo jump's policy
    glides 52 mm in 1.5 s at 1/120 s with ``implicitfast`` (26 mm at 1/240 s, 0.4 mm at 1/480 s) and 0.2 mm
    with ``discrete`` at 1/120 s (tests/test_imitation_v6.py), at 6-12 % more time per control step
    (mj_step 26.4 vs 22.9 us). ``engine="pybullet"`` integrates with Bullet whatever ``integrator`` says.
    Body geoms collide with the floor only (friction 0.9, as DeepMimic's).

    ``engine="pybullet"`` steps the same model in PyBullet instead (:mod:`sportsim.sim`: a URDF generated
    from the compiled model, the servos' gains and force limits read from it at every physics step,
    MuJoCo's implicit damping and armature emulated; the state is written back into ``data``, so
    observation, reward, metrics and the fall test are computed exactly as with MuJoCo - the fall test on
    MuJoCo's collision of the PyBullet pose). For cross-engine evaluation of MuJoCo-trained policies and
    training in PyBullet; ``kinetics`` then reads PyBullet's contact forces (``kinetics.KineticsProbe``).

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | motion | None | a motion file or a list of them; relative paths: the working directory, then the shipped ``mocap/``; ``deepmimic:<name>`` a DeepMimic motion pybullet ships; None = the task's clip |
    | clip_weights | None | several clips: how often each is drawn - None or "uniform", "length" (the steps an episode of the clip covers), "adaptive" (by how much of each clip recent episodes failed to complete, :class:`~sportsim.envs.imitation_clips.ClipCurriculum`), or one number >= 0 per clip |
    | task | None | a skill (:data:`~sportsim.envs.imitation_params.SKILLS`: walk, jump, run, cartwheel, kick, backflip; walk_run = the walk and the run, one policy): its clip(s) and frame window when ``motion`` is None, its ``loop`` and stands where those are None; None = walk when ``motion`` is None |
    | loop | None | "auto" (see Description), True (loop the whole clip), False (play once); None = the task's, else "auto" |
    | stand_before_s, stand_after_s | None, None | a clip played once: its first pose held this long before it, its last pose after it (s); None = the task's, else 0 |
    | support_bodies | None | bodies that may touch the floor without a fall; None = the task's (a cartwheel: feet and hands), else the feet |
    | motion_start_frame | None | first source frame kept; None drops a leading calibration pose (CMU's T-pose frame) |
    | motion_end_frame | None | source frame to stop before (None: the end) |
    | motion_mapping | None | skeleton-mapping YAML (``python -m sportsim.mocap map``) for capture files whose skeleton sportsim does not place, as ``--mapping`` everywhere; applies to every file in ``motion`` |
    | motion_cache_dir | None | retargeted-motion cache folder; None = ``~/.cache/sportsim/motions`` (``$XDG_CACHE_HOME``) |
    | motion_cache | True | cache retargeted captures (keyed by file SHA-256 + settings) |
    | humanoid_height_m, humanoid_mass_kg | None, None | humanoid size; None = the first motion's (retarget estimate) |
    | humanoid_sex | "male" | de Leva's segment table |
    | control_hz | 30.0 | policy rate |
    | physics_dt_s | 1/120 | MuJoCo step; the control period must be a multiple; at most 1/120 s |
    | pd_gain_scale | 1.0 | multiplies Kp and Kd |
    | body | "human" | "human" (v1: human strength, ranges, planted-feet reference) or "deepmimic" (v0) |
    | plantarflexor_strength_scale | 1.0 | human body: the ankles' plantarflexion strength x this (the servo's stiffness follows it); the table's dynamometer strength is below running's demand (``sportsim.humanoid_limits.GAIT_PLANTARFLEXOR_SCALE`` = 1.9 for running). Tried for the walk as an Imitation-v4 and withdrawn: at 1.9 the v3 walk fine-tuned for 1.5M samples still left the floor 16 deg dorsiflexed, its soles slid 104 mm per stance (v3 58) and its sagittal positive work rose to 6.4 J/kg/m (v3 2.5) |
    | integrator | "implicitfast" (v6: "discrete") | MuJoCo's integrator (see Simulation); "discrete" needs MuJoCo >= 3.13 |
    | servo_damping_limit | None (v7: 2.0) | human body: each servo's Kd capped at this x its dof's free inertia / ``physics_dt_s`` (see PD control); None: Kd = Kp / 10 |
    | servo_velocity | "zero" (v6: "reference") | human body: what the servos' damping acts on - "zero": -Kd qdot (v1-v5); "reference": Kd (v_ref - qdot), the velocity error (see PD control) |
    | strength_profile | "dynamometer" | human body: "dynamometer" (the strength table as measured) or "athlete" (knee extension's torque-velocity curve of Anderson et al. 2007's young men instead of the gymnast's flat fit, plantarflexion x 1.9: the demands of take-offs and running; ``sportsim.humanoid_limits`` gives the sources), or "gymnast" (athlete + the gymnast's shoulder ab/adduction: the cartwheel's single-arm support), or "runner" (athlete + the hips' torque-velocity curves anchored on muscle architecture: omega_max 20 / 22 rad/s for extension / flexion instead of the gymnast's 9.0 / 9.2, which leave no hip torque at the run's 9.5 rad/s). Opt-in for explosive skills (the kick, the run): the spinkick's take-off holds the dynamometer body's knee and ankle at their limits |
    | reference_root_lowpass_hz | None (v4: 6.0) | human body: the reference's root height low-pass filtered at this cut-off (Hz) before the feet are placed - the cut-off gait labs use for walking kinematics; CMU's pelvis markers otherwise ask for 1.53 BW at heel strike (99th percentile, 15 Hz) |
    | smooth_reference_root | False (v3: True) | human body: retarget with ``smooth_root`` - hip extension past its range taken by a pelvis tilt instead of a clamp that swings the foot, and every root-height correction a smooth envelope (sigma 0.1 s): the reference asks for no force jolts (:func:`sportsim.mocap.retarget.retarget`) |
    | kinetics | False | ground reaction forces, joint moments and power in ``info`` (Kinetics above) |
    | engine | "mujoco" | physics engine: "mujoco" or "pybullet" (Simulation above; needs ``pip install "sportsim[pybullet]"``) |
    | action_mode | "residual" | "residual" (targets = reference + offset) or "absolute" |
    | action_scale_rad | 0.5 | residual: target offset at action +-1 |
    | pose_weight, velocity_weight, end_effector_weight, root_weight, com_weight, foot_slip_weight, foot_contact_weight | 0.5, 0.05, 0.15, 0.2, 0.1, 0 (v2-v9: 0.1), 0 (v5-v7: 0.1, v8-v9: 0.3) | reward weights (normalised to sum 1) |
    | activation_time_s | 0.0 (v10: 0.02) | human body, MuJoCo engine: each servo's target acts through a first-order lag of this time constant (s), like a muscle's activation (MuJoCo's activation state, ``dyntype`` filterexact; started at the first targets on reset); 0 = the torque follows each new target at once - it jumps at every control step |
    | ankle_diff_weight | None (v9: 1.0) | the ankles' weight in the pose and velocity errors, beside DeepMimic's joint weights (pelvis 1, chest 0.5, hip 0.5, ...; normalised to sum 1, :func:`~sportsim.envs.imitation_params.joint_diff_weights`); None = DeepMimic's 0.2 |
    | pose_scale, velocity_scale, end_effector_scale, root_scale, com_scale, foot_slip_scale, foot_contact_scale | 2, 0.1, 40, 5, 10, 100 (v5-v8: 400), 2 | reward scales (DeepMimic's, and the feet's; ``configs/env/imitation.yaml`` trains with root_scale 40, which keeps the root on the reference's path) |
    | rsi | True | reference state initialisation (random start phase) |
    | phase_weights | None | where random starts begin within a clip: None or "uniform" (every start step alike), "adaptive" (in proportion to each part's recent reward deficit in training, :class:`~sportsim.envs.imitation_clips.PhaseCurriculum`); the start distribution only - observation, reward and dynamics are the same |
    | terminate_on_fall | True | end the episode when a body but the feet touches the floor |
    | terminate_on_tracking_error | True | end it when ``mpjpe_mm`` > ``max_tracking_error_m`` |
    | max_tracking_error_m | 0.5 | tracking-error limit, m |
    | episode_time_s | 10.0 | time limit |
    | ghost_offset_m | 1.0 | rendering: the reference humanoid drawn this far to the right in the picture (along the motion's travel direction); 0 = overlaid |
    | render_mode, render_width, render_height | None, 640, 360 | "rgb_array" renders the tracking camera |

    ## Version History
    * v10: v9 with ``activation_time_s=0.02``: the servo torque follows a new target through a 20 ms first-order
      lag instead of at once. Why: with a zero-order-hold action through a stiff PD servo the torque jumps at
      every 30 Hz control step (the v9 walk's knee: -1.3 / -0.1 N m/kg alternating in swing), a muscle cannot;
      the jumps are the gap between raw and filtered positive work (3.26 vs 2.63 J/kg/m) and they make the
      heel strike depend on the physics step (first GRF peak +14.8 % at 1/480 s). The v9 low-lr walk's weights
      walk 10 s on it zero-shot with -3.0 % and 2.98 J/kg/m (a hand-made lag before it, per physics step:
      10 ms +7.1 %, 3.06; 40 ms -7.0 %, 2.74) but slide 30.7 mm per stance and push off 2.8 deg - a policy
      has to learn it (``training/imitation_v10_walk_ppo``, 4.8M samples: +6.0 %, 2.92 J/kg/m, but push-off
      2.2 deg and hip 2.50 N m/kg - not yet v9's). Same observation, action and reward; the dynamics change
      (the activation is state the observation does not show; at 20 ms it is 81 % of the way to a new target
      by the end of the 33 ms control step). MuJoCo only (``engine=pybullet`` is refused). v0-v9 and their
      entries are unchanged.
    * v9: v8 with ``ankle_diff_weight=1.0`` (DeepMimic's 0.2: the ankles were 8 % of the pose and velocity
      errors, now 31 %, every other joint's share x 0.75). Why: with DeepMimic's weights a 13 deg miss of the
      pushing-off ankle costs 0.4 % of the pose term (v9: 1.6 %), and the v7 and v8 walks leave the floor at
      -2.8 and 6.3 deg of plantarflexion against the reference's 10.3. Same observation, action and dynamics;
      the reward changes.
      Measured (``training/imitation_v9_walk_ppo``, 8.2M samples from the v8 walk): push-off 8.5 deg with the
      soles sliding 8.2 mm per stance, but a hip moment of 2.08 N m/kg (v7's walk 1.89) - so ``env=imitation``
      stays on v7. The v7 and v8 entries keep running on their versions.
    * v8: v7 with ``foot_contact_weight=0.3`` (v7: 0.1; its share of the normalised reward 0.083 -> 0.214): the
      v7 walk lifts each foot 2-3 control steps before its reference's toe-off and plantarflexes in the air
      (-3.3 deg at its own toe-off against the reference's 10.3), and lands up to 2 steps late. Same
      observation, action and dynamics; the reward changes. Measured (``training/imitation_v8_walk_ppo``, 3.0M
      samples from the v7 walk): the feet leave the floor with the reference's and push off at 5.6 deg, but
      land still moving - 20.9 mm of slide per stance against the v7 walk's 7.5 - so ``env=imitation`` stays on
      v7. The v7 zoo entries keep running on v7.
    * v7: v6 with ``servo_damping_limit=2`` (see PD control: no servo flips between its strength bounds
      every physics step; v6's swing ankle did). Same observation, action and reward; the dynamics change.
      The v6 policies in ``training/`` keep running on v6.
    * v6: v5 with ``servo_velocity="reference"`` (above: the servos damp the velocity error instead of
      the velocity) and ``integrator="discrete"`` (see Simulation: the contact solve sees the servos'
      implicit damping, so planted feet stay planted at 1/120 s). Same observation, action and reward; the
      dynamics change (the v5 zoo walk falls on v6 zero-shot). The v5 zoo entries keep running on v5.
    * v5: v4 with the ``foot_contact`` reward term (w 0.1) and a 4x stiffer ``foot_slip`` scale (400: a
      stance foot creeping at 5 cm/s keeps exp(-1) of the term): the v4 walk's soles slide 49 mm per
      stance (median; 60-80 mm/s creep), its foot leaves the floor about two control steps before the
      reference's toe-off still dorsiflexed (-11.6 deg at toe-off) and lands moving (first GRF peak
      1.44 BW). The v4 zoo entries keep running on v4.
    * v4: v3 with ``reference_root_lowpass_hz=6``: the captured pelvis's vertical path carries marker jitter
      at heel strike - CMU 02_01's pelvis alone implies 0.57-1.53 BW of total vertical force (1st-99th
      percentile, 15 Hz), v3's reference 0.60-1.45, v4's 0.75-1.25 (walking: about 0.6-1.25); the v3 walk's
      heel strike followed it (1.46 BW). (A first v4, 1.9x plantarflexors, was withdrawn the same day without a
      zoo entry.) The v3 zoo entries keep running on v3.
    * v3: v2 (body, reward) on a reference retargeted with ``smooth_reference_root``: v2's walk reference
      drops its root 6 cm in 0.1 s at each toe-off (the hip clamp swings the trailing foot 14 cm forward, foot
      planting pulls it back and lowers the root for the leg to reach) and steps 9 mm at stance changes - in
      total vertical force its centre of mass asks for -0.6 to 4.3 BW (1st-99th percentile, 15 Hz), v3's for
      0.6 to 1.45 BW (walking: about 0.6-1.25). The v2 zoo entries keep running on v2.
    * v1: the human body (``body="human"``): strength per direction with a torque-velocity limit, damping
      inside the torque limit, anatomical ranges per axis, de Leva's radii on their own axes, a
      planted-feet reference clamped to the ranges; ``kinetics``. The v0 zoo walk keeps running on v0.
      Later, in both versions (defaults unchanged: the walk, its loop, no stands, the feet): ``task``,
      ``stand_before_s`` / ``stand_after_s``, ``support_bodies``; ``deepmimic:<name>`` motions.
      Both versions, later (default unchanged): ``engine`` ("pybullet": the same model stepped by PyBullet).
      Both versions, later (one clip unchanged): several clips no longer add a one-hot clip index to the
      observation (263 values for any number of clips; no multi-clip policy had been trained); ``clip_weights``.
      v1-v5, later (default unchanged: ``dynamometer``): ``strength_profile`` (``athlete``, ``gymnast``: opt-in
      strength for explosive skills, recorded in each run's config).
    * v0: first version (``body="deepmimic"``).
    """

    metadata = {
        "render_modes": ["rgb_array"],
        "render_fps": 30,
        # info keys logged to TensorBoard per episode (see sportsim.callbacks): "mean" over the episode's
        # steps, or the "last" value
        "tb_metrics": {"mpjpe_mm": "mean", "mpjpe_root_relative_mm": "mean", "joint_angle_error_deg": "mean",
                       "clip_fraction_completed": "last"},
        # python -m sportsim.record: vertical GRF per foot and right-leg moments (built with kinetics=True)
        "sport_panel": RECORD_PANEL,
    }

    def __init__(
        self,
        motion: str | Sequence[str] | None = None,
        task: str | None = None,
        clip_weights: str | Sequence[float] | None = None,
        loop: bool | str | None = None,
        stand_before_s: float | None = None,
        stand_after_s: float | None = None,
        support_bodies: Sequence[str] | None = None,
        motion_start_frame: int | None = None,
        motion_end_frame: int | None = None,
        motion_mapping: str | None = None,
        motion_cache_dir: str | None = None,
        motion_cache: bool = True,
        humanoid_height_m: float | None = None,
        humanoid_mass_kg: float | None = None,
        humanoid_sex: str = "male",
        control_hz: float = 30.0,
        physics_dt_s: float = 1.0 / 120.0,
        pd_gain_scale: float = 1.0,
        body: str = "human",
        kinetics: bool = False,
        engine: str = "mujoco",
        action_mode: str = "residual",
        action_scale_rad: float = 0.5,
        pose_weight: float = 0.5,
        velocity_weight: float = 0.05,
        end_effector_weight: float = 0.15,
        root_weight: float = 0.2,
        com_weight: float = 0.1,
        foot_slip_weight: float = 0.0,
        foot_contact_weight: float = 0.0,
        smooth_reference_root: bool = False,
        reference_root_lowpass_hz: float | None = None,
        plantarflexor_strength_scale: float = 1.0,
        strength_profile: str = "dynamometer",
        servo_velocity: str = "zero",
        integrator: str = "implicitfast",
        servo_damping_limit: float | None = None,
        ankle_diff_weight: float | None = None,
        activation_time_s: float = 0.0,
        pose_scale: float = 2.0,
        velocity_scale: float = 0.1,
        end_effector_scale: float = 40.0,
        root_scale: float = 5.0,
        com_scale: float = 10.0,
        foot_slip_scale: float = 100.0,
        foot_contact_scale: float = 2.0,
        rsi: bool = True,
        phase_weights: str | None = None,
        terminate_on_fall: bool = True,
        terminate_on_tracking_error: bool = True,
        max_tracking_error_m: float = 0.5,
        episode_time_s: float = 10.0,
        ghost_offset_m: float = 1.0,
        render_mode: str | None = None,
        render_width: int = 640,
        render_height: int = 360,
    ) -> None:
        # the skill (task) fills what is left at None: its clip and frames (only when motion is None), loop, stands
        chosen = ip.skill(task)
        base = chosen if chosen is not None else (ip.SKILLS[ip.DEFAULT_SKILL] if motion is None else None)
        if motion is None:
            motion = base.motion
            if motion_start_frame is None and motion_end_frame is None:
                motion_start_frame, motion_end_frame = base.start_frame, base.end_frame
        loop = loop if loop is not None else (base.loop if base is not None else "auto")
        stand_before_s = stand_before_s if stand_before_s is not None else (base.stand_before_s if base else 0.0)
        stand_after_s = stand_after_s if stand_after_s is not None else (base.stand_after_s if base else 0.0)
        if support_bodies is None:
            support_bodies = base.support_bodies if base is not None else ip.FOOT_BODIES
        self.support_bodies = tuple(support_bodies)
        self.task = task
        self._check_arguments(loop, humanoid_sex, control_hz, physics_dt_s, pd_gain_scale, action_mode,
                              action_scale_rad, max_tracking_error_m, episode_time_s, render_mode)
        for name, value in (("stand_before_s", stand_before_s), ("stand_after_s", stand_after_s)):
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0.0 <= value < math.inf):
                raise ConfigError(f"{name} must be a number >= 0 (seconds), got {value!r}")
        self.control_hz = float(control_hz)
        self.control_dt_s = 1.0 / self.control_hz
        self.n_substeps = round(self.control_dt_s / physics_dt_s)
        self.physics_dt_s = float(physics_dt_s)
        self.episode_steps = max(1, round(episode_time_s * self.control_hz))
        self.episode_time_s = float(episode_time_s)
        self.action_mode = action_mode
        self.action_scale_rad = float(action_scale_rad)
        self.rsi = bool(rsi)
        self.terminate_on_fall = bool(terminate_on_fall)
        self.terminate_on_tracking_error = bool(terminate_on_tracking_error)
        self.max_tracking_error_m = float(max_tracking_error_m)
        self._max_error_mm = 1000.0 * self.max_tracking_error_m
        self.ghost_offset_m = float(ghost_offset_m)
        try:
            self.weights = ImitationRewardWeights(
                pose=pose_weight, velocity=velocity_weight, end_effector=end_effector_weight, root=root_weight,
                com=com_weight, foot_slip=foot_slip_weight, foot_contact=foot_contact_weight,
                pose_scale=pose_scale, velocity_scale=velocity_scale, end_effector_scale=end_effector_scale,
                root_scale=root_scale, com_scale=com_scale, foot_slip_scale=foot_slip_scale,
                foot_contact_scale=foot_contact_scale)
        except ValueError as exc:
            raise ConfigError(f"Imitation-v0 reward weights: {exc}") from None

        if body not in BODIES:
            raise ConfigError(f"body must be one of {', '.join(BODIES)}, got {body!r}")
        # reference motions -> the humanoid's size -> the model -> the tracks step() reads
        entries = [motion] if isinstance(motion, (str, os.PathLike)) else list(motion)
        if not entries or not all(isinstance(e, (str, os.PathLike)) for e in entries):
            raise ConfigError(f"motion must be a file path or a non-empty list of them, got {motion!r}")
        cache_dir = None
        if motion_cache:
            cache_dir = ip.default_cache_dir() if motion_cache_dir is None else \
                Path(os.path.expanduser(str(motion_cache_dir)))
        height, mass = humanoid_height_m, humanoid_mass_kg
        motions = []
        for entry in entries:
            loaded = ip.load_reference(ip.resolve_motion_path(entry), height_m=height, mass_kg=mass,
                                       sex=humanoid_sex, start_frame=motion_start_frame, end_frame=motion_end_frame,
                                       cache_dir=cache_dir, body=body, mapping=motion_mapping,
                                       smooth_root=bool(smooth_reference_root),
                                       root_lowpass_hz=reference_root_lowpass_hz)
            height = loaded.height_m if height is None else height
            mass = loaded.mass_kg if mass is None else mass
            motions.append((str(entry), loaded))
        self.humanoid_height_m, self.humanoid_mass_kg, self.humanoid_sex = float(height), float(mass), humanoid_sex
        self.body = body
        if not (math.isfinite(plantarflexor_strength_scale) and plantarflexor_strength_scale > 0):
            raise ConfigError(f"plantarflexor_strength_scale must be > 0, got {plantarflexor_strength_scale}")
        self.plantarflexor_strength_scale = float(plantarflexor_strength_scale)
        if strength_profile not in STRENGTH_PROFILES:
            raise ConfigError(f"strength_profile must be one of {', '.join(STRENGTH_PROFILES)}, got {strength_profile!r}")
        if strength_profile != "dynamometer" and body != "human":
            raise ConfigError(f"strength_profile={strength_profile!r} needs body='human', got body={body!r}")
        self.strength_profile = strength_profile
        if servo_velocity not in SERVO_VELOCITIES:
            raise ConfigError(f"servo_velocity must be one of {', '.join(SERVO_VELOCITIES)}, got {servo_velocity!r}")
        if servo_velocity != "zero" and body != "human":
            raise ConfigError(f"servo_velocity={servo_velocity!r} needs body='human' (its damping inside the servo), "
                              f"got body={body!r}")
        self.servo_velocity = servo_velocity
        if integrator not in INTEGRATORS:
            raise ConfigError(f"integrator must be one of {', '.join(INTEGRATORS)}, got {integrator!r}")
        self.integrator = integrator
        if servo_damping_limit is not None and (
                isinstance(servo_damping_limit, bool) or not isinstance(servo_damping_limit, (int, float))
                or not (0.0 < servo_damping_limit < math.inf)):
            raise ConfigError(f"servo_damping_limit must be a number > 0 or null, got {servo_damping_limit!r}")
        if servo_damping_limit is not None and body != "human":
            raise ConfigError(f"servo_damping_limit needs body='human' (its damping inside the servo), got body={body!r}")
        self.servo_damping_limit = None if servo_damping_limit is None else float(servo_damping_limit)
        if isinstance(activation_time_s, bool) or not isinstance(activation_time_s, (int, float)) \
                or not (0.0 <= activation_time_s < math.inf):
            raise ConfigError(f"activation_time_s must be a number >= 0 (seconds), got {activation_time_s!r}")
        if activation_time_s > 0.0 and body != "human":
            raise ConfigError(f"activation_time_s needs body='human' (its servos), got body={body!r}")
        if activation_time_s > 0.0 and engine != "mujoco":
            raise ConfigError(f"activation_time_s={activation_time_s:g} needs engine='mujoco' (the {engine} adapter "
                              "does not integrate the servos' activation state); set it to 0 or use engine=mujoco")
        self.activation_time_s = float(activation_time_s)
        self.model = build_model(self.humanoid_height_m, self.humanoid_mass_kg, humanoid_sex, self.physics_dt_s,
                                 pd_gain_scale, body, self.plantarflexor_strength_scale, strength_profile,
                                 self.activation_time_s)
        self.model.opt.integrator = INTEGRATORS[integrator]
        if self.servo_damping_limit is not None:  # v7: before the engine and the feed-forward read Kd
            limit_servo_damping(self.model, self.servo_damping_limit)
        self.data = mujoco.MjData(self.model)
        # a fresh data's integration state (time, qpos, qvel, warm start, controls, applied forces): reset puts it
        # back with mj_setState - what mj_resetData leaves for the next mj_forward, without clearing the whole data
        # buffer (mj_resetData took 36-48 us of a reset in a training loop, mj_setState ~1 us)
        self._fresh_state = np.empty(mujoco.mj_stateSize(self.model, _FRESH_STATE))
        mujoco.mj_getState(self.model, self.data, self._fresh_state, _FRESH_STATE)
        self.engine = make_engine(engine, self.model, self.data)
        stands = (round(stand_before_s * self.control_hz), round(stand_after_s * self.control_hz))
        self.tracks = tuple(ip.build_track(m, self.model, os.path.basename(name), self.control_hz, loop,
                                           self.episode_steps, *stands) for name, m in motions)
        self.track_notes = tuple(f"{t.name}: {t.notes}" for t in self.tracks)
        self._clip_p = clips.clip_probabilities(clip_weights, self.tracks, self.episode_steps)
        self._curriculum = (clips.ClipCurriculum(len(self.tracks))
                            if isinstance(clip_weights, str) and clip_weights == "adaptive" and len(self.tracks) > 1
                            else None)
        self._phases = clips.phase_curriculum(phase_weights, self.tracks)
        self._index_model()
        # v6: damping about the reference's velocity (clamps the targets itself: after _index_model, which reads ctrlrange)
        self._feedforward = ServoFeedforward(self.model, self.tracks) if servo_velocity == "reference" else None
        self._compare = ReferenceComparison(self.model, self.data, self.tracks, ankle_diff_weight)
        self._strength = (StrengthLimits(self.model, self.humanoid_mass_kg, self.plantarflexor_strength_scale,
                                         strength_profile) if body == "human" else None)
        self._kinetics = kin.KineticsProbe(self.model, self.humanoid_mass_kg, self.engine) if kinetics else None
        self._kinetics_episode = EpisodeKinetics(self.physics_dt_s) if kinetics else None

        n_act = self.model.nu
        self.action_space = spaces.Box(-1.0, 1.0, (n_act,), np.float32)
        self._action = np.zeros(n_act)  # step's working copy of the action
        self.observation_space = spaces.Box(-np.inf, np.inf, self._compare.obs.shape, np.float32)
        self.metadata = {**type(self).metadata, "render_fps": self.control_hz}
        if self._kinetics is not None:
            self.metadata["tb_metrics"] = {**self.metadata["tb_metrics"], **KINETICS_TB_METRICS}
        self.render_mode = render_mode
        self._renderer = GhostRenderer(self, render_height, render_width) if render_mode == "rgb_array" else None

        self._track = self.tracks[0]
        self._clip = 0
        self._k = self._k0 = 0
        self._k_end = self.episode_steps
        self._fraction = 0.0

    # -- construction helpers ----------------------------------------------------------------------
    @staticmethod
    def _check_arguments(loop, sex, control_hz, physics_dt_s, pd_gain_scale, action_mode, action_scale_rad,
                         max_tracking_error_m, episode_time_s, render_mode) -> None:
        if not (loop is True or loop is False or loop == "auto"):
            raise ConfigError(f"loop must be 'auto', true or false, got {loop!r}")
        if sex not in ("male", "female"):
            raise ConfigError(f"humanoid_sex must be 'male' or 'female', got {sex!r}")
        for name, value in (("control_hz", control_hz), ("physics_dt_s", physics_dt_s),
                            ("pd_gain_scale", pd_gain_scale), ("action_scale_rad", action_scale_rad),
                            ("max_tracking_error_m", max_tracking_error_m), ("episode_time_s", episode_time_s)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a number > 0, got {value!r}")
        if physics_dt_s > 1.0 / 120.0 + 1e-12:
            raise ConfigError(f"physics_dt_s={physics_dt_s} must be <= 1/120 s (the PD servos and contacts need it)")
        n_sub = round(1.0 / (control_hz * physics_dt_s))
        if n_sub < 1 or abs(n_sub * physics_dt_s * control_hz - 1.0) > 1e-6:
            raise ConfigError(f"control period 1/{control_hz} s is not a multiple of physics_dt_s={physics_dt_s}")
        if action_mode not in ACTION_MODES:
            raise ConfigError(f"action_mode must be one of {', '.join(ACTION_MODES)}, got {action_mode!r}")
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")

    def _index_model(self) -> None:
        """Index arrays read by name once (dm_control style), so that step() only slices arrays; the
        comparison with the reference has its own (:class:`~sportsim.envs.imitation_compare.ReferenceComparison`)."""
        m = self.model
        J = mujoco.mjtJoint
        if tuple(m.actuator(i).name for i in range(m.nu)) != humanoid.ACTUATOR_NAMES or \
                np.any(np.diff(m.jnt_dofadr[m.actuator_trnid[:, 0]]) < 0):
            raise ModelFileError("humanoid model: the actuators are not in the joints' dof order")
        try:
            feet = {m.body(n).id for n in self.support_bodies}
        except KeyError:
            raise ConfigError(f"support_bodies {list(self.support_bodies)}: each must be one of "
                              f"{', '.join(ip.OBS_BODIES)}") from None
        floor = m.geom("floor").id
        self._fall_geom = np.array([g != floor and m.geom_bodyid[g] not in feet for g in range(m.ngeom)])
        self._fall_geoms = frozenset(np.flatnonzero(self._fall_geom).tolist())
        # the foot terms, measured where either has a weight (FootComparison indexes each foot's geom, body and tree root)
        self._slip_on = self.weights.foot_slip > 0.0 or self.weights.foot_contact > 0.0
        self._feet = FootComparison(m)
        # info reports DeepMimic's five terms and sportsim's where their weight is > 0
        self._info_keys = tuple((i, *_INFO_KEYS[i]) for i, t in enumerate(ImitationRewardWeights.TERMS)
                                if i < 5 or getattr(self.weights, t) > 0.0)
        # absolute actions: the middle and half width of each dof's range
        centre, half = np.zeros(m.nu), np.zeros(m.nu)
        for i in range(m.nu):
            jid = m.actuator_trnid[i, 0]
            if m.actuator_ctrllimited[i]:  # v1: the anatomical range of this dof
                low, high = m.actuator_ctrlrange[i]
                centre[i], half[i] = 0.5 * (low + high), 0.5 * (high - low)
            elif m.jnt_type[jid] == J.mjJNT_HINGE:
                low, high = m.jnt_range[jid]
                centre[i], half[i] = 0.5 * (low + high), 0.5 * (high - low)
            else:
                half[i] = m.jnt_range[jid, 1] if m.jnt_limited[jid] else math.pi
        self._abs_centre, self._abs_half = centre, half

    # -- gymnasium API -----------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"start_phase", "clip"}
        if unknown:
            raise ConfigError(f"unknown reset options {sorted(unknown)} (valid: start_phase, clip)")
        rng = self.np_random
        clip = options.get("clip")
        if clip is None and not self.rsi and seed is None and len(self.tracks) > 1:
            clip = (self._clip + 1) % len(self.tracks)  # evaluation from frame 0: the clips in turn
        elif clip is None:
            p = self._clip_p if self._curriculum is None else self._curriculum.probabilities()
            clip = clips.draw_clip(rng, len(self.tracks), p)
        elif isinstance(clip, bool) or not (isinstance(clip, (int, np.integer)) and 0 <= clip < len(self.tracks)):
            raise ConfigError(f"reset option clip={clip!r}: expected an index in 0..{len(self.tracks) - 1}")
        track = self.tracks[int(clip)]
        phase = options.get("start_phase")
        if phase is not None:
            if isinstance(phase, bool) or not (isinstance(phase, (int, float)) and 0.0 <= phase <= 1.0):
                raise ConfigError(f"reset option start_phase={phase!r}: expected a number in [0, 1]")
            k0 = int(math.floor(phase * track.period + 1e-9))
            k0 = k0 % track.period if track.cyclic else min(k0, track.starts - 1)
        elif self.rsi:
            k0 = int(rng.integers(track.starts)) if self._phases is None else self._phases.draw(rng, int(clip))
        else:
            k0 = 0
        self._track, self._clip, self._k0, self._k = track, int(clip), k0, k0
        self._k_end = k0 + self.episode_steps if track.cyclic else min(track.period, k0 + self.episode_steps)
        self._fraction = 0.0
        if self._kinetics_episode is not None:
            self._kinetics_episode.reset()

        m, d = self.model, self.data
        mujoco.mj_setState(m, d, self._fresh_state, _FRESH_STATE)  # = mj_resetData for what follows
        d.qpos[:] = track.qpos[k0]
        d.qvel[:] = track.qvel[k0]
        d.ctrl[:] = track.joint_coords[k0] if self.action_mode == "residual" else self._abs_centre
        if self._feedforward is not None:
            self._feedforward.apply(d.ctrl, self._clip, k0)
        if m.na:  # v10: the servos start activated at their first targets (no torque transient at the start)
            d.act[:] = d.ctrl
        if self._strength is not None:
            self._strength.update(d)
        mujoco.mj_forward(m, d)
        self.engine.reset()
        mujoco.mj_subtreeVel(m, d)
        errors, metrics = self._compare.evaluate(self._clip, k0)
        if self._slip_on:
            errors = (*errors, *self._foot_errors(k0))
        return self._compare.obs.astype(np.float32), self._info(None, errors, metrics, None, False)

    def step(self, action):
        m, d, track = self.model, self.data, self._track
        # in place on a float64 buffer, without temporaries (this and what follows run 30 times a simulated second)
        a = self._action
        if type(action) is np.ndarray and action.shape == a.shape:
            a[:] = action
        else:
            a[:] = np.asarray(action, dtype=np.float64).reshape(m.nu)
        if math.isnan(sum(a.tolist())):  # NaN when an element is NaN (or for inf - inf: then nothing to clean)
            a[np.isnan(a)] = 0.0
        np.maximum(a, -1.0, out=a)
        np.minimum(a, 1.0, out=a)
        k = self._k + 1
        if self.action_mode == "residual":
            np.multiply(self.action_scale_rad, a, out=a)
            np.add(track.joint_coords[k], a, out=d.ctrl)
        else:
            np.multiply(self._abs_half, a, out=a)
            np.add(self._abs_centre, a, out=d.ctrl)
        if self._feedforward is not None:
            self._feedforward.apply(d.ctrl, self._clip, k)
        warnings_before = int(d.warning.number[_BADQACC])
        if self._strength is not None:  # strength at the joint velocities the control step starts with
            self._strength.update(d)
        if self._kinetics is None:
            self.engine.step(self.n_substeps)
        else:  # kinetics are sampled at every physics step
            probe = self._kinetics
            probe.start(self.n_substeps)
            for _ in range(self.n_substeps):
                self.engine.step(1)
                probe.sample(d)
        self._k = k
        # the state at the end of the step (mj_step leaves positions from before its last integration)
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        mujoco.mj_comVel(m, d)
        mujoco.mj_subtreeVel(m, d)
        if d.warning.number[_BADQACC] != warnings_before or \
                not math.isfinite(sum(d.qvel.tolist()) + sum(d.qpos.tolist())):
            return self._physics_error()

        errors, metrics = self._compare.evaluate(self._clip, k)
        geoms = d.contact.geom.tolist() if d.ncon else []  # the contacts' geom pairs, for the foot terms and the fall
        if self._slip_on:  # DeepMimic's five errors, then the foot slip and contact
            errors = (*errors, *self._feet.errors(d, track.foot_contacts[k], geoms))
        reward, terms, similarities = imitation_reward_terms(errors, self.weights)
        fall = None
        if self.terminate_on_fall and geoms and not self._fall_geoms.isdisjoint(chain.from_iterable(geoms)):
            fall = "contact"
        elif self.terminate_on_tracking_error and metrics[0] > self._max_error_mm:
            fall = "tracking"
        motion_ended = not track.cyclic and k >= track.period
        if fall is None:
            self._fraction = (k - self._k0) / max(self._k_end - self._k0, 1)
        terminated = fall is not None or motion_ended
        truncated = not terminated and k - self._k0 >= self.episode_steps
        if self._curriculum is not None and (terminated or truncated):
            self._curriculum.record(self._clip, self._fraction)
        if self._phases is not None:
            self._phases.record(self._clip, k, 1.0 if fall is not None else 1.0 - reward)
        obs = self._compare.obs.astype(np.float32)
        info = self._info(terms, errors, metrics, fall, motion_ended, similarities)
        if self._kinetics is not None:
            info["kinetics"] = self._kinetics.result()
            info.update(self._kinetics_episode.update(info["kinetics"]))
        return obs, reward, terminated, truncated, info

    def _foot_errors(self, step: int) -> tuple[float, float]:
        """The foot terms' errors (slip, contact) at reference step ``step``, from the contacts of the control
        step's last physics step (:meth:`sportsim.envs.imitation_compare.FootComparison.errors`)."""
        return self._feet.errors(self.data, self._track.foot_contacts[step])

    def render(self):
        if self._renderer is None:
            return None
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
        self.engine.close()

    def _info(self, terms: tuple[float, ...] | None, errors, metrics: tuple[float, float, float], fall: str | None,
              motion_ended: bool, similarities: tuple[float, ...] | None = None) -> dict[str, Any]:
        # terms, similarities (and errors): in ImitationRewardWeights.TERMS order
        info: dict[str, Any] = {
            "is_success": fall is None and self._fraction >= 1.0,
            "time_s": (self._k - self._k0) * self.control_dt_s,
            "clip": self._clip,
            "phase": self._track.phase(self._k),
            "fall": fall,
            "motion_ended": motion_ended,
            "mpjpe_mm": metrics[0],
            "mpjpe_root_relative_mm": metrics[1],
            "joint_angle_error_deg": metrics[2],
            "clip_fraction_completed": self._fraction,
        }
        if similarities is None:
            similarities = imitation_reward_terms(errors, self.weights)[2]
        rewards = _NO_REWARD if terms is None else terms
        for i, reward_key, similarity_key, error_key in self._info_keys:
            info[reward_key] = rewards[i]
            info[similarity_key] = similarities[i]
            info[error_key] = errors[i]
        return info

    def _physics_error(self):
        info = self._info(None, _NO_REWARD, (0.0, 0.0, 0.0), "physics_error", False)
        info["physics_error"] = True
        obs = np.nan_to_num(self._compare.obs, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
        return obs, 0.0, True, False, info

    # -- the reference humanoid, for tests and tools ------------------------------------------------------
    def evaluate_state(self, qpos, qvel) -> tuple[float, dict[str, Any]]:
        """Put the simulated humanoid in state (``qpos``, ``qvel``) at the current reference step and
        return the reward and ``info`` a step ending there would give (no time passes; the episode
        goes on from that state)."""
        m, d = self.model, self.data
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_forward(m, d)
        self.engine.reset()
        mujoco.mj_subtreeVel(m, d)
        errors, metrics = self._compare.evaluate(self._clip, self._k)
        if self._slip_on:
            errors = (*errors, *self._foot_errors(self._k))
        reward, terms, similarities = imitation_reward_terms(errors, self.weights)
        return reward, self._info(terms, errors, metrics, None, False, similarities)

    def reference_state(self, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(qpos, qvel) of the reference at step ``k`` of the current track (default: now)."""
        k = self._k if k is None else k
        return self._track.qpos[k].copy(), self._track.qvel[k].copy()

    @property
    def clip_names(self) -> tuple[str, ...]:
        """The clips' names (file names; ``deepmimic:<name>``), in the order of ``info["clip"]``."""
        return tuple(t.name for t in self.tracks)

    @property
    def step_index(self) -> int:
        """The current step on the track (the reference frame the state is compared with)."""
        return self._k
