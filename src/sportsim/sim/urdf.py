"""A URDF written from a *compiled* MuJoCo model, so that a second engine (PyBullet) loads the same
humanoid - no hand-written second model.

Everything is read from the :class:`mujoco.MjModel`: the body tree, each body's pose in its parent,
inertials (mass, centre of mass, principal inertias and axes), joints (free root -> the floating base,
ball -> PyBullet's ``spherical`` joint, hinge -> ``revolute`` with its range or ``continuous``, none ->
``fixed``), and collision geoms (sphere, capsule, box, cylinder; an ellipsoid becomes a scaled unit
sphere mesh, which PyBullet collides as its convex hull). Planes (the floor) are left out: the engine
adds its own. Conventions stay MuJoCo's - Z up, metres, kg - and a URDF link frame is the MuJoCo body
frame, so body positions and joint coordinates carry over one to one.

PyBullet's own MJCF loader is no substitute: ``pybullet.loadMJCF("envs/humanoid.xml")`` silently loads
the pelvis alone (it drops ball joints and ellipsoids). A body carrying several joints (e.g. one hinge
per anatomical axis) becomes a chain of massless links, one per joint, ending in the body's link.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import mujoco
import numpy as np

from sportsim.errors import ModelFileError

_J = mujoco.mjtJoint
_G = mujoco.mjtGeom
# a unit sphere as a triangle mesh (latitude-longitude), scaled per ellipsoid in the URDF
_SPHERE_OBJ = "unit_sphere.obj"
_SPHERE_RINGS, _SPHERE_SEGMENTS = 10, 16


@dataclass(frozen=True)
class UrdfLink:
    """One URDF link: ``body`` is the MuJoCo body id it stands for, ``joint`` the MuJoCo joint id its
    parent joint moves (-1: fixed), ``is_body`` False for the massless links of a multi-joint body."""

    name: str
    body: int
    joint: int
    is_body: bool


def _f(values) -> str:
    return " ".join(f"{float(v):.9g}" for v in np.atleast_1d(values))


def _rpy(quat_wxyz) -> np.ndarray:
    """URDF roll-pitch-yaw (fixed-axis x, then y, then z) of a w-first quaternion."""
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat_wxyz, dtype=float))
    r = mat.reshape(3, 3)
    pitch = math.asin(max(-1.0, min(1.0, -r[2, 0])))
    if abs(r[2, 0]) < 1.0 - 1e-9:
        roll, yaw = math.atan2(r[2, 1], r[2, 2]), math.atan2(r[1, 0], r[0, 0])
    else:  # gimbal lock: yaw absorbs the roll
        roll, yaw = 0.0, math.atan2(-r[0, 1], r[1, 1])
    return np.array([roll, pitch, yaw])


def _origin(pos, quat) -> str:
    return f'<origin xyz="{_f(pos)}" rpy="{_f(_rpy(quat))}"/>'


def _geom_xml(m: mujoco.MjModel, g: int, rel_pos, rel_quat) -> str:
    """A <collision> element for geom g, posed relative to its link frame."""
    t, size = m.geom_type[g], m.geom_size[g]
    if t == _G.mjGEOM_SPHERE:
        shape = f'<sphere radius="{_f(size[0])}"/>'
    elif t == _G.mjGEOM_CAPSULE:  # MuJoCo size: radius, half length of the cylinder part (along z)
        shape = f'<capsule radius="{_f(size[0])}" length="{_f(2 * size[1])}"/>'
    elif t == _G.mjGEOM_CYLINDER:
        shape = f'<cylinder radius="{_f(size[0])}" length="{_f(2 * size[1])}"/>'
    elif t == _G.mjGEOM_BOX:
        shape = f'<box size="{_f(2 * size[:3])}"/>'
    elif t == _G.mjGEOM_ELLIPSOID:
        shape = f'<mesh filename="{_SPHERE_OBJ}" scale="{_f(size[:3])}"/>'
    else:
        name = m.geom(g).name or str(g)
        raise ModelFileError(f"URDF export: geom '{name}' has a type ({int(t)}) without a URDF shape")
    return f'    <collision name={quoteattr(m.geom(g).name or f"geom{g}")}>{_origin(rel_pos, rel_quat)}' \
           f'<geometry>{shape}</geometry></collision>'


def _pose_in(parent_pos, parent_quat, pos, quat) -> tuple[np.ndarray, np.ndarray]:
    """(pos, quat) given in the world expressed in the frame (parent_pos, parent_quat)."""
    inv = np.zeros(4)
    mujoco.mju_negQuat(inv, parent_quat)
    rel_pos, rel_quat = np.zeros(3), np.zeros(4)
    mujoco.mju_rotVecQuat(rel_pos, np.asarray(pos) - parent_pos, inv)
    mujoco.mju_mulQuat(rel_quat, inv, np.asarray(quat, dtype=float))
    return rel_pos, rel_quat


def model_links(m: mujoco.MjModel) -> list[UrdfLink]:
    """The URDF links of model m in order (base first): one per body, preceded by a massless link for
    each but the last of a body's joints. Raises :class:`ModelFileError` for what a URDF cannot hold."""
    if m.nbody < 2 or m.body_parentid[1] != 0:
        raise ModelFileError("URDF export: the model has no body below the world")
    roots = [b for b in range(1, m.nbody) if m.body_parentid[b] == 0]
    if len(roots) != 1:
        raise ModelFileError(f"URDF export: expected one body tree below the world, found {len(roots)}")
    links = []
    for b in range(1, m.nbody):
        joints = list(range(m.body_jntadr[b], m.body_jntadr[b] + m.body_jntnum[b])) if m.body_jntnum[b] else []
        name = m.body(b).name or f"body{b}"
        for j in joints:
            if np.any(m.jnt_pos[j] != 0.0) and m.jnt_type[j] != _J.mjJNT_FREE:
                raise ModelFileError(f"URDF export: joint '{m.joint(j).name}' is not at its body's origin")
            if m.jnt_type[j] == _J.mjJNT_SLIDE:
                raise ModelFileError(f"URDF export: slide joint '{m.joint(j).name}' is not supported")
        if b == roots[0]:
            if joints and (len(joints) != 1 or m.jnt_type[joints[0]] != _J.mjJNT_FREE):
                raise ModelFileError("URDF export: the root body must have one free joint (or none)")
            links.append(UrdfLink(name, b, joints[0] if joints else -1, True))
            continue
        if any(m.jnt_type[j] == _J.mjJNT_FREE for j in joints):
            raise ModelFileError(f"URDF export: body '{name}' below the root has a free joint")
        for j in joints[:-1]:
            links.append(UrdfLink(f"{name}__{m.joint(j).name or j}", b, j, False))
        links.append(UrdfLink(name, b, joints[-1] if joints else -1, True))
    return links


