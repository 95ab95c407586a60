"""Coaching tools on motion capture and simulated athletes, the parts of ``python -m sportsim.compare``:

* :mod:`~sportsim.coach.movement` - one side: a capture retargeted, or a policy rolled out
  (:mod:`~sportsim.coach.rollout`: its reference clip, phase, foot contacts and kinetics), on its clock;
* :mod:`~sportsim.coach.angles` - the joint angles coaches read, with their sign conventions;
* :mod:`~sportsim.coach.align` - one timeline for two movements (a policy's phase, DTW, a shift) and
  what of each it shows;
* :mod:`~sportsim.coach.events` - foot strike, toe-off, take-off and landing;
* :mod:`~sportsim.coach.forces` - a policy's ground reaction forces and joint moments;
* :mod:`~sportsim.coach.video` and :mod:`~sportsim.coach.report` - the video, the summary sheet, tables.

Conventions: Z up, metres; every angle is in degrees.
"""

from __future__ import annotations

from sportsim.coach.align import Alignment, align, standardise
from sportsim.coach.angles import GROUPS, JointAngles, angle_names, joint_angles, motion_angles

__all__ = ["GROUPS", "Alignment", "JointAngles", "align", "angle_names", "joint_angles", "motion_angles",
           "standardise"]
