"""The boundary between sportsim's ``python -m`` entry points and the shell."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from sportsim.errors import SportsimError

EXIT_USAGE = 2        # configuration or file problem reported as one line
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C / SIGINT (128 + signal number 2), as shells report it


def run_cli(main: Callable[[list[str]], int], argv: Sequence[str] | None = None) -> NoReturn:
    """Call ``main(args)`` and exit with its status; a SportsimError becomes ``sportsim: <message>`` on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        status = main(args)
    except SportsimError as exc:
        message = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        print(f"sportsim: {message}", file=sys.stderr)
        status = EXIT_USAGE
    except KeyboardInterrupt:
        print("sportsim: interrupted", file=sys.stderr)
        status = EXIT_INTERRUPTED
    sys.exit(status)
