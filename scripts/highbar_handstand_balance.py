"""How well can the HighBar-v1 gymnast balance a handstand? A linear-quadratic regulator check.

    python scripts/highbar_handstand_balance.py [--grip-moment-nm 0 14 30 80] [--shoulder-deg 0]

HighBar-v1 gives the hands a grip (wrist) moment, +-0.41 N m per kg (+-30 N m at 73 kg; issue 16's
decision, sensitivity range 14-80 N m), on top of the friction (about 3 N m in a handstand), and limits
shoulder and hip by the gymnast strength curves (sportsim.strength). This script measures how large a
disturbance a regulator recovers from at each grip moment - 0 is HighBar-v0's friction-only grip:

1. the equilibrium: a handstand with the shoulders at ``--shoulder-deg`` (v1 has no stops: 0 = straight)
   and the CoM straight above the bar, with the joint torques that hold it (inverse dynamics, net of the
   passive joint torques);
2. the discrete-time linear model of one control step (central differences of the env's physics steps,
   passive torques included, hand friction off), inputs shoulder, hip and grip torque;
3. a discrete LQR (Riccati iteration), run in the real env (friction on) through its actions - joint
   torques clipped to the strength curves at the current angle and rate, the grip to the env's grip
   moment - from handstands leaning 0.5-10 deg, at rest, and from the upright with 0.2-1 rad/s; the table
   gives the longest continuous hold within 2 x ``success_hold_s`` (HighBar-v1 ``handstand_hold``).

Only numpy and MuJoCo; a few seconds per configuration.
"""

from __future__ import annotations

import argparse
import math

import mujoco
import numpy as np

from sportsim.envs.highbar import HighBarEnv

LEANS_DEG = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
RATES_RADPS = (0.2, 0.5, 1.0)
# state weights: bar x/z, hand angle, shoulder, hip, then their rates; action weight (normalised torques)
Q_DIAG = (1.0, 1.0, 100.0, 1.0, 1.0, 0.1, 0.1, 3.0, 3.0, 3.0)
R_JOINT, R_GRIP = 30.0, 1.0


