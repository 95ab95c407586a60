"""The imitation env's comparison of the simulated humanoid with its reference: DeepMimic's five errors, the
tracking metrics and the observation of one step (:class:`ReferenceComparison`), and sportsim's two foot
errors, slip and contact (:class:`FootComparison`; definitions: :class:`sportsim.envs.imitation.ImitationEnv`).

This runs once per control step, after the physics, and is the larger part of the env's Python time, so it
is written for speed: index arrays, weight matrices and the reference side of every comparison are prepared
once per model and track, and a step fills preallocated buffers through precomputed views of them (about
60 NumPy calls, none that allocates more than a few numbers). The arithmetic - every operation, its operands
and their order - is that of the first, plainer version, so observations, rewards and metrics are the same
to the last bit (``tests/test_imitation_speed_identity.py``).
"""

from __future__ import annotations

import math
from typing import Any

import mujoco
import numpy as np
from numpy.lib.stride_tricks import as_strided

from sportsim import humanoid
from sportsim import kinetics as kin
from sportsim.envs import imitation_params as ip
from sportsim.errors import ModelFileError


def _comparison_layout() -> dict[str, Any]:
    """Slices of the comparison vector: hinge angles (rad), joint dof velocities, root angular velocity
    (world), root position, root velocity, end effectors (heading frame, 4 x 3), CoM velocity, metric
    points (13 joint centres then 5 end-effector sites, x 3)."""
    sizes = (("hinge", 4), ("dof_vel", 28), ("root_omega", 3), ("root_pos", 3), ("root_vel", 3),
             ("end_effectors", 3 * len(ip.END_EFFECTORS)), ("com_vel", 3),
             ("joint_points", 3 * len(humanoid.JOINT_NAMES)), ("site_points", 3 * len(humanoid.END_EFFECTOR_NAMES)))
    layout: dict[str, Any] = {}
    start = 0
    for name, size in sizes:
        layout[name] = slice(start, start + size)
        start += size
    layout["points"] = slice(layout["joint_points"].start, start)
    layout["size"] = start
    return layout


VEC = _comparison_layout()


def quat_to_xy_axes(q: np.ndarray) -> np.ndarray:
    """The first two columns (x and y axes) of the rotation matrices of w-first quaternions, (..., 3, 2)."""
    w, x, y, z = np.moveaxis(np.asarray(q, dtype=float), -1, 0)
    cols = [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z)],
            [2 * (x * z - w * y), 2 * (y * z + w * x)]]
    return np.moveaxis(np.array(cols), (0, 1), (-2, -1))


