"""Engine adapters: the thin seam between an env and the physics engine that steps it.

An env builds one MuJoCo model (``MjModel`` + ``MjData``) and reads everything it observes, rewards and
measures from the ``MjData`` by name. An engine adapter only *advances* that data:

* :class:`MuJoCoEngine` (``engine="mujoco"``, the default) calls ``mj_step``;
* :class:`sportsim.sim.bullet.PyBulletEngine` (``engine="pybullet"``) steps the same humanoid in PyBullet -
  loaded from a URDF written from the compiled MuJoCo model (:mod:`sportsim.sim.urdf`), with the model's
  servo gains and force limits read at every step - and writes the state back into the ``MjData``.

The interface (duck-typed): ``name``; ``reset()`` after the env has set ``qpos``/``qvel`` (and run
``mj_forward``); ``step(nstep)`` advances ``nstep`` physics steps of ``model.opt.timestep`` with the
targets in ``data.ctrl`` and leaves ``qpos``, ``qvel``, ``time`` and the contacts (``ncon``,
``contact``) of the new state in ``data``; ``contact_forces()`` lists (body id, point, force on the
body) of the floor contacts; ``close()``. Engines know no task.
"""

from __future__ import annotations

import mujoco
import numpy as np

from sportsim.errors import ConfigError

ENGINES = ("mujoco", "pybullet")


class MuJoCoEngine:
    """MuJoCo itself: ``step`` is ``mj_step``. (After it, positions-dependent quantities in ``data``
    are those from before the last integration; envs run ``mj_kinematics`` etc. as they need.)"""

    name = "mujoco"

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        self.model, self.data = model, data
        self._force = np.zeros(6)

    def reset(self) -> None:
        """Nothing to do: the state lives in ``data``."""

    def step(self, nstep: int = 1) -> None:
        mujoco.mj_step(self.model, self.data, nstep=nstep)

    def contact_forces(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(body id, contact point (m, world), force on that body (N, world)) per contact of a geom
        with a world (body 0) geom such as the floor, from the last step's contacts."""
        m, d = self.model, self.data
        out = []
        for i in range(d.ncon):
            con = d.contact[i]
            b1, b2 = m.geom_bodyid[con.geom[0]], m.geom_bodyid[con.geom[1]]
            if (b1 == 0) == (b2 == 0):
                continue
            mujoco.mj_contactForce(m, d, i, self._force)
            # the contact frame's rows are its axes; the force acts on geom[1]'s body, from geom[0]'s
            frame = con.frame.reshape(3, 3)
            force = frame.T @ self._force[:3]
            body = b2 if b1 == 0 else b1
            out.append((int(body), con.pos.copy(), force if b1 == 0 else -force))
        return out

    def close(self) -> None:
        """Nothing to release."""


def make_engine(name: str, model: mujoco.MjModel, data: mujoco.MjData):
    """The adapter called ``name`` (one of :data:`ENGINES`) for ``model``/``data``; one line naming the
    valid choices, or the extra to install, when it cannot be made."""
    if name == "mujoco":
        return MuJoCoEngine(model, data)
    if name == "pybullet":
        from sportsim.sim.bullet import PyBulletEngine

        return PyBulletEngine(model, data)
    raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