class Plant:
    """One control step of the env's physics as a function of state and (shoulder, hip, grip) torques."""

    def __init__(self, env: HighBarEnv):
        self.env, self.m, self.d = env, env.model, env.data
        self.q = env._q
        self.hand_dof = env._v["hand"]
        self.friction = self.m.dof_frictionloss.copy()
        self.act = env._act

    def passive(self) -> tuple[float, float]:
        d, q, v, s = self.d, self.q, self.env._v, self.env.strength
        return (s.shoulder(d.qpos[q["shoulder"]], d.qvel[v["shoulder"]])[2], s.hip(d.qpos[q["hip"]], d.qvel[v["hip"]])[2])

    def step(self, x: np.ndarray, tau: np.ndarray) -> np.ndarray:
        m, d = self.m, self.d
        d.qpos[:], d.qvel[:] = x[:m.nv], x[m.nv:]
        d.time = 0.0
        for _ in range(self.env.n_substeps):  # the env's motors: active torque + passive, grip moment
            ps, ph = self.passive()
            d.ctrl[self.act["shoulder"]], d.ctrl[self.act["hip"]] = tau[0] + ps, tau[1] + ph
            d.qfrc_applied[:] = 0.0
            d.qfrc_applied[self.hand_dof] = tau[2]  # unclipped, for the linearisation
            mujoco.mj_step(m, d)
        d.qfrc_applied[:] = 0.0
        return np.concatenate([d.qpos, d.qvel])

    def equilibrium(self, shoulder_rad: float) -> tuple[np.ndarray, np.ndarray]:
        """Handstand with the given shoulder angle, CoM above the bar, at rest: state and holding torques."""
        m, d, q = self.m, self.d, self.q
        m.dof_frictionloss[:] = 0.0
        mujoco.mj_resetData(m, d)
        d.qpos[q["shoulder"]] = shoulder_rad
        d.qpos[q["bar_z"]] = -self.env.body_weight_n / self.env.bar.stiffness_z_npm
        bar = m.body("bar").id

        def com_ahead(phi: float) -> float:
            d.qpos[q["hand"]] = phi
            mujoco.mj_forward(m, d)
            return float(d.subtree_com[1][0] - d.xpos[bar][0])

        lo, hi = math.pi - 0.8, math.pi + 0.8
        f_lo = com_ahead(lo)
        for _ in range(60):  # bisection: the CoM straight above the bar
            mid = 0.5 * (lo + hi)
            if (com_ahead(mid) > 0.0) == (f_lo > 0.0):
                lo = mid
            else:
                hi = mid
        com_ahead(0.5 * (lo + hi))
        d.qacc[:] = 0.0  # at rest: the torques that hold the shape against gravity
        mujoco.mj_inverse(m, d)
        ps, ph = self.passive()
        tau = np.array([d.qfrc_inverse[self.env._v["shoulder"]] - ps, d.qfrc_inverse[self.env._v["hip"]] - ph, 0.0])
        x = np.concatenate([d.qpos, np.zeros(m.nv)])
        for _ in range(50):  # let the bar settle statically under the held body
            x[:2] += 0.5 * (self.step(x, tau)[:2] - x[:2])
        return x, tau

    def linearise(self, x0: np.ndarray, tau0: np.ndarray, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
        n = x0.size
        a = np.zeros((n, n))
        b = np.zeros((n, 3))
        for i in range(n):
            e = np.zeros(n)
            e[i] = eps
            a[:, i] = (self.step(x0 + e, tau0) - self.step(x0 - e, tau0)) / (2 * eps)
        for j in range(3):
            e = np.zeros(3)
            e[j] = eps
            b[:, j] = (self.step(x0, tau0 + e) - self.step(x0, tau0 - e)) / (2 * eps)
        self.m.dof_frictionloss[:] = self.friction
        return a, b


def dlqr(a: np.ndarray, b: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    p = q.copy()
    for _ in range(200_000):
        k = np.linalg.solve(r + b.T @ p @ b, b.T @ p @ a)
        p_next = q + a.T @ p @ (a - b @ k)
        if np.abs(p_next - p).max() < 1e-10 * np.abs(p).max():
            return k
        p = p_next
    raise RuntimeError("Riccati iteration did not converge")


def longest_hold(env: HighBarEnv, plant: Plant, x0, tau0, k, scale, grip_nm, lean_deg=0.0, rate=0.0) -> float:
    env.reset(seed=0)
    d = env.data
    d.qpos[:], d.qvel[:] = x0[:env.model.nv], 0.0
    d.qpos[plant.q["hand"]] += math.radians(lean_deg)
    d.qvel[plant.hand_dof] = rate
    mujoco.mj_forward(env.model, d)
    best = 0.0
    q, v, s = plant.q, env._v, env.strength
    for _ in range(int(2 * env.success_hold_s / env.control_dt_s)):
        u = -k @ (np.concatenate([d.qpos, d.qvel]) - x0) * scale
        tau = tau0 + u
        limits = (s.shoulder(d.qpos[q["shoulder"]], d.qvel[v["shoulder"]]), s.hip(d.qpos[q["hip"]], d.qvel[v["hip"]]))
        action = [t / max(lim[1], 1e-9) if t > 0 else t / max(lim[0], 1e-9) for t, lim in zip(tau[:2], limits)]
        action.append(tau[2] / grip_nm if grip_nm > 0 else 0.0)
        _, _, terminated, truncated, info = env.step(np.clip(action, -1, 1).astype(np.float32))
        best = max(best, info["hold_time_s"])
        if terminated or truncated:
            break
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grip-moment-nm", type=float, nargs="+", default=[0.0, 14.0, 0.41 * 73.0, 80.0])
    parser.add_argument("--shoulder-deg", type=float, default=0.0)
    args = parser.parse_args()
    env = HighBarEnv(task="handstand_hold")
    plant = Plant(env)
    x0, tau0 = plant.equilibrium(math.radians(args.shoulder_deg))
    a, b = plant.linearise(x0, tau0)
    growth = max(abs(np.linalg.eigvals(a)))
    print(f"handstand equilibrium: shoulder {args.shoulder_deg:.1f} deg, holding torques shoulder "
          f"{tau0[0]:.1f} N m, hip {tau0[1]:.1f} N m; open-loop instability: x{growth:.3f} per "
          f"{env.control_dt_s * 1e3:.0f} ms step (time constant {env.control_dt_s / math.log(growth):.3f} s)")
    print(f"longest handstand hold (s, in {2 * env.success_hold_s:g} s; success needs {env.success_hold_s:g}) under a clipped LQR:")
    header = " ".join(f"{v:>5g}deg" for v in LEANS_DEG) + " | " + " ".join(f"{v:>4g}rad/s" for v in RATES_RADPS)
    print(f"{'grip moment':>12} | lean at rest: {header}")
    torque_scale = np.array([250.0, 250.0, 1.0])  # LQR in units of 250 N m per joint, N m at the grip
    for grip in args.grip_moment_nm:
        env = HighBarEnv(task="handstand_hold", grip_moment_nm=grip)
        plant = Plant(env)
        scale = torque_scale * np.array([1.0, 1.0, max(grip, 1e-9)])
        k = dlqr(a, b * scale, np.diag(Q_DIAG), np.diag([R_JOINT, R_JOINT, R_GRIP]))
        leans = [longest_hold(env, plant, x0, tau0, k, scale, grip, lean_deg=v) for v in LEANS_DEG]
        rates = [longest_hold(env, plant, x0, tau0, k, scale, grip, rate=v) for v in RATES_RADPS]
        cells = " ".join(f"{h:>8.2f}" for h in leans) + " | " + " ".join(f"{h:>9.2f}" for h in rates)
        print(f"{grip:>9g} Nm | {'':13} {cells}")


if __name__ == "__main__":
    main()
