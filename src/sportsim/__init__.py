"""sportsim: sports in physics simulation and reinforcement learning.

Conventions used throughout: SI units, Z up, metres, quaternions w-first.
Importing this package registers the environments with Gymnasium (ids ``sportsim/<Name>-v<k>``).
"""

from __future__ import annotations

import os
import sys

# Offscreen rendering without a display: MuJoCo must pick EGL before it is first imported.
if "MUJOCO_GL" not in os.environ and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ["MUJOCO_GL"] = "egl"

from sportsim.envs import register_envs  # noqa: E402

__version__ = "0.1.0"

register_envs()

__all__ = ["__version__", "register_envs"]