def model_to_urdf(m: mujoco.MjModel, name: str = "sportsim_humanoid") -> str:
    """The URDF text of model m (see the module docstring). Needs the model in its zero pose
    (``qpos0``) only for the body frames, which MuJoCo stores relative to the parent anyway."""
    links = model_links(m)
    out = ['<?xml version="1.0"?>', f"<robot name={quoteattr(name)}>",
           "  <!-- generated by sportsim.sim.urdf from the compiled MuJoCo model; do not edit -->"]
    link_of_body: dict[int, str] = {}
    identity = np.array([1.0, 0.0, 0.0, 0.0])
    for link in links:
        b = link.body
        out.append(f"  <link name={quoteattr(link.name)}>")
        if link.is_body:
            link_of_body[b] = link.name
            if m.body_mass[b] > 0.0:
                ixx, iyy, izz = m.body_inertia[b]
                out.append(f'    <inertial>{_origin(m.body_ipos[b], m.body_iquat[b])}'
                           f'<mass value="{_f(m.body_mass[b])}"/>'
                           f'<inertia ixx="{_f(ixx)}" ixy="0" ixz="0" iyy="{_f(iyy)}" iyz="0" izz="{_f(izz)}"/>'
                           f"</inertial>")
            for g in range(m.body_geomadr[b], m.body_geomadr[b] + m.body_geomnum[b]):
                if m.geom_type[g] == _G.mjGEOM_PLANE or (m.geom_contype[g] == 0 and m.geom_conaffinity[g] == 0):
                    continue  # visual-only geoms and planes
                out.append(_geom_xml(m, g, m.geom_pos[g], m.geom_quat[g]))
        else:  # a massless link between two joints of one body
            out.append('    <inertial><origin xyz="0 0 0"/><mass value="0"/>'
                       '<inertia ixx="0" ixy="0" ixz="0" iyy="0" iyz="0" izz="0"/></inertial>')
        out.append("  </link>")
    previous: dict[int, str] = {}  # the last link written for a body (its joint chain so far)
    for i, link in enumerate(links):
        b = link.body
        if i == 0:
            previous[b] = link.name
            continue
        if b in previous:  # the next link in a body's chain: same frame
            parent, pos, quat = previous[b], np.zeros(3), identity
        else:
            parent, pos, quat = link_of_body[m.body_parentid[b]], m.body_pos[b], m.body_quat[b]
        j = link.joint
        if j < 0:
            kind, extra = "fixed", ""
        elif m.jnt_type[j] == _J.mjJNT_BALL:
            kind, extra = "spherical", '<axis xyz="1 0 0"/>'  # (unused; silences the loader)
        else:
            limited = bool(m.jnt_limited[j])
            kind = "revolute" if limited else "continuous"
            extra = f'<axis xyz="{_f(m.jnt_axis[j])}"/>'
            if limited:
                extra += f'<limit lower="{_f(m.jnt_range[j, 0])}" upper="{_f(m.jnt_range[j, 1])}" effort="0" velocity="0"/>'
        jname = m.joint(j).name if j >= 0 else f"{link.name}_fixed"
        out.append(f"  <joint name={quoteattr(jname)} type=\"{kind}\"><parent link={quoteattr(parent)}/>"
                   f"<child link={quoteattr(link.name)}/>{_origin(pos, quat)}{extra}</joint>")
        previous[b] = link.name
    out.append("</robot>")
    return "\n".join(out) + "\n"