def _aligned_parts(*sizes: int) -> tuple[int, ...]:
    """Bounds of parts of the given sizes laid one after the other, each starting at a multiple of 8 elements:
    (end of the first, start of the second, end of the second, ...); the last is the total size."""
    bounds, start = [sizes[0]], 0
    for size in sizes[1:]:
        start = -(-bounds[-1] // 8) * 8
        bounds += [start, start + size]
    return tuple(bounds)


class ReferenceComparison:
    """Compares ``data``'s humanoid with step k of a reference track and writes the observation into
    :attr:`obs` (float64; the env hands out a float32 copy).

    The errors of step k are ``W @ (s - r_k)^2`` plus the rotation-angle parts, with ``s`` the simulated
    state's comparison vector (layout :data:`VEC`) and ``r_k`` the reference's, precomputed per track.
    Reads the kinematics, ``cvel``, ``subtree_com``/``subtree_linvel`` and ``actuator_length`` of ``data``:
    the caller runs ``mj_kinematics``, ``mj_comPos``, ``mj_comVel`` and ``mj_subtreeVel`` first; this
    runs ``mj_transmission``. The views it keeps - of its own buffers and of ``data``'s arrays - are made
    again after a copy or unpickling (``__getstate__`` leaves them out)."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, tracks: tuple[ip.ReferenceTrack, ...],
                 ankle_diff_weight: float | None = None) -> None:
        self.model, self.data, self.tracks = model, data, tracks
        m = model
        J = mujoco.mjtJoint
        joints = [m.joint(n) for n in humanoid.JOINT_NAMES[1:]]
        balls = [j for j in joints if j.type[0] == J.mjJNT_BALL]
        hinges = [j for j in joints if j.type[0] == J.mjJNT_HINGE]
        self._hinge_q = np.array([j.qposadr[0] for j in hinges])
        kinds = ip.joint_diff_weights(ankle_diff_weight)  # DeepMimic's, or v9's heavier ankles
        weight = {n: kinds[n.split("_")[-1]] for n in humanoid.JOINT_NAMES}
        # root + ball quaternions: row i of _quat_sum sums q_sim * q_ref over quaternion i = their dot product
        quat_cols = [np.arange(3, 7), *(j.qposadr[0] + np.arange(4) for j in balls)]
        self._quat_sum = np.zeros((len(quat_cols), m.nq))
        for row, cols in enumerate(quat_cols):
            self._quat_sum[row, cols] = 1.0
        self._quat_w = np.array([weight["pelvis"]] + [weight[m.joint(j.id).name] for j in balls])
        self._n_joint_angles = len(balls) + len(hinges)

        # the error matrix over the squared comparison-vector differences (rows: the first five of ImitationRewardWeights.TERMS, DeepMimic's; the env adds the foot slip)
        v = VEC
        w = np.zeros((5, v["size"]))
        w[0, v["hinge"]] = [weight[m.joint(j.id).name] for j in hinges]
        for j in joints:
            n = 3 if j.type[0] == J.mjJNT_BALL else 1
            start = v["dof_vel"].start + j.dofadr[0] - 6
            w[1, start:start + n] = weight[m.joint(j.id).name]
        w[1, v["root_omega"]] = weight["pelvis"]
        w[2, v["end_effectors"]] = 1.0 / len(ip.END_EFFECTORS)
        w_pos, self._w_root_rot, w_vel, w_ang = ip.ROOT_ERROR_WEIGHTS
        w[3, v["root_pos"]], w[3, v["root_vel"]], w[3, v["root_omega"]] = w_pos, w_vel, w_ang
        w[4, v["com_vel"]] = ip.COM_ERROR_WEIGHT
        self._error_matrix = w
        self._ref_vecs = tuple(self._reference_vectors(t) for t in tracks)
        # the reference root's x and y axes per step, as rows (K, 2, 3)
        self._ref_axes = tuple(np.swapaxes(quat_to_xy_axes(t.qpos[:, 3:7]), -1, -2).copy() for t in tracks)

        self._pelvis = m.body("pelvis").id
        self._point_sites = np.array([m.site(n).id for n in humanoid.END_EFFECTOR_NAMES])
        ee_sites = [m.site(n).id for n in ip.END_EFFECTORS]
        contiguous = ee_sites == list(range(ee_sites[0], ee_sites[0] + len(ee_sites)))
        # a slice (a view of site_xpos) where the sites are in a row, as in the humanoid
        self._ee_sites = slice(ee_sites[0], ee_sites[-1] + 1) if contiguous else np.array(ee_sites)
        ids = [m.body(n).id for n in ip.OBS_BODIES]
        if ids != list(range(1, m.nbody)):
            raise ModelFileError("humanoid model: the observed bodies must be every body, in MuJoCo's order")
        self._n = n_bodies = len(ip.OBS_BODIES)
        self._nu = m.nu
        n_obs = 4 + 3 * (n_bodies - 1) + 12 * n_bodies + m.nu + 9
        # buffers (views of them: _make_views)
        self.obs = np.zeros(n_obs)
        self._heading = np.eye(3)  # world -> heading frame of the simulated humanoid
        # the comparison vector, the body vectors and omega twice in one block (views: _make_views), each part
        # 64-byte aligned: one take from data fills the parts that are copies of data's numbers
        self._stage_parts = _aligned_parts(v["size"], 3 * (5 * n_bodies + 3), 6 * n_bodies)
        self._stage = np.zeros(self._stage_parts[-1])
        # the differences, then the metric points' differences relative to the root's: the points' two halves
        # (world frame, root-relative) follow each other, one (36, 3) block for the distances
        self._diff_ext = np.zeros(v["size"] + 3 * len(ip.METRIC_POINTS))
        self._sq = np.zeros(v["size"])
        self._errors = np.zeros(5)
        self._ee_rel = np.zeros((len(ip.END_EFFECTORS), 3))
        self._quat_prod = np.zeros(m.nq)
        self._angles = np.zeros(len(quat_cols))
        self._angles_sq = np.zeros(len(quat_cols))
        self._hinge_abs = np.zeros(len(hinges))
        self._turned = np.zeros((5 * n_bodies + 3, 3))
        # the lever arm (and omega: _stage), each written twice in a row, so that their yzx and zxy permutations
        # are views (the body origins' velocities: cvel's + omega x arm)
        self._arm2 = np.zeros((n_bodies, 6))
        self._cross = np.zeros((n_bodies, 2, 3))  # omega_yzx arm_zxy, omega_zxy arm_yzx
        self._make_views()

    def _make_views(self) -> None:
        v, n, nu = VEC, self._n, self._nu
        # views of data's arrays (MjData keeps its memory for life): the step reads them without making them
        d, pelvis = self.data, self._pelvis
        self._q, self._qv_omega = d.qpos, d.qvel[3:6]
        self._root, self._root_xmat = d.xpos[pelvis], d.xmat[pelvis]
        self._root_xmat33 = self._root_xmat.reshape(3, 3)
        self._site_xpos = d.site_xpos
        self._ee = d.site_xpos[self._ee_sites] if isinstance(self._ee_sites, slice) else None
        self._ee_z = self._ee[:, 2] if self._ee is not None else None
        self._root_com = d.subtree_com[pelvis]
        self._xpos_bodies = d.xpos[1:]
        self._xpos_bodies_pair = self._xpos_bodies[:, None, :]
        self._cvel_lin = d.cvel[1:, 3:]
        self._actuator_length = d.actuator_length
        # views of the staging block: the comparison vector, the body vectors (rows: body positions, x axes, y
        # axes, linear and angular velocities; the reference root's position, axes), omega twice in a row
        vec_end, bv_start, bv_end, omega_start, omega_end = self._stage_parts
        self._vec = vec = self._stage[:vec_end]
        self._body_vectors = self._stage[bv_start:bv_end].reshape(-1, 3)
        self._omega2 = self._stage[omega_start:omega_end].reshape(n, 6)
        self._vec_root_omega = vec[v["root_omega"]]
        self._vec_ee = vec[v["end_effectors"]].reshape(-1, 3)
        self._vec_ee_z = self._vec_ee[:, 2]
        self._diff = diff = self._diff_ext[:v["size"]]
        self._diff_hinge = diff[v["hinge"]]
        self._points = self._diff_ext[v["points"].start:].reshape(-1, 3)
        n_points = len(self._points) // 2
        self._points_world, self._points_rel = self._points[:n_points], self._points[n_points:]
        self._points_root = self._points[0]
        self._dist_pairs = np.zeros(2 * n_points)
        self._points_sq = np.zeros_like(self._points)  # the points' squared coordinates
        self._dist_halves = self._dist_pairs.reshape(2, -1)
        bv = self._body_vectors
        self._bv_pos, self._bv_vel = bv[0:n], bv[3 * n:4 * n]
        self._bv_ref_pos, self._bv_ref_axes = bv[5 * n], bv[5 * n + 1:]
        self._arm2_pair = self._arm2.reshape(n, 2, 3)
        # [i, 0] = omega_yzx, [i, 1] = omega_zxy (columns 1-3, 2-4); [i, 0] = arm_zxy, [i, 1] = arm_yzx (2-4, 1-3)
        size = self._omega2.itemsize
        self._omega_perm = as_strided(self._omega2[:, 1:], (n, 2, 3), (self._omega2.strides[0], size, size))
        self._arm_perm = as_strided(self._arm2[:, 2:], (n, 2, 3), (self._arm2.strides[0], -size, size))
        self._cross_plus, self._cross_minus = self._cross[:, 0], self._cross[:, 1]
        self._heading_t = self._heading.T
        i = 4 + 3 * (n - 1)
        # the observation's heading-frame block: rows 1 .. 5n of the turned body vectors (the root's position,
        # row 0, is zero), then the reference's joint coordinates, then its root position and axes
        self._obs_bodies = self.obs[4:i + 12 * n].reshape(-1, 3)
        self._turned_bodies = self._turned[1:5 * n]
        self._obs_joints = self.obs[i + 12 * n:i + 12 * n + nu]
        self._obs_ref = self.obs[i + 12 * n + nu:].reshape(-1, 3)
        self._turned_ref = self._turned[5 * n:]
        self._make_gather()

    def _make_gather(self) -> None:
        """The one read of ``data`` per step that fills the copies in :attr:`_stage`: MjData keeps its arrays
        in one block (``mjData.buffer``), so the numbers the comparison copies from ten places - joint angles
        and velocities, root position and velocity, CoM velocity, joint centres, metric sites; the bodies' axes
        and angular velocities (twice) - come through a flat read-only view of that block with one ``take``, at
        element offsets computed here. The slots the step computes (root angular velocity, end effectors, body
        positions and velocities, the reference's root) read element 0 and are overwritten."""
        v, n, d = VEC, self._n, self.data
        sources = (d.qpos, d.qvel, d.subtree_linvel, d.xanchor, d.site_xpos, d.xmat, d.cvel)
        start = min(a.ctypes.data for a in sources)

        def offsets(view: np.ndarray) -> np.ndarray:  # element offsets from start of a view's elements, its shape
            return (view.ctypes.data - start + np.tensordot(view.strides, np.indices(view.shape), axes=1)) // 8

        omega = offsets(d.cvel[1:, :3])
        index = np.zeros(len(self._stage), dtype=np.intp)
        vec_end, bv_start, bv_end, omega_start, omega_end = self._stage_parts
        vec = index[:vec_end]
        vec[v["hinge"]] = offsets(d.qpos)[self._hinge_q]
        vec[v["dof_vel"]] = offsets(d.qvel[6:])
        vec[v["root_pos"]] = offsets(d.qpos[0:3])
        vec[v["root_vel"]] = offsets(d.qvel[0:3])
        vec[v["com_vel"]] = offsets(d.subtree_linvel[self._pelvis])
        vec[v["joint_points"]] = offsets(d.xanchor).ravel()
        vec[v["site_points"]] = offsets(d.site_xpos)[self._point_sites].ravel()
        bv = index[bv_start:bv_end].reshape(-1, 3)
        bv[n:3 * n] = offsets(d.xmat[1:].reshape(-1, 3, 3)[:, :, :2].transpose(2, 0, 1)).reshape(-1, 3)  # x, y axes
        bv[4 * n:5 * n] = omega
        omega2 = index[omega_start:omega_end].reshape(n, 6)
        omega2[:, :3] = omega2[:, 3:] = omega
        size = int(index.max()) + 1
        if any((a.ctypes.data - start) % 8 for a in sources) or 8 * size > d.nbuffer:
            raise ModelFileError("MuJoCo's data arrays are not in one block (mjData.buffer) as sportsim expects")
        first = next(a for a in sources if a.ctypes.data == start)
        self._data_block = as_strided(first, (size,), (8,), writeable=False)
        self._gather = index

    def __getstate__(self) -> dict[str, Any]:
        # a copied view would be an array of its own: drop the views, _make_views rebuilds them
        return {k: val for k, val in self.__dict__.items()
                if not (isinstance(val, np.ndarray) and val.base is not None)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._make_views()

    def _reference_vectors(self, track: ip.ReferenceTrack) -> np.ndarray:
        """The comparison vector (layout :data:`VEC`) of every reference step of ``track``, (K, size)."""
        v = VEC
        out = np.zeros((len(track.qpos), v["size"]))
        out[:, v["hinge"]] = track.qpos[:, self._hinge_q]
        out[:, v["dof_vel"]] = track.qvel[:, 6:]
        out[:, v["root_omega"]] = track.root_omega_world
        out[:, v["root_pos"]] = track.qpos[:, 0:3]
        out[:, v["root_vel"]] = track.qvel[:, 0:3]
        out[:, v["end_effectors"]] = track.end_effectors_m.reshape(len(out), -1)
        out[:, v["com_vel"]] = track.com_velocity
        out[:, v["points"]] = track.points_m.reshape(len(out), -1)
        out.flags.writeable = False
        return out

    def evaluate(self, clip: int, k: int) -> tuple[tuple[float, float, float, float, float],
                                                   tuple[float, float, float]]:
        """Compare the current state with step k of track ``clip`` - DeepMimic's five errors and the tracking
        metrics (mpjpe mm, root-relative mpjpe mm, joint angle error deg) - and write the observation into
        :attr:`obs`."""
        m, track = self.model, self.tracks[clip]
        q, root, root_xmat = self._q, self._root, self._root_xmat
        xm = root_xmat.tolist()
        c, s = xm[0], xm[3]
        norm = math.hypot(c, s) or 1.0
        c, s = c / norm, s / norm
        heading = self._heading
        heading[0, 0] = heading[1, 1] = c
        heading[0, 1], heading[1, 0] = s, -s
        heading_t = self._heading_t

        # the comparison vector of the simulated state (and the body axes and angular velocities of the observation)
        self._data_block.take(self._gather, out=self._stage, mode="clip")
        np.dot(self._root_xmat33, self._qv_omega, out=self._vec_root_omega)
        ee = self._ee if self._ee is not None else self._site_xpos[self._ee_sites]
        np.subtract(ee, root, out=self._ee_rel)
        np.dot(self._ee_rel, heading_t, out=self._vec_ee)
        self._vec_ee_z[:] = self._ee_z if self._ee is not None else ee[:, 2]
        diff, sq, errors = self._diff, self._sq, self._errors
        np.subtract(self._vec, self._ref_vecs[clip][k], out=diff)
        np.multiply(diff, diff, out=sq)
        np.dot(self._error_matrix, sq, out=errors)
        # rotation angles between simulated and reference root / ball rotations: 2 acos |<q_sim, q_ref>|
        angles, angles_sq = self._angles, self._angles_sq
        np.multiply(q, track.qpos[k], out=self._quat_prod)
        np.dot(self._quat_sum, self._quat_prod, out=angles)
        np.abs(angles, out=angles)
        np.minimum(angles, 1.0, out=angles)
        np.arccos(angles, out=angles)
        np.multiply(2.0, angles, out=angles)
        np.multiply(angles, angles, out=angles_sq)
        e_pose, e_vel, e_ee, e_root, e_com = errors.tolist()
        pose_err = e_pose + float(self._quat_w.dot(angles_sq))
        root_err = e_root + self._w_root_rot * float(angles_sq[0])
        errors_out = (pose_err, e_vel, e_ee, root_err, e_com)

        points = self._points
        np.subtract(self._points_world, self._points_root, out=self._points_rel)
        dist_pairs = self._dist_pairs
        # |p|^2 as x^2 + y^2 + z^2 in that order: two ufunc calls, 2 us (einsum's was 4-11 us: it parses its
        # subscripts every call; its sums differ from these in the last bit for a tenth of the points)
        np.multiply(points, points, out=self._points_sq)
        np.add.reduce(self._points_sq, axis=1, out=dist_pairs)
        np.sqrt(dist_pairs, out=dist_pairs)
        dist, dist_rel = np.add.reduce(self._dist_halves, axis=1).tolist()
        np.abs(self._diff_hinge, out=self._hinge_abs)
        angle = (float(np.add.reduce(angles)) - float(angles[0]) + float(np.add.reduce(self._hinge_abs))) \
            / self._n_joint_angles
        n_points = len(self._points_world)
        metrics = (1000.0 * dist / n_points, 1000.0 * dist_rel / n_points, math.degrees(angle))

        # observation (table in ImitationEnv's docstring): body vectors turned into the heading frame at once
        np.subtract(self._xpos_bodies, root, out=self._bv_pos)
        np.subtract(self._xpos_bodies_pair, self._root_com, out=self._arm2_pair)
        vel = self._bv_vel  # velocity of each body origin: cvel's + omega x arm
        np.multiply(self._omega_perm, self._arm_perm, out=self._cross)
        np.add(self._cvel_lin, self._cross_plus, out=vel)
        np.subtract(vel, self._cross_minus, out=vel)
        k_next = min(k + 1, len(track.qpos) - 1)
        np.subtract(track.qpos[k_next, 0:3], root, out=self._bv_ref_pos)
        self._bv_ref_axes[:] = self._ref_axes[clip][k_next]
        np.dot(self._body_vectors, heading_t, out=self._turned)
        mujoco.mj_transmission(m, self.data)  # actuator lengths = joint coordinates (rotation vectors, hinge angles)
        phase = track.phase(k)
        out = self.obs
        out[0:4] = (phase, math.sin(2.0 * math.pi * phase), math.cos(2.0 * math.pi * phase), root[2])
        self._obs_bodies[:] = self._turned_bodies
        np.subtract(track.joint_coords[k_next], self._actuator_length, out=self._obs_joints)
        self._obs_ref[:] = self._turned_ref
        return errors_out, metrics


class FootComparison:
    """The foot terms' errors (``foot_slip``, ``foot_contact``), from the contacts of ``data``'s last
    physics step: each foot's geom (:data:`sportsim.kinetics.FOOT_GEOMS`) and body, and the root of its
    kinematic tree (``cvel``'s origin), indexed once."""

    def __init__(self, model: mujoco.MjModel) -> None:
        m = model
        self._foot_geom_ids = [m.geom(n).id for n in kin.FOOT_GEOMS]
        self._foot_body_ids = [int(m.geom_bodyid[g]) for g in self._foot_geom_ids]
        self._foot_root_ids = [int(m.body_rootid[b]) for b in self._foot_body_ids]

    def errors(self, d: mujoco.MjData, reference_contacts: np.ndarray,
               geoms: list[list[int]] | None = None) -> tuple[float, float]:
        """(slip, contact) against the reference's stance flags ``reference_contacts`` (right, left). Foot
        slip: the mean over the feet touching the floor of the squared horizontal speed of the foot's
        material point at the middle of its contacts ((m/s)^2; 0 with no foot down), from MuJoCo's
        com-based body velocities (``cvel``, about the tree root's subtree centre of mass). Foot contact:
        the fraction of the two feet whose floor contact differs from the reference's stance flag
        (``ReferenceTrack.foot_contacts``). ``geoms``: ``d.contact.geom.tolist()``, where the caller has it."""
        ref_right, ref_left = reference_contacts.tolist()
        if d.ncon == 0:
            return 0.0, 0.5 * (ref_right + ref_left)
        # plain Python on the few contacts, one pass for both feet (NumPy's per-call overhead made this 27 us)
        if geoms is None:
            geoms = d.contact.geom.tolist()
        right, left = self._foot_geom_ids
        on_right, on_left = [], []
        for (g1, g2), p in zip(geoms, d.contact.pos.tolist()):
            if g1 == right or g2 == right:
                on_right.append(p)
            if g1 == left or g2 == left:
                on_left.append(p)
        total, feet = 0.0, 0
        for k, on in enumerate((on_right, on_left)):
            if not on:
                continue
            n = len(on)
            wx, wy, wz, vx, vy, vz = d.cvel[self._foot_body_ids[k]].tolist()
            cx, cy, cz = d.subtree_com[self._foot_root_ids[k]].tolist()
            px = py = pz = 0.0  # the contact points' sums, left to right
            for x, y, z in on:
                px += x
                py += y
                pz += z
            ax, ay, az = px / n - cx, py / n - cy, pz / n - cz
            sx, sy = vx + wy * az - wz * ay, vy + wz * ax - wx * az
            total += sx * sx + sy * sy
            feet += 1
        return (total / feet if feet else 0.0), 0.5 * ((ref_right != bool(on_right)) + (ref_left != bool(on_left)))
