"""Environment registry. One env = one module here + its model file under ``envs/``."""

from __future__ import annotations

import gymnasium as gym


# env id -> (entry point, default max episode steps[, default kwargs])
ENV_SPECS = {
    "sportsim/HalfPipe-v0": ("sportsim.envs.halfpipe_v0:HalfPipeEnv", None),
    "sportsim/HalfPipe-v1": ("sportsim.envs.halfpipe:HalfPipeEnv", None),
    "sportsim/HalfPipe-v2": ("sportsim.envs.halfpipe_v2:HalfPipeV2Env", None),
    "sportsim/HighBar-v0": ("sportsim.envs.highbar_v0:HighBarEnv", None),
    "sportsim/HighBar-v1": ("sportsim.envs.highbar:HighBarEnv", None),
    # v0: DeepMimic's body (symmetric torque limits, passive damping, cones, swapped inertia axes) - kept
    # for the v0 zoo walk; v1: the human body (strength, ranges, inertia axes; sportsim.humanoid_limits) - kept
    # for the v1 zoo entries; v2: the same body, its reward with the foot slip term (stance feet that stay put);
    # v3: v2 tracking a reference whose root height has no jolts (retarget's smooth_root: the v2 reference asks
    # the body for -0.6 to 4.3 BW in the CMU walk, v3's for 0.6 to 1.45 BW)
    "sportsim/Imitation-v0": ("sportsim.envs.imitation:ImitationEnv", None, {"body": "deepmimic"}),
    "sportsim/Imitation-v1": ("sportsim.envs.imitation:ImitationEnv", None, {"body": "human"}),
    "sportsim/Imitation-v2": ("sportsim.envs.imitation:ImitationEnv", None, {"body": "human", "foot_slip_weight": 0.1}),
    "sportsim/Imitation-v3": ("sportsim.envs.imitation:ImitationEnv", None,
                              {"body": "human", "foot_slip_weight": 0.1, "smooth_reference_root": True}),
    # v4: v3 with the reference's root height low-pass filtered at 6 Hz (capture jitter at heel strike)
    "sportsim/Imitation-v4": ("sportsim.envs.imitation:ImitationEnv", None,
                              {"body": "human", "foot_slip_weight": 0.1, "smooth_reference_root": True,
                               "reference_root_lowpass_hz": 6.0}),
    # v5: v4 with the foot contact reward term and a 4x stiffer foot slip scale (feet that land, stay and lift
    # when the reference's do)
    "sportsim/Imitation-v5": ("sportsim.envs.imitation:ImitationEnv", None,
                              {"body": "human", "foot_slip_weight": 0.1, "foot_slip_scale": 400.0,
                               "foot_contact_weight": 0.1, "smooth_reference_root": True,
                               "reference_root_lowpass_hz": 6.0}),
    # v6: v5 with the servos' damping about the reference's joint velocity (servo_velocity="reference": the
    # damper no longer brakes the movement the reference asks for inside the strength bound - runs, take-offs)
    # and MuJoCo's discrete integrator (the contact solve sees the servos' implicit damping: planted feet)
    "sportsim/Imitation-v6": ("sportsim.envs.imitation:ImitationEnv", None,
                              {"body": "human", "foot_slip_weight": 0.1, "foot_slip_scale": 400.0,
                               "foot_contact_weight": 0.1, "smooth_reference_root": True,
                               "reference_root_lowpass_hz": 6.0, "servo_velocity": "reference",
                               "integrator": "discrete"}),
    # v7: v6 with the servos' damping capped at 2 x I / h (servo_damping_limit: a servo clamped at its strength
    # bound cannot flip bound every physics step - v6's swing ankle did, 14 % of swing steps)
    "sportsim/Imitation-v7": ("sportsim.envs.imitation:ImitationEnv", None,
                              {"body": "human", "foot_slip_weight": 0.1, "foot_slip_scale": 400.0,
                               "foot_contact_weight": 0.1, "smooth_reference_root": True,
                               "reference_root_lowpass_hz": 6.0, "servo_velocity": "reference",
                               "integrator": "discrete", "servo_damping_limit": 2.0}),
    # v8: v7 with the foot contact term weighted 0.3 instead of 0.1 (its share of the normalised reward 0.083 ->
    # 0.214): the v7 walk's stance is 2-3 control steps shorter than the reference's at both ends - it lifts
    # the foot before the reference's push-off and plantarflexes in the air
    "sportsim/Imitation-v8": ("sportsim.envs.imitation:ImitationEnv", None,
                              {"body": "human", "foot_slip_weight": 0.1, "foot_slip_scale": 400.0,
                               "foot_contact_weight": 0.3, "smooth_reference_root": True,
                               "reference_root_lowpass_hz": 6.0, "servo_velocity": "reference",
                               "integrator": "discrete", "servo_damping_limit": 2.0}),
    # v9: v8 with the ankles weighing 1.0 instead of DeepMimic's 0.2 in the pose and velocity errors (a 13 deg
    # miss of the pushing-off ankle cost 0.4 % of the pose term: the walks left the floor before plantarflexing)
    "sportsim/Imitation-v9": ("sportsim.envs.imitation:ImitationEnv", None,
                              {"body": "human", "foot_slip_weight": 0.1, "foot_slip_scale": 400.0,
                               "foot_contact_weight": 0.3, "smooth_reference_root": True,
                               "reference_root_lowpass_hz": 6.0, "servo_velocity": "reference",
                               "integrator": "discrete", "servo_damping_limit": 2.0, "ankle_diff_weight": 1.0}),
    # v10: v9 whose servos reach their targets through a 20 ms first-order activation lag (activation_time_s):
    # the torque no longer jumps at every 30 Hz control step - the v9 walk's heel strike converged to +14.8 %
    # at 1/480 s and its raw positive work read 3.26 J/kg/m (filtered 2.63); on v10, zero-shot, -3.0 % and 2.98
    "sportsim/Imitation-v10": ("sportsim.envs.imitation:ImitationEnv", None,
                               {"body": "human", "foot_slip_weight": 0.1, "foot_slip_scale": 400.0,
                                "foot_contact_weight": 0.3, "smooth_reference_root": True,
                                "reference_root_lowpass_hz": 6.0, "servo_velocity": "reference",
                                "integrator": "discrete", "servo_damping_limit": 2.0, "ankle_diff_weight": 1.0,
                                "activation_time_s": 0.02}),
}


def register_envs() -> None:
    """Register every sportsim env with Gymnasium (idempotent)."""
    for env_id, (entry_point, max_steps, *defaults) in ENV_SPECS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=max_steps,
                         kwargs=dict(defaults[0]) if defaults else {})