def unit_sphere_obj() -> str:
    """A unit sphere as a Wavefront OBJ triangle mesh (the ellipsoids' shape before scaling)."""
    lines, n_ring, n_seg = [], _SPHERE_RINGS, _SPHERE_SEGMENTS
    lines.append("v 0 0 1")
    for r in range(1, n_ring):
        theta = math.pi * r / n_ring
        for s in range(n_seg):
            phi = 2 * math.pi * s / n_seg
            lines.append(f"v {math.sin(theta) * math.cos(phi):.9f} {math.sin(theta) * math.sin(phi):.9f} "
                         f"{math.cos(theta):.9f}")
    lines.append("v 0 0 -1")
    bottom = 2 + (n_ring - 1) * n_seg  # 1-based index of the last vertex

    def ring(r: int, s: int) -> int:
        return 2 + (r - 1) * n_seg + s % n_seg

    for s in range(n_seg):
        lines.append(f"f 1 {ring(1, s)} {ring(1, s + 1)}")
        lines.append(f"f {bottom} {ring(n_ring - 1, s + 1)} {ring(n_ring - 1, s)}")
        for r in range(1, n_ring - 1):
            lines.append(f"f {ring(r, s)} {ring(r + 1, s)} {ring(r + 1, s + 1)}")
            lines.append(f"f {ring(r, s)} {ring(r + 1, s + 1)} {ring(r, s + 1)}")
    return "\n".join(lines) + "\n"


def write_urdf(m: mujoco.MjModel, folder: Path, name: str = "sportsim_humanoid") -> Path:
    """Write ``<name>.urdf`` and the unit-sphere mesh it refers to into ``folder``; return the URDF path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _SPHERE_OBJ).write_text(unit_sphere_obj(), encoding="utf-8")
    path = folder / f"{name}.urdf"
    path.write_text(model_to_urdf(m, name), encoding="utf-8")
    return path
