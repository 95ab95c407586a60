"""Why an Imitation policy trained in MuJoCo falls in PyBullet: where the two engines part, measured.

    python scripts/cross_engine_divergence.py [zoo:imitation/v1/walk/ppo] [--episodes 3] [--steps 60]
        [--survival 20] [--json out.json]

Four measurements, each printed as a table row and, last, as one JSON object:

1. **One control step from the same state.** States, servo targets and force limits are recorded along
   ``--episodes`` MuJoCo rollouts of the deterministic policy (random phases, seeds 3000000, ...); each is
   stepped once (1/30 s) by MuJoCo and by PyBullet (:mod:`sportsim.sim`) from that state, and the results
   are compared: mean body-origin distance (mm), root velocity (m/s, and its vertical part), joint velocity
   (rad/s). The same on the ground and lifted 1 m (no contacts), and - as the scale of what MuJoCo itself
   calls a small change - MuJoCo against MuJoCo with half the physics step, contacts 5x stiffer
   (solref 4 ms), an elliptic friction cone, and no armature.
2. **Stance penetration in MuJoCo**: the deepest floor contact at each control step of those rollouts (mm;
   MuJoCo's soft contacts let the feet sink; PyBullet's rigid ones hold them at the surface).
3. **The servo emulation in contact**: in a PyBullet rollout, the torque error of the adapter's emulation of
   MuJoCo's implicit damping and armature, (dt (Kv + D) + armature) (qddot_actual - qddot_predicted), by the
   number of contact points the prediction held (N m; the mean servo torque beside it).
4. **Survival** (``--survival N`` random-phase episodes, 0 to skip): the policy in MuJoCo with each variant of
   1. and in PyBullet - episodes without a fall and mean episode length.

1. and 4. also run :class:`TrialStepEngine`, an experiment: the adapter's servo emulation corrected by the
contact force Bullet itself produces in a trial step.

A policy that is robust to MuJoCo's own contact variants but not to losing its armature, with PyBullet in
agreement in the air and not in contact, falls in PyBullet because of how contact meets the implicitly
integrated servos (see the closing note of issue 17).
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import mujoco
import numpy as np

from sportsim import resolve, runs
from sportsim.evaluation import evaluate_policy
from sportsim.sim import MuJoCoEngine
from sportsim.sim.bullet import PyBulletEngine

SEED = 3_000_000
VARIANTS = ("dt/2", "stiff contacts", "elliptic cone", "no armature")
TRIALS = 2  # trial rounds of TrialStepEngine (4 gave the same survival as 2)


class TrialStepEngine(PyBulletEngine):
    """An experiment, not an engine sportsim offers: PyBullet with the servo emulation corrected by Bullet's
    own contact response. Each physics step is first taken with the adapter's predicted torques; the
    generalised contact force Bullet realised, f_c = M qddot + bias - tau (M without armature), is read from
    it, the world restored (``saveState``/``restoreState``), and the implicit solve
    (M + dt (Kv + D) + armature) qddot = servo + passive - bias + f_c gives the torques of the real step -
    ``trials`` rounds. Costs 1 + ``trials`` Bullet steps and as many ``saveState``/``restoreState`` world copies per
    physics step: 0.08x the adapter's steps/s (Imitation-v1, random actions, 2026-12-06)."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, trials: int = TRIALS) -> None:
        super().__init__(model, data)
        self.trials = trials
        self._q1, self._v1 = np.zeros(model.nq), np.zeros(model.nv)
        self._mass_acc, self._acc = np.zeros((1, model.nv)), np.zeros((1, model.nv))

    def _apply(self, torques: np.ndarray) -> None:
        pb = self._pb
        pb.setJointMotorControlMultiDofArray(self.body, self._joint_links, pb.TORQUE_CONTROL,
                                            forces=torques[self._ball_dofs].tolist() + torques[self._hinge_dofs].tolist(),
                                            physicsClientId=self._client)

    def step(self, nstep: int = 1) -> None:
        pb, c, m, d = self._pb, self._client, self.model, self.data
        dt = float(m.opt.timestep)
        self._prepare(dt)
        pm, pd = self._pmodel, self._pdata
        qpos, qvel = self._p_state[0], self._p_state[1]
        if self._fresh:
            qpos[:], qvel[:] = self._qpos, self._qvel
        else:
            self._read_state(qpos, qvel)
        for i in range(nstep):
            if i:
                self._read_state(qpos, qvel)
            torques = self._servo_torques(dt).copy()
            v0, arm, bias = qvel.copy(), self._p_armature, self._p_force[3]
            explicit = self._p_force[1] + self._p_force[2]
            for _ in range(self.trials):
                saved = pb.saveState(physicsClientId=c)
                self._apply(torques)
                pb.stepSimulation(physicsClientId=c)
                self._read_state(self._q1, self._v1)
                pb.restoreState(saved, physicsClientId=c)
                pb.removeState(saved, physicsClientId=c)
                acc = (self._v1 - v0) / dt
                mujoco.mj_mulM(pm, pd, self._mass_acc[0], acc)  # (M + arm) qddot
                contact = self._mass_acc[0] - arm * acc + bias - torques
                mujoco.mj_solveM(pm, pd, self._acc, (explicit - bias + contact)[None])
                torques = explicit - arm * self._acc[0]
            self._apply(torques)
            pb.stepSimulation(physicsClientId=c)
            self._contact_points = [(pt[3], pt[5]) for pt in pb.getContactPoints(self.body, self.floor, physicsClientId=c)]
        self._read_state()
        self._fresh = True
        d.time += nstep * dt
        mujoco.mj_kinematics(m, d)
        mujoco.mj_collision(m, d)


