"""The imitation env's ``rgb_array`` rendering: the simulated humanoid and, translucent, the reference it
imitates beside it (:class:`GhostRenderer`; ``ghost_offset_m`` of
:class:`sportsim.envs.imitation.ImitationEnv`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from sportsim import humanoid
from sportsim.envs.imitation_model import build_spec

if TYPE_CHECKING:
    from sportsim.envs.imitation import ImitationEnv

_GHOST_RGBA = (0.95, 0.55, 0.15, 0.35)  # translucent orange
_CAMERA_ELEVATION_RAD = math.radians(8.0)
_CAMERA_DISTANCE_STATURES = 2.0  # tracking camera distance, in statures (fits the humanoid and its ghost)


class GhostRenderer:
    """Renders the simulated humanoid and, translucent, the reference beside it (``ghost_offset_m`` along
    the clip's travel direction), through a visual model built on the first frame - the env's humanoid
    plus a kinematic copy (``ghost_*`` bodies, no contacts) - and a camera that follows the simulated
    CoM from the right of the travel direction, slightly from above, centred between the two; a legend
    at the top left says which is which."""

    def __init__(self, env: ImitationEnv, height_px: int, width_px: int) -> None:
        self._env = env
        self._size = (height_px, width_px)
        self._model: mujoco.MjModel | None = None
        self._data: mujoco.MjData | None = None
        self._renderer: mujoco.Renderer | None = None
        self._legend_image: np.ndarray | None = None
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self._camera.elevation = -math.degrees(_CAMERA_ELEVATION_RAD)
        self._camera.distance = _CAMERA_DISTANCE_STATURES * env.humanoid_height_m

    def _build(self) -> mujoco.MjModel:
        env = self._env
        spec = build_spec(env.humanoid_height_m, env.humanoid_mass_kg, env.humanoid_sex, env.physics_dt_s,
                          body=env.body)
        size = (env.humanoid_height_m, env.humanoid_mass_kg, env.humanoid_sex)
        ghost = humanoid.build_humanoid_spec(*size)  # type: ignore[arg-type]
        ghost.option.timestep = spec.option.timestep  # (attaching compares the options)
        for actuator in list(ghost.actuators):
            ghost.delete(actuator)
        for geom in ghost.geoms:
            geom.contype, geom.conaffinity, geom.material, geom.rgba = 0, 0, "", list(_GHOST_RGBA)
        spec.worldbody.add_frame().attach_body(ghost.body("pelvis"), "ghost_", "")
        return spec.compile()

    def render(self) -> np.ndarray:
        env = self._env
        if self._renderer is None:
            self._model = self._build()
            self._data = mujoco.MjData(self._model)
            self._renderer = mujoco.Renderer(self._model, *self._size)
        nq = env.model.nq
        mirror = self._data
        mirror.qpos[:nq] = env.data.qpos
        travel = env._track.travel_dir
        ghost, _ = env.reference_state()
        ghost[0:2] += env.ghost_offset_m * travel
        mirror.qpos[nq:] = ghost
        mujoco.mj_forward(self._model, mirror)
        camera = self._camera  # looking across the travel direction, towards its left
        camera.azimuth = math.degrees(math.atan2(travel[0], -travel[1]))
        camera.lookat[:] = env.data.subtree_com[env.model.body("pelvis").id]
        camera.lookat[0:2] += 0.5 * env.ghost_offset_m * travel
        self._renderer.update_scene(mirror, camera=camera)
        image = self._renderer.render().copy()
        legend = self._legend()
        image[4:4 + legend.shape[0], 4:4 + legend.shape[1]] = legend[:image.shape[0] - 4, :image.shape[1] - 4]
        return image

    def _legend(self) -> np.ndarray:
        """Which humanoid is which, drawn once (top left of every frame)."""
        if self._legend_image is None:
            from sportsim.video import text_image  # matplotlib: only when rendering

            height, width = self._size
            line_px = max(14, height // 18)
            self._legend_image = text_image(min(width - 8, int(line_px * 17)), line_px,
                                            "blue-grey: the policy  |  orange: the clip it imitates",
                                            font_px=0.62 * line_px, colour="white", background="#20242a")
        return self._legend_image

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
