"""The boundary between sportsim's ``python -m`` entry points and the shell."""

from __future__ import annotations

import errno
import itertools
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
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


# --- Hydra's own command line (multirun, launchers, --cfg, --info, shell completion) -------------

HYDRA_FLAGS = ("-m", "--multirun", "-c", "--cfg", "-i", "--info", "-sc", "--shell-completion", "-p", "--package",
               "--resolve", "--hydra-help", "--version")
JOB_STATUS_ENV = "SPORTSIM_JOB_STATUS_DIR"  # where each Hydra job of a multirun leaves its exit status
MAX_PRECHECKED_JOBS = 256


def wants_hydra(argv: Sequence[str]) -> bool:
    """Whether the command line uses Hydra's own options (``-m``, ``--cfg job``, ``-sc install=bash``,
    ``hydra/launcher=joblib``, ``hydra.launcher.n_jobs=3``) rather than one plain run."""
    return any(arg.split("=", 1)[0] in HYDRA_FLAGS or arg.lstrip("+~").startswith(("hydra/", "hydra."))
               for arg in argv)


def job_overrides(argv: Sequence[str]) -> list[list[str]]:
    """The overrides of every job a multirun command line stands for (sweeps ``seed=0,1,2`` and
    ``range(0,3)`` expanded; Hydra's options and ``hydra.*`` overrides left out), so each job's config
    is checked - one line for the first bad one - before any job starts."""
    from hydra.core.override_parser.overrides_parser import OverridesParser  # noqa: PLC0415
    from hydra.errors import HydraException  # noqa: PLC0415

    plain = [a for a in _without_hydra_options(argv) if not a.lstrip("+~").startswith(("hydra/", "hydra."))]
    parser, choices = OverridesParser.create(), []
    for line in plain:
        try:
            (override,) = parser.parse_overrides([line])
            if not override.is_sweep_override():
                choices.append([line])
                continue
            prefix = line.split("=", 1)[0]
            choices.append([f"{prefix}={value}" for value in override.sweep_string_iterator()])
        except HydraException as exc:
            raise ConfigError(f"cannot use override '{line}' in a multirun: {str(exc).splitlines()[-1]}") from None
    jobs = [list(combo) for combo in itertools.islice(itertools.product(*choices), MAX_PRECHECKED_JOBS + 1)]
    return jobs[:MAX_PRECHECKED_JOBS]


def _without_hydra_options(argv: Sequence[str]) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("-c", "--cfg", "-p", "--package", "-sc", "--shell-completion", "-i", "--info"):
            skip = arg not in ("-i", "--info")  # these take a value (--info's is optional)
            continue
        if arg.split("=", 1)[0] in HYDRA_FLAGS:
            continue
        out.append(arg)
    return out


def run_hydra_app(argv: Sequence[str], config_dir: str, config_name: str, job: Callable[[list[str]], int],
                  precheck: Callable[[list[str]], object]) -> int:
    """Hand ``argv`` to ``@hydra.main`` (config ``config_dir/config_name``) - multirun sweeps, launchers
    (``hydra/launcher=joblib``, ``submitit_slurm``, ``ray``), ``--cfg``, ``--info``, completion - keeping
    sportsim's one-line errors: every job's overrides are first checked with ``precheck``; each job then
    runs ``job(<its overrides>)``, which reports its own failures on one line; the command's exit status
    is the worst job's. Hydra's own errors (an unknown launcher) become one line too."""
    import hydra  # noqa: PLC0415
    from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415
    from hydra.errors import HydraException  # noqa: PLC0415
    from omegaconf.errors import OmegaConfBaseException  # noqa: PLC0415

    multirun = any(arg in ("-m", "--multirun") for arg in argv)
    if multirun or not any(a.split("=", 1)[0] in HYDRA_FLAGS for a in argv):
        for overrides in job_overrides(argv):
            precheck(overrides)

    def task(_cfg: object) -> int:
        overrides = [o for o in HydraConfig.get().overrides.task if not o.lstrip("+~").startswith("hydra")]
        try:
            status = job(overrides)
        except SportsimError as exc:
            print(f"sportsim: {' '.join(overrides)}: {exc}", file=sys.stderr)
            status = EXIT_USAGE
        except OSError as exc:
            print(f"sportsim: {' '.join(overrides)}: {os_error_line(exc)}", file=sys.stderr)
            status = EXIT_USAGE
        status_dir = os.environ.get(JOB_STATUS_ENV)
        if status_dir:
            (Path(status_dir) / f"{HydraConfig.get().job.get('num', 0) or 0}").write_text(str(status))
        return status

    app = hydra.main(config_path=config_dir, config_name=config_name, version_base=None)(task)
    line = os.environ.get("COMP_LINE")
    if line is not None:  # shell completion of `python -m sportsim.<command> ...`: Hydra knows only `app ...`
        os.environ["COMP_LINE"] = re.sub(r"^\s*\S*python[\d.]*\s+-m\s+sportsim\.(\w+)", r"sportsim-\1", line)
    saved_argv, saved_env = sys.argv, {k: os.environ.get(k) for k in ("HYDRA_FULL_ERROR", JOB_STATUS_ENV)}
    with tempfile.TemporaryDirectory(prefix="sportsim-jobs-") as status_dir:
        sys.argv = [saved_argv[0], *argv]
        os.environ["HYDRA_FULL_ERROR"] = "1"  # exceptions reach us (one line) instead of Hydra's report
        os.environ[JOB_STATUS_ENV] = status_dir
        try:
            app()
        except (HydraException, OmegaConfBaseException, ValueError) as exc:  # ValueError: conflicting flags
            message = str(exc).split("\nConfig search path")[0]
            raise ConfigError("; ".join(line.strip() for line in message.splitlines() if line.strip())) from None
        finally:
            sys.argv = saved_argv
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        statuses = [int(p.read_text()) for p in Path(status_dir).iterdir()]
    if multirun and statuses:
        failed = sum(status != 0 for status in statuses)
        print(f"sportsim: multirun: {len(statuses) - failed} of {len(statuses)} jobs finished"
              + (f", {failed} failed (see the lines above)" if failed else ""), file=sys.stderr if failed else sys.stdout)
    return max(statuses, default=0)
