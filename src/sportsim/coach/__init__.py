"""Coaching tools on motion capture: the joint angles coaches read (:mod:`sportsim.coach.angles`) and the
time alignment of two movements (:mod:`sportsim.coach.align`). ``python -m sportsim.compare`` puts them
into a video, a summary sheet and a table.

Conventions: Z up, metres; every angle is in degrees.
"""

from __future__ import annotations

from sportsim.coach.align import Alignment, align, standardise
from sportsim.coach.angles import GROUPS, JointAngles, angle_names, joint_angles, motion_angles

__all__ = ["GROUPS", "Alignment", "JointAngles", "align", "angle_names", "joint_angles", "motion_angles",
           "standardise"]
