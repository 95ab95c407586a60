"""Offscreen rendering shared by the envs.

The physics model of an env leaves out its visual geometry (MuJoCo updates every geom and tendon on
every step); :class:`MirrorRenderer` builds the visual model - same joints, plus the geometry to look
at - the first time a frame is asked for, copies the physics state into it and renders.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco


class MirrorRenderer:
    """Renders a physics ``MjData`` through a separately built visual model with the same joints."""

    def __init__(self, build_visual_model: Callable[[], mujoco.MjModel], height_px: int, width_px: int,
                 camera: str = "side") -> None:
        self._build = build_visual_model
        self._size = (height_px, width_px)
        self._camera = camera
        self._model: mujoco.MjModel | None = None
        self._data: mujoco.MjData | None = None
        self._renderer: mujoco.Renderer | None = None

    def render(self, data: mujoco.MjData):
        """An RGB frame (height x width x 3, uint8) of ``data``'s state."""
        if self._renderer is None:
            self._model = self._build()
            self._data = mujoco.MjData(self._model)
            self._renderer = mujoco.Renderer(self._model, *self._size)
        mirror = self._data
        mirror.qpos[:], mirror.qvel[:], mirror.time = data.qpos, data.qvel, data.time
        if data.act.size:
            mirror.act[:] = data.act
        mujoco.mj_forward(self._model, mirror)
        self._renderer.update_scene(mirror, camera=self._camera)
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