def _variant(model: mujoco.MjModel, name: str) -> tuple[mujoco.MjModel, int]:
    """A copy of ``model`` changed as ``name`` says, and the physics steps per control step factor."""
    m = copy.copy(model)
    factor = 1
    if name == "dt/2":
        m.opt.timestep /= 2
        factor = 2
    elif name == "stiff contacts":
        m.geom_solref[:, 0] = 0.004
    elif name == "elliptic cone":
        m.opt.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    elif name == "no armature":
        m.dof_armature[:] = 0.0
    return m, factor


def _record(policy, episodes: int, steps: int) -> tuple[list, list[float]]:
    """(qpos, qvel, ctrl, forcerange) at the start of each control step of MuJoCo rollouts, and the deepest
    floor contact (mm, negative: penetration) at each step."""
    env = policy.env.unwrapped
    m, d = env.model, env.data
    records, depth = [], []
    for episode in range(episodes):
        obs, _ = policy.env.reset(seed=SEED + episode)
        for _ in range(steps):
            q, v = d.qpos.copy(), d.qvel.copy()
            obs, _, terminated, truncated, _ = policy.env.step(policy.act(obs))
            records.append((q, v, d.ctrl.copy(), m.actuator_forcerange.copy()))
            mujoco.mj_forward(m, d)
            if d.ncon:
                depth.append(1000.0 * float(d.contact.dist[:d.ncon].min()))
            if terminated or truncated:
                break
    return records, depth


def _one_step(records, engines, n_substeps: int, lift_m: float = 0.0) -> dict[str, float]:
    """Step every record once in each of ``engines`` ((model, data, engine, factor), two of them) and compare."""
    rows = []
    for q0, v0, ctrl, force_range in records:
        q0 = q0.copy()
        q0[2] += lift_m
        out = []
        for model, data, engine, factor in engines:
            model.actuator_forcerange[:] = force_range
            data.qpos[:], data.qvel[:], data.ctrl[:] = q0, v0, ctrl
            mujoco.mj_forward(model, data)
            engine.reset()
            engine.step(n_substeps * factor)
            mujoco.mj_kinematics(model, data)
            out.append((data.xpos[1:].copy(), data.qvel.copy()))
        (x1, v1), (x2, v2) = out
        rows.append((1000.0 * np.linalg.norm(x1 - x2, axis=1).mean(), np.linalg.norm(v1[:3] - v2[:3]),
                     abs(v1[2] - v2[2]), np.abs(v1[6:] - v2[6:]).mean()))
    a = np.array(rows)
    return {"steps": len(a), "body_mm_median": float(np.median(a[:, 0])), "body_mm_mean": float(a[:, 0].mean()),
            "root_vel_m_s_median": float(np.median(a[:, 1])), "root_vertical_vel_m_s_median": float(np.median(a[:, 2])),
            "joint_vel_rad_s_median": float(np.median(a[:, 3]))}


