"""The boundary between sportsim's ``python -m`` entry points and the shell."""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from sportsim.errors import ConfigError, SportsimError

# option name -> (parser of the text after "=", default)
Options = Mapping[str, tuple[Callable[[str], Any], Any]]

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
    except OSError as exc:  # unwritable output, full disk, missing folder: one line naming the file
        print(f"sportsim: {os_error_line(exc)}", file=sys.stderr)
        status = EXIT_USAGE
    sys.exit(status)


def os_error_line(exc: OSError) -> str:
    """``<file>: <reason>`` for an OSError (permission denied, no space left on the device), one line."""
    where = exc.filename if exc.filename is not None else "output"
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        reason = "no space left on the device"
    return f"{where}: {reason}"


def parse_options(argv: Sequence[str], options: Options, usage: str,
                  positional: bool = False) -> tuple[list[str], dict[str, Any]]:
    """``key=value`` arguments of the key=value entry points (record, enjoy, replay, compare) ->
    (the arguments without ``=`` - an error unless ``positional`` -, options with defaults filled in).
    Unknown keys and unparsable values are one-line ConfigErrors naming the option."""
    values = {key: default for key, (_, default) in options.items()}
    rest = []
    for arg in argv:
        key, sep, text = arg.partition("=")
        if not sep:
            if not positional:
                raise ConfigError(f"expected key=value arguments, got '{arg}'; usage: {usage}")
            rest.append(arg)
            continue
        if key not in options:
            raise ConfigError(f"unknown option '{key}' (valid: {', '.join(options)})")
        try:
            values[key] = options[key][0](text)
        except ValueError as exc:
            raise ConfigError(f"option {key}: {exc}") from None
    return rest, values
