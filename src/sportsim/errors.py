"""Project exception types: every user-facing failure is one of these, with a message that names
the file or setting at fault and what is wrong with it."""

from __future__ import annotations


class SportsimError(Exception):
    """Base class of the errors sportsim reports to users (printed as one line, no traceback)."""


class ConfigError(SportsimError):
    """A configuration value or override is unknown or invalid."""


class ModelFileError(SportsimError):
    """A physical model (MJCF/URDF) or a saved policy/run file is missing, truncated or inconsistent."""


class MocapError(SportsimError):
    """A motion-capture file or saved clip is unreadable, malformed or inconsistent; the message names
    the file and, where it can, the line or element at fault."""