def _servo_error(location, episodes: int) -> dict[str, dict[str, float]]:
    """Torque error of the PyBullet adapter's servo emulation by the number of contact points it held."""
    policy = runs.open_policy(location, rsi=True, engine="pybullet")
    env = policy.env.unwrapped
    engine, dt = env.engine, env.physics_dt_s
    predict = engine._servo_torques
    log: list = []

    def logged(step_dt: float) -> np.ndarray:
        qvel, points = engine._pdata.qvel.copy(), len(engine._contact_points)
        torques = predict(step_dt).copy()
        explicit = engine._pdata.qfrc_passive + engine._pdata.qfrc_actuator
        log.append((qvel, points, torques, explicit, engine._p_armature.copy()))
        return torques

    engine._servo_torques = logged
    rows: dict[str, list] = {}
    try:
        for episode in range(episodes):
            obs, _ = policy.env.reset(seed=SEED + episode)
            log.clear()
            while True:
                obs, _, terminated, truncated, _ = policy.env.step(policy.act(obs))
                if terminated or truncated:
                    break
            for (v0, points, torques, explicit, arm), (v1, *_) in zip(log[:-1], log[1:]):
                j = slice(6, None)  # the joints (the root has no servo, armature or damping)
                predicted = (explicit[j] - torques[j]) / arm[j]
                error = arm[j] * ((v1[j] - v0[j]) / dt - predicted)
                rows.setdefault(str(min(points, 3)) + ("+" if points >= 3 else ""), []).append(
                    (np.abs(error).mean(), np.abs(torques[j]).mean()))
    finally:
        policy.close()
    return {k: {"physics_steps": len(v), "torque_error_nm_median": float(np.median(np.array(v)[:, 0])),
                "torque_error_nm_mean": float(np.array(v)[:, 0].mean()),
                "servo_torque_nm_mean": float(np.array(v)[:, 1].mean())} for k, v in sorted(rows.items())}


