"""PyBullet behind the engine seam: the MuJoCo model's humanoid, stepped by Bullet's Featherstone solver.

The MuJoCo model stays the one source of truth. :class:`PyBulletEngine` loads a URDF written from the
compiled :class:`mujoco.MjModel` (:mod:`sportsim.sim.urdf`), and at every ``step`` call (a control
step: the env changes nothing between its physics steps) reads the actuation from the model and the
data - each position actuator's stiffness ``gainprm[0]`` (= ``-biasprm[1]``), its damping
``-biasprm[2]``, the joints' ``dof_damping`` and ``dof_armature``, the actuator's ``forcerange``
(asymmetric or rewritten every step, as it may be) and the targets in ``ctrl`` - so any change to the
MuJoCo humanoid reaches PyBullet with no second model. After stepping, the state is written back into
the ``MjData`` (``qpos``, ``qvel``, ``time``), MuJoCo's kinematics and collision run on it, and
everything an env reads by name (body positions, sites, velocities, contacts for the fall test)
describes the PyBullet state.

Servos (:meth:`PyBulletEngine._servo_torques`): MuJoCo's ``implicitfast`` step emulated. The servo
force clip(Kp (target - q) - Kv qdot, forcerange) and the passive damping are computed by MuJoCo itself
(``mj_fwdVelocity`` and ``mj_fwdActuation`` on a private copy of the model, so ``ctrlrange`` clamping and
any actuator detail carry over);
MuJoCo then integrates the velocity-dependent forces implicitly, (M + dt (Kv + D)) qddot = forces (Kv of
servos inside their force range only: a clamped servo is a constant force), which
is what makes DeepMimic-strength servos stable at 1/120 s (a plain explicit PD needs 0.25 ms, see
``envs/humanoid.xml``). Bullet integrates explicitly, so the adapter predicts qddot from the same
equations of motion (MuJoCo's mass matrix and bias forces of the model, its armature included, the
contact points of the last step that push held still along their normals - an active set) and adds MuJoCo's implicit
correction -dt (Kv + D) qddot and the armature's -armature qddot (Bullet has no armature) to the
torques. Without the contacts in the prediction the stance ankle loses its stiffness (its damping acts
on a free foot) and the standing humanoid tips over. (PyBullet's own ``STABLE_PD_CONTROL`` is no
substitute: it rebuilds each link's inertia from its collision shape, and on this humanoid its damping
diverges at any step.)

Contact: Bullet's (rigid, with its own ERP/CFM), friction = MuJoCo's sliding friction of each geom
(Bullet multiplies the two bodies' coefficients; the floor gets 1, so the product is MuJoCo's maximum).
What differs from MuJoCo and is not carried over: ball-joint cone limits (Bullet's spherical joints have
none; hinge ranges are kept, as hard limits), MuJoCo's soft contacts (solref/solimp) and elliptic
friction cone.

Speed: per 1/120 s physics step the adapter makes six PyBullet calls (state, torques, step, contacts),
about ten MuJoCo calls and a few dozen NumPy operations; at this size each costs about a microsecond, so the
code keeps their number down (views and buffers made once, the root's state and two-point contact
solves in Python floats, terms that only change with the model cached on their inputs) and computes the
exact prediction at every physics step. Freezing the prediction over a control step (M, bias forces and
contact rows of its first physics step, a linear map for the next three) was measured and rejected:
torques off by 4 N m (median; up to 40) one physics step later and seeded rollouts 1 mm apart within
1-4 control steps, while the map held at only a third of the steps (clamps and contact sets change).
Bullet's own settings that leave trajectories identical (overlapping-pair sorting, island size, solver
analytics) do not change its step time. Where the time goes in ``scripts/bench_imitation_speed.py``'s
PyBullet column (perf, 12,000 control steps with random actions, 2026-12-06): Bullet's own dynamics,
solver and collision 28 %, PyBullet's API plumbing about 8 % (every state request copies a ~30 KB state block,
every joint named in a call a ~2 KB joint record: three requests and 24 joint records per physics step),
MuJoCo 12 %, NumPy 17 %, the Python interpreter 30 % - spread over the adapter's and the env's small
calls, with no one hot spot. Fewer allocations and a Python-float active set for three or more points
(buffers for every intermediate) measured no faster in alternating A/B rounds (0.99-1.00x); filtering the
humanoid's links out of Bullet's broadphase pairs (self-collision is off anyway) saved ~2.5 % but reorders
Bullet's contact solve (states 1e-3 apart after 4 steps), so it is not used.

In contact the servo emulation is approximate: the acceleration it predicts holds the contact points
still along their normals only, while Bullet's rigid contacts with friction answer differently, so the
emulated implicit damping and armature torque is off by 3-5 N m (median per joint; mean servo torque
15-18 N m) at physics steps with contacts and exact in the air (``scripts/cross_engine_divergence.py``).
MuJoCo-trained policies that lean on those servo dynamics do not transfer (issue 17's closing note).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import mujoco
import numpy as np

from sportsim.errors import ConfigError
from sportsim.sim.urdf import model_links, write_urdf

try:
    import pybullet as _pb
except ImportError:  # the optional extra
    _pb = None

PYBULLET_MISSING = 'engine=pybullet needs the pybullet package: pip install "sportsim[pybullet]"'
_J = mujoco.mjtJoint
# servo prediction: added to the diagonal of J A^-1 J^T of the contact points held still (several
# points on one rigid foot are redundant constraints); 1/kg-scale, far below any body's inverse mass
_CONTACT_REGULARISATION = 1e-6
# model fields the env may rewrite between steps (gains, force limits, damping), copied into the prediction's model
_SERVO_FIELDS = ("actuator_gainprm", "actuator_biasprm", "actuator_forcerange", "actuator_forcelimited",
                 "dof_damping", "actuator_gear")
_PREDICTION_ITERATIONS = 4  # solves: contact points that would pull are let go


def require_pybullet():
    """The pybullet module, or :class:`ConfigError` naming the extra to install."""
    if _pb is None:
        raise ConfigError(PYBULLET_MISSING)
    return _pb


def _xyzw(q) -> list[float]:
    return [float(q[1]), float(q[2]), float(q[3]), float(q[0])]


def _right_product(p: np.ndarray) -> np.ndarray:
    """The 4x4 matrix R with R @ q = q * p (w-first quaternions)."""
    w, x, y, z = p
    return np.array([[w, -x, -y, -z], [x, w, z, -y], [y, -z, w, x], [z, y, -x, w]])


class PyBulletEngine:
    """The MuJoCo model ``model`` simulated in PyBullet, mirrored into ``data`` (see the module docstring).

    The model needs a free-floating root body, one joint per body (ball, hinge or none) and position
    actuators (affine bias) on single dofs, each dof at most one; the floor is the plane z = 0.
    """

    name = "pybullet"

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        pb = require_pybullet()
        self.model, self.data = model, data
        self._pb = pb
        self._client = pb.connect(pb.DIRECT)
        c = self._client
        links = model_links(model)
        if len(links) != model.nbody - 1 or links[0].joint < 0 or model.jnt_type[links[0].joint] != _J.mjJNT_FREE:
            raise ConfigError("engine=pybullet: the model needs a free root and at most one joint per body")
        with tempfile.TemporaryDirectory(prefix="sportsim_urdf_") as folder:
            urdf = write_urdf(model, Path(folder))
            self.body = pb.loadURDF(str(urdf), flags=pb.URDF_USE_INERTIA_FROM_FILE | pb.URDF_MAINTAIN_LINK_ORDER,
                                    physicsClientId=c)
        pb.setGravity(*model.opt.gravity, physicsClientId=c)
        pb.setTimeStep(model.opt.timestep, physicsClientId=c)
        floor_shape = pb.createCollisionShape(pb.GEOM_PLANE, physicsClientId=c)
        self.floor = pb.createMultiBody(0, floor_shape, physicsClientId=c)
        pb.changeDynamics(self.floor, -1, lateralFriction=1.0, physicsClientId=c)
        self._index(links)
        self._set_friction()
        # no motors by default: URDF joints start with velocity motors that would brake them
        for j in self._ball_links + self._hinge_links:
            if j in self._ball_links:
                pb.setJointMotorControlMultiDof(self.body, j, pb.POSITION_CONTROL, targetPosition=[0, 0, 0, 1],
                                                force=[0, 0, 0], physicsClientId=c)
            else:
                pb.setJointMotorControl2(self.body, j, pb.VELOCITY_CONTROL, force=0, physicsClientId=c)
        pb.changeDynamics(self.body, -1, linearDamping=0.0, angularDamping=0.0, physicsClientId=c)
        for j in range(pb.getNumJoints(self.body, physicsClientId=c)):
            pb.changeDynamics(self.body, j, linearDamping=0.0, angularDamping=0.0, jointDamping=0.0,
                              physicsClientId=c)

    # -- model indexing ------------------------------------------------------------------------------
    def _index(self, links) -> None:
        m = self.model
        root = links[0]
        self._root_body = root.body
        self._link_body = [link.body for link in links[1:]]  # PyBullet link i -> MuJoCo body
        self._link_to_body = {-1: root.body, **dict(enumerate(self._link_body))}
        self._root_ipos = m.body_ipos[root.body].copy()
        self._root_iquat = m.body_iquat[root.body].copy()
        self._ball_links, self._hinge_links, self._controlled = [], [], []
        ball_q, ball_v, hinge_q, hinge_v = [], [], [], []
        for i, link in enumerate(links[1:]):
            j = link.joint
            if j < 0:
                continue
            if m.jnt_type[j] == _J.mjJNT_BALL:
                self._ball_links.append(i)
                ball_q.append(m.jnt_qposadr[j])
                ball_v.append(m.jnt_dofadr[j])
            elif m.jnt_type[j] == _J.mjJNT_HINGE:
                self._hinge_links.append(i)
                hinge_q.append(m.jnt_qposadr[j])
                hinge_v.append(m.jnt_dofadr[j])
        self._ball_q, self._ball_v = np.array(ball_q, dtype=int), np.array(ball_v, dtype=int)
        self._hinge_q, self._hinge_v = np.array(hinge_q, dtype=int), np.array(hinge_v, dtype=int)
        self._joint_links = self._ball_links + self._hinge_links
        # PyBullet's joint states, flattened (ball: x y z w, hinge: angle) -> qpos / qvel addresses
        self._q_index = np.array([a + k for a in ball_q for k in (1, 2, 3, 0)] + hinge_q, dtype=int)
        self._v_index = np.array([a + k for a in ball_v for k in range(3)] + hinge_v, dtype=int)
        # root: body frame <-> inertial (PyBullet's base) frame, as fixed 4x4 quaternion products
        self._to_com_quat = _right_product(self._root_iquat)
        inv = self._root_iquat * np.array([1.0, -1.0, -1.0, -1.0])
        self._from_com_quat = _right_product(inv)
        self._rot = np.zeros(9)
        self._root_ipos_floats = tuple(float(x) for x in self._root_ipos)
        # the root's 7 coordinates and 6 dofs, then PyBullet's joint states (the fast path of _read_state)
        self._q_all = np.concatenate((np.arange(7), self._q_index))
        self._v_all = np.concatenate((np.arange(6), self._v_index))
        sizes = [3] * len(self._ball_links) + [1] * len(self._hinge_links)
        ends = np.cumsum(sizes)
        self._force_splits = list(zip((ends - sizes).tolist(), ends.tolist()))
        n_ball = len(self._ball_links)
        self._ball_dofs = self._v_index[:3 * n_ball].reshape(n_ball, 3)  # per ball link: its 3 dofs
        self._hinge_dofs = self._v_index[3 * n_ball:].reshape(-1, 1)
        sizes = [4] * len(self._ball_links) + [1] * len(self._hinge_links)
        ends = np.cumsum(sizes)
        self._q_splits = list(zip((ends - sizes).tolist(), ends.tolist()))
        # the servo prediction's own model and data (see _servo_torques)
        self._pmodel = copy.copy(m)
        # no contacts or constraints of its own (the prediction adds PyBullet's contact points)
        off = mujoco.mjtDisableBit
        self._pmodel.opt.disableflags |= off.mjDSBL_CONTACT | off.mjDSBL_CONSTRAINT
        self._pdata = mujoco.MjData(self._pmodel)
        # array views, made once (each attribute access of an MjModel/MjData array builds a new view)
        pm, pd, d = self._pmodel, self._pdata, self.data
        self._copies = [(getattr(pm, n), getattr(m, n)) for n in _SERVO_FIELDS]
        self._qpos, self._qvel, self._ctrl = d.qpos, d.qvel, d.ctrl
        self._p_state = (pd.qpos, pd.qvel, pd.ctrl)
        self._limited, self._range, self._bias_kv = m.actuator_forcelimited, m.actuator_forcerange, m.actuator_biasprm[:, 2]
        self._damping, self._armature, self._p_armature = m.dof_damping, m.dof_armature, pm.dof_armature
        self._p_force = (pd.actuator_force, pd.qfrc_passive, pd.qfrc_actuator, pd.qfrc_bias)
        self._p_free = pd.qacc_smooth
        self._forces_out = (d.actuator_force, d.qfrc_passive, d.qfrc_actuator)
        # set per step() call (_prepare): a servo's force range (-inf/inf where it is not limited), the
        # armature of the actuated dofs outside the servo term, dt Kv
        self._low, self._high = np.full(m.nu, -np.inf), np.full(m.nu, np.inf)
        self._arm_act, self._dt_kv = np.zeros(m.nu), np.zeros(m.nu)
        self._inside = np.ones(m.nu, dtype=bool)  # servos inside their force range at the last physics step
        self._inside_bytes = self._inside.tobytes()
        self._prepared: tuple = ()  # the inputs of _prepare's derived terms at its last computation
        # contact Jacobians of n points (and the views mj_jac writes), A^-1 J^T
        self._jac_buffers = [np.empty((n, 3, m.nv)) for n in range(9)]
        self._jac_views = [list(buffer) for buffer in self._jac_buffers]
        self._along_buffers = [np.empty((n, m.nv)) for n in range(9)]
        self._root_iquat_identity = bool(np.array_equal(self._root_iquat, (1.0, 0.0, 0.0, 0.0)))
        self._root_offset = bool(np.any(self._root_ipos)) or not self._root_iquat_identity
        self._dt = float(m.opt.timestep)
        self._contact_points: list = []  # (link, point on the humanoid) per contact point of the last step
        self._fresh = False  # data mirrors PyBullet's state (after a step or reset; the env writes no state between)
        # actuators -> dofs (each actuated dof: its actuator index; -1 unactuated)
        dof_act = np.full(m.nv, -1)
        for a in range(m.nu):
            if m.actuator_trntype[a] != mujoco.mjtTrn.mjTRN_JOINT:
                raise ConfigError(f"engine=pybullet: actuator '{m.actuator(a).name}' does not drive a joint")
            if m.actuator_biastype[a] != mujoco.mjtBias.mjBIAS_AFFINE or m.actuator_gaintype[a] != mujoco.mjtGain.mjGAIN_FIXED:
                raise ConfigError(f"engine=pybullet: actuator '{m.actuator(a).name}' is not a position servo")
            j = m.actuator_trnid[a, 0]
            gear = m.actuator_gear[a, :3]
            axis = int(np.argmax(np.abs(gear)))
            if m.jnt_type[j] == _J.mjJNT_HINGE:
                axis = 0
            if np.count_nonzero(gear) != 1 or gear[axis] != 1.0:
                raise ConfigError(f"engine=pybullet: actuator '{m.actuator(a).name}' needs a unit gear on one axis")
            dof = m.jnt_dofadr[j] + axis
            if m.actuator_dyntype[a] != mujoco.mjtDyn.mjDYN_NONE or m.actuator_biasprm[a, 1] != -m.actuator_gainprm[a, 0]:
                raise ConfigError(f"engine=pybullet: actuator '{m.actuator(a).name}' is not a plain position servo")
            if dof_act[dof] >= 0:
                raise ConfigError(f"engine=pybullet: two actuators drive dof {dof}")
            dof_act[dof] = a
        self._act_dof = np.array([int(np.flatnonzero(dof_act == a)[0]) for a in range(m.nu)], dtype=int)

    def _set_friction(self) -> None:
        m, pb, c = self.model, self._pb, self._client
        for i, b in enumerate([self._root_body, *self._link_body]):
            g0, n = m.body_geomadr[b], m.body_geomnum[b]
            if n:
                mu = float(m.geom_friction[g0:g0 + n, 0].max())
                pb.changeDynamics(self.body, i - 1, lateralFriction=mu, physicsClientId=c)

    # -- state ---------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Put the PyBullet humanoid in the state of ``data`` (qpos, qvel); call it after writing a state
        into ``data`` (between steps ``data`` is taken to mirror PyBullet)."""
        pb, c, d = self._pb, self._client, self.data
        q, v = d.qpos, d.qvel
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, q[3:7])
        rot = rot.reshape(3, 3)
        arm = rot @ self._root_ipos
        com_quat = self._to_com_quat @ q[3:7]
        omega_world = rot @ v[3:6]
        pb.resetBasePositionAndOrientation(self.body, (q[0:3] + arm).tolist(), _xyzw(com_quat), physicsClientId=c)
        self._contact_points = []
        self._fresh = True
        pb.resetBaseVelocity(self.body, (v[0:3] + np.cross(omega_world, arm)).tolist(), omega_world.tolist(),
                             physicsClientId=c)
        flat_q, flat_v = q[self._q_index].tolist(), v[self._v_index].tolist()
        pb.resetJointStatesMultiDof(self.body, self._joint_links, [flat_q[a:b] for a, b in self._q_splits],
                                    [flat_v[a:b] for a, b in self._force_splits], physicsClientId=c)

    def _read_state(self, qpos: np.ndarray | None = None, qvel: np.ndarray | None = None) -> None:
        """Copy PyBullet's state into ``qpos`` / ``qvel`` (default: ``data``'s; written for speed: one
        fancy-indexed assignment per array; the root's inertial offset undone in Python floats where
        the root's inertial frame is not turned (the humanoids here), else with a fixed 4x4 quaternion
        product)."""
        pb, c = self._pb, self._client
        if qpos is None:
            qpos, qvel = self._qpos, self._qvel
        pos, orn = pb.getBasePositionAndOrientation(self.body, physicsClientId=c)
        lin, ang = pb.getBaseVelocity(self.body, physicsClientId=c)
        states = pb.getJointStatesMultiDof(self.body, self._joint_links, physicsClientId=c)
        if self._root_iquat_identity:  # the root's body frame turned as its inertial frame
            # the rotation matrix as mju_quat2Mat computes it, the root's terms in Python floats, and
            # one fancy-indexed assignment per array (fewer NumPy calls: they dominate at this size)
            x, y, z, w = orn
            q01, q02, q03, q11, q12, q13 = w * x, w * y, w * z, x * x, x * y, x * z
            q00, q22, q23, q33 = w * w, y * y, y * z, z * z
            r0, r1, r2 = q00 + q11 - q22 - q33, 2 * (q12 - q03), 2 * (q13 + q02)
            r3, r4, r5 = 2 * (q12 + q03), q00 - q11 + q22 - q33, 2 * (q23 - q01)
            r6, r7, r8 = 2 * (q13 - q02), 2 * (q23 + q01), q00 - q11 - q22 + q33
            wx, wy, wz = ang
            ix, iy, iz = self._root_ipos_floats
            ax, ay, az = r0 * ix + r1 * iy + r2 * iz, r3 * ix + r4 * iy + r5 * iz, r6 * ix + r7 * iy + r8 * iz
            root_q = [pos[0] - ax, pos[1] - ay, pos[2] - az, w, x, y, z]
            root_q += [v for s in states for v in s[0]]
            qpos[self._q_all] = root_q
            root_v = [lin[0] - (wy * az - wz * ay), lin[1] - (wz * ax - wx * az), lin[2] - (wx * ay - wy * ax),
                      r0 * wx + r3 * wy + r6 * wz, r1 * wx + r4 * wy + r7 * wz, r2 * wx + r5 * wy + r8 * wz]
            root_v += [v for s in states for v in s[1]]
            qvel[self._v_all] = root_v
            return
        qpos[self._q_index] = [x for s in states for x in s[0]]
        qvel[self._v_index] = [x for s in states for x in s[1]]
        rot = self._rot
        if self._root_iquat_identity:  # the root's body frame turned as its inertial frame: no product
            quat = qpos[3:7]
            quat[:] = orn[3], orn[0], orn[1], orn[2]
        else:
            quat = self._from_com_quat @ (orn[3], orn[0], orn[1], orn[2])
            qpos[3:7] = quat
        mujoco.mju_quat2Mat(rot, quat)
        r = rot.reshape(3, 3)
        qvel[3:6] = r.T @ ang
        if not self._root_offset:
            qpos[0:3] = pos
            qvel[0:3] = lin
            return
        ax, ay, az = r @ self._root_ipos
        wx, wy, wz = ang
        qpos[0:3] = (pos[0] - ax, pos[1] - ay, pos[2] - az)
        qvel[0:3] = (lin[0] - (wy * az - wz * ay), lin[1] - (wz * ax - wx * az), lin[2] - (wx * ay - wy * ax))

    # -- actuation and stepping ------------------------------------------------------------------------
    def _prepare(self, dt: float) -> None:
        """Once per :meth:`step` call: what the env may have changed since the last one (gains, force
        limits, damping, armature, the targets in ``ctrl``) into the prediction's model and data, and
        the servo terms that stay fixed over the call's physics steps."""
        for mine, theirs in self._copies:
            mine[:] = theirs
        self._p_state[2][:] = self._ctrl
        key = (dt, self._range.tobytes(), self._limited.tobytes(), self._armature.tobytes(), self._damping.tobytes(),
               self._bias_kv.tobytes())
        if key == self._prepared:  # the terms below are those of the last call
            return
        self._prepared = key
        limited = self._limited != 0
        act = self._act_dof
        self._low = np.where(limited, self._range[:, 0], -np.inf)
        self._high = np.where(limited, self._range[:, 1], np.inf)
        # the prediction's armature: armature + dt D everywhere, + dt Kv on the dofs of servos inside
        # their force range (set per physics step in _servo_torques)
        self._p_armature[:] = self._armature + dt * self._damping
        self._arm_act = self._p_armature[act].copy()
        self._dt_kv = -dt * self._bias_kv
        self._p_armature[act] = self._arm_act + self._dt_kv * self._inside  # the last step's clamp pattern

    def _servo_torques(self, dt: float) -> np.ndarray:
        """Joint torques per dof for the state in the prediction's data (``_pdata``: qpos, qvel, and the
        targets in ctrl, see :meth:`_prepare`), MuJoCo's ``implicitfast`` step emulated: the
        servo force clip(Kp (target - q) - Kv qdot, forcerange) and the passive damping -D qdot as MuJoCo
        computes them, plus MuJoCo's implicit correction -dt (Kv + D) qddot (Kv of servos inside their
        range only) and the armature's -armature qddot, where qddot solves
        (M + dt (Kv + D)) qddot = force - D qdot - bias + J^T lambda with the contact points of the last
        step held still along their normals (points that would pull are let go, at most
        ``_PREDICTION_ITERATIONS`` solves).

        Computed on a private copy of the model whose armature carries dt (Kv + D), so that MuJoCo's own
        sparse factorisation (``mj_factorM``, ``mj_fwdAcceleration``, ``mj_solveM``) solves with
        M + dt (Kv + D). Written for speed (a physics step's Python work is most of its cost): few NumPy
        operations, MuJoCo's own functions for the rest."""
        pm, pd = self._pmodel, self._pdata
        arm = self._p_armature
        # MuJoCo's forward dynamics, only the stages needed (no sensors, cameras, tendons, constraints):
        mujoco.mj_kinematics(pm, pd)
        mujoco.mj_comPos(pm, pd)
        mujoco.mj_transmission(pm, pd)
        mujoco.mj_fwdVelocity(pm, pd)  # actuator velocities, passive and bias forces
        mujoco.mj_fwdActuation(pm, pd)  # the servo forces, clipped to forcerange
        force = self._p_force[0]
        # a clamped servo is a constant force: no implicit damping from it (the armature is rewritten only
        # when the pattern changed: with random actions at 70 % of the physics steps)
        inside = (force > self._low) & (force < self._high)
        if inside.tobytes() != self._inside_bytes:
            self._inside, self._inside_bytes = inside, inside.tobytes()
            arm[self._act_dof] = self._arm_act + self._dt_kv * inside
        mujoco.mj_crb(pm, pd)  # M + dt (Kv + D)
        mujoco.mj_factorM(pm, pd)
        mujoco.mj_fwdAcceleration(pm, pd)  # qacc_smooth: the acceleration without contacts
        free = self._p_free
        explicit = self._p_force[1] + self._p_force[2]  # passive + servo forces
        jac = self._contact_jacobian()  # one row per contact point: its normal
        if jac is None:
            return explicit - arm * free
        # contact points that push hold still: acc = free + A^-1 J^T lam with J (v + dt acc) = 0, i.e.
        # (J A^-1 J^T) lam = -J v / dt - J free; A^-1 J^T once, the active set on the small system
        n = len(jac)
        along = self._along_buffers[n] if n < len(self._along_buffers) else np.empty_like(jac)
        mujoco.mj_solveM(pm, pd, along, jac)
        if n == 1:  # one point (a third of the steps of a walk): the same solve with scalars
            row, col = jac[0], along[0]
            lam = float(row @ (self._p_state[1] / -dt - free)) / (float(row @ col) + _CONTACT_REGULARISATION)
            return explicit - arm * (free + lam * col if lam >= 0.0 else free)
        if n == 2:  # two points (another third): the 2 x 2 system and its active set in Python floats
            return self._two_points(explicit, arm, free, jac, along, dt)
        return self._points(explicit, arm, free, jac, along, dt)

    def _points(self, explicit, arm, free, jac, along, dt) -> np.ndarray:
        """:meth:`_servo_torques` for any number of contact points: the active set on the small system
        J A^-1 J^T, factored by MuJoCo's dense Cholesky."""
        n = len(jac)
        schur = jac @ along.T
        schur.flat[::n + 1] += _CONTACT_REGULARISATION
        bias_lam = jac @ (self._p_state[1] / -dt - free)
        for iteration in range(_PREDICTION_ITERATIONS):
            factor = schur.copy()
            mujoco.mju_cholFactor(factor, 0.0)  # symmetric positive definite: MuJoCo's small dense Cholesky
            lam = np.empty(len(bias_lam))
            mujoco.mju_cholSolve(lam, factor, bias_lam)
            if lam.min() >= 0.0 or iteration == _PREDICTION_ITERATIONS - 1:  # the last solve stands
                break
            pushing = lam >= 0.0  # points that would pull are let go
            if not pushing.any():
                return explicit - arm * free
            schur, bias_lam, along = schur[pushing][:, pushing], bias_lam[pushing], along[pushing]
        return explicit - arm * (free + lam @ along)

    def _two_points(self, explicit, arm, free, jac, along, dt) -> np.ndarray:
        """:meth:`_servo_torques` for two contact points: the same equations and active set as the general
        path (both held, else the one that pushes alone, else none), solved in closed form."""
        (s00, s01), (s10, s11) = (jac @ along.T).tolist()
        b0, b1 = (jac @ (self._p_state[1] / -dt - free)).tolist()
        s00 += _CONTACT_REGULARISATION
        s11 += _CONTACT_REGULARISATION
        det = s00 * s11 - s01 * s10
        lam0, lam1 = (s11 * b0 - s01 * b1) / det, (s00 * b1 - s10 * b0) / det
        if (lam0 >= 0.0 and lam1 >= 0.0) or _PREDICTION_ITERATIONS == 1:
            return explicit - arm * (free + lam0 * along[0] + lam1 * along[1])
        if lam0 >= 0.0 or lam1 >= 0.0:  # the one that pushes, alone
            k = 0 if lam0 >= 0.0 else 1
            lam = (b0 / s00) if k == 0 else (b1 / s11)
            if lam >= 0.0 or _PREDICTION_ITERATIONS == 2:
                return explicit - arm * (free + lam * along[k])
        return explicit - arm * free

    def step(self, nstep: int = 1) -> None:
        """Advance ``nstep`` physics steps of ``model.opt.timestep`` with the servo targets in
        ``data.ctrl``, then mirror the state into ``data`` (kinematics and contacts included;
        ``data.actuator_force``, ``qfrc_actuator`` and ``qfrc_passive`` hold the last physics step's servo
        and passive forces)."""
        pb, c, m, d = self._pb, self._client, self.model, self.data
        dt = float(m.opt.timestep)
        if dt != self._dt:
            pb.setTimeStep(dt, physicsClientId=c)
            self._dt = dt
        self._prepare(dt)
        qpos, qvel = self._p_state[0], self._p_state[1]
        if self._fresh:  # data mirrors PyBullet after the last step or reset()
            qpos[:], qvel[:] = self._qpos, self._qvel
        else:
            self._read_state(qpos, qvel)
        body, links, floor, balls, hinges = self.body, self._joint_links, self.floor, self._ball_dofs, self._hinge_dofs
        control, simulate, contacts = pb.setJointMotorControlMultiDofArray, pb.stepSimulation, pb.getContactPoints
        torque_control = pb.TORQUE_CONTROL
        for i in range(nstep):
            if i:
                self._read_state(qpos, qvel)
            torques = self._servo_torques(dt)
            # PyBullet's per-joint lists straight from 2-D index arrays (ball: 3 dofs, hinge: 1)
            control(body, links, torque_control, forces=torques[balls].tolist() + torques[hinges].tolist(),
                    physicsClientId=c)
            simulate(physicsClientId=c)
            self._contact_points = [(pt[3], pt[5]) for pt in contacts(body, floor, physicsClientId=c)]
        self._read_state()
        self._fresh = True
        # the last physics step's servo and passive forces (kinetics read them as MuJoCo's)
        for mine, theirs in zip(self._forces_out, self._p_force):
            mine[:] = theirs
        d.time += nstep * dt
        mujoco.mj_kinematics(m, d)
        mujoco.mj_collision(m, d)

    def _body_of_link(self, link: int) -> int:
        return self._root_body if link == -1 else self._link_body[link]

    def _contact_jacobian(self) -> np.ndarray | None:
        """One row per contact point of PyBullet's last step - the point's velocity Jacobian (MuJoCo's
        ``mj_jac`` at the point on the humanoid) along the contact normal - or None without contacts.
        The floor is the plane z = 0, so every normal is +z and the row is the Jacobian's z row.
        (Holding the points still along the friction directions too changes nothing measurable: the
        standing hold and the zero-action walk are the same, at 3x the cost.)"""
        points = self._contact_points
        if not points:
            return None
        m, d, bodies, n = self._pmodel, self._pdata, self._link_to_body, len(points)
        jacs = self._jac_buffers[n] if n < len(self._jac_buffers) else np.empty((n, 3, m.nv))
        for jac, (link, point) in zip(self._jac_views[n] if n < len(self._jac_views) else jacs, points):
            mujoco.mj_jac(m, d, jac, None, point, bodies[link])
        return jacs[0, 2:3] if n == 1 else np.ascontiguousarray(jacs[:, 2])

    # -- contacts ---------------------------------------------------------------------------------------
    def contact_forces(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Contacts between the humanoid and the floor in PyBullet's last step: (MuJoCo body id, contact
        point on the floor (m, world), force on the humanoid (N, world)) per contact point."""
        pb, c = self._pb, self._client
        out = []
        for pt in pb.getContactPoints(self.body, self.floor, physicsClientId=c):
            link = pt[3]
            body = self._body_of_link(link)
            normal = np.asarray(pt[7]) * pt[9]  # contactNormalOnB points from the floor to the humanoid
            friction = pt[10] * np.asarray(pt[11]) + pt[12] * np.asarray(pt[13])
            out.append((body, np.asarray(pt[6]), normal + friction))
        return out

    def close(self) -> None:
        if self._client is not None and self._pb.isConnected(self._client):
            self._pb.disconnect(self._client)
        self._client = None

    def __del__(self) -> None:  # a DIRECT client holds its own world
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