def _survival(location, episodes: int, variant: str | None, engine: str = "mujoco") -> dict[str, float]:
    policy = runs.open_policy(location, rsi=True, engine="pybullet" if engine == "trial" else engine)
    try:
        env = policy.env.unwrapped
        if engine == "trial":
            env.engine.close()
            env.engine = TrialStepEngine(env.model, env.data)
        if variant is not None:
            changed, factor = _variant(env.model, variant)
            for name in ("geom_solref", "dof_armature"):
                getattr(env.model, name)[:] = getattr(changed, name)
            env.model.opt.timestep, env.model.opt.cone = changed.opt.timestep, changed.opt.cone
            env.n_substeps *= factor
        figures = evaluate_policy(policy, episodes, SEED)
    finally:
        policy.close()
    return {"episodes": episodes, "success_rate": figures["success_rate"],
            "mean_episode_steps": figures["mean_episode_steps"], "mpjpe_mm": figures["mpjpe_mm_mean"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("policy", nargs="?", default="zoo:imitation/v1/walk/ppo", help="zoo entry, run dir or model .zip")
    parser.add_argument("--episodes", type=int, default=3, help="MuJoCo rollouts whose states are compared")
    parser.add_argument("--steps", type=int, default=60, help="control steps per rollout at most")
    parser.add_argument("--survival", type=int, default=20, help="random-phase episodes per survival row (0: skip)")
    parser.add_argument("--json", help="also write the result to this JSON file")
    args = parser.parse_args()
    location = resolve.policy(args.policy, None).location
    policy = runs.open_policy(location, rsi=True, engine="mujoco")
    env = policy.env.unwrapped
    try:
        records, depth = _record(policy, args.episodes, args.steps)
    finally:
        policy.close()
    base = env.model
    result: dict = {"policy": args.policy, "one_step": {}}

    def engines(other: str) -> list:
        ref_model = copy.copy(base)
        ref_data = mujoco.MjData(ref_model)
        first = (ref_model, ref_data, MuJoCoEngine(ref_model, ref_data), 1)
        if other in ("pybullet", "trial"):
            model = copy.copy(base)
            data = mujoco.MjData(model)
            engine = PyBulletEngine(model, data) if other == "pybullet" else TrialStepEngine(model, data)
            return [first, (model, data, engine, 1)]
        model, factor = _variant(base, other)
        data = mujoco.MjData(model)
        return [first, (model, data, MuJoCoEngine(model, data), factor)]

    print(f"one control step from {len(records)} MuJoCo states: MuJoCo against ...")
    print(f"{'':28s} {'body mm (median/mean)':>22s} {'root vel m/s':>13s} {'vertical':>9s} {'joint vel rad/s':>16s}")
    cases = [("PyBullet", "pybullet", 0.0), ("PyBullet, lifted 1 m", "pybullet", 1.0),
             (f"PyBullet, {TRIALS} trial steps", "trial", 0.0)]
    cases += [(f"MuJoCo, {v}", v, 0.0) for v in VARIANTS]
    for label, other, lift in cases:
        row = _one_step(records, engines(other), env.n_substeps, lift)
        result["one_step"][label] = row
        print(f"{label:28s} {row['body_mm_median']:10.2f} / {row['body_mm_mean']:9.2f} {row['root_vel_m_s_median']:13.3f} "
              f"{row['root_vertical_vel_m_s_median']:9.3f} {row['joint_vel_rad_s_median']:16.2f}", flush=True)
    result["mujoco_contact_depth_mm"] = {"median": float(np.median(depth)), "p5": float(np.percentile(depth, 5)),
                                        "min": float(np.min(depth))}
    print("MuJoCo's deepest floor contact per control step (mm): median {median:.1f}, 5th percentile {p5:.1f}, "
          "min {min:.1f}".format(**result["mujoco_contact_depth_mm"]))
    result["servo_emulation"] = _servo_error(location, 6)
    for points, row in result["servo_emulation"].items():
        held = points + (" (in the air or touching down)" if points == "0" else "")
        print(f"PyBullet servo emulation, {held} contact points held: torque error {row['torque_error_nm_median']:.2f} N m "
              f"median ({row['torque_error_nm_mean']:.2f} mean) of {row['servo_torque_nm_mean']:.1f} N m mean servo torque, "
              f"{row['physics_steps']} physics steps")
    if args.survival:
        result["survival"] = {}
        for label, variant, engine in [("MuJoCo", None, "mujoco"), *((f"MuJoCo, {v}", v, "mujoco") for v in VARIANTS),
                                       ("PyBullet", None, "pybullet"), (f"PyBullet, {TRIALS} trial steps", None, "trial")]:
            row = _survival(location, args.survival, variant, engine)
            result["survival"][label] = row
            print(f"survival {label:28s} {100 * row['success_rate']:5.0f} % of {row['episodes']}, "
                  f"mean {row['mean_episode_steps']:6.1f} steps, MPJPE {row['mpjpe_mm']:.1f} mm", flush=True)
    print(json.dumps(result))
    if args.json:  # atomically: a temporary sibling, then os.replace
        text = json.dumps(result, indent=2).encode()
        runs.atomic_write(Path(args.json), lambda f: f.write(text))


if __name__ == "__main__":
    main()
