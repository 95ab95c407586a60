"""``python -m sportsim.tune``: search-space checks, a SQLite study that resumes and writes a usable
hparams file, pruning, and two workers sharing one study in a real PostgreSQL server while one of
them is killed in the middle of a trial."""

from __future__ import annotations

import glob
import json
import math
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest
import yaml
from helpers import TEST_CONFIG_DIR, cli_env, module_command, run_module
from optuna.trial import TrialState

from sportsim import config, paths, runs, train, tune
from sportsim.errors import ConfigError

pytestmark = pytest.mark.usefixtures("test_configs")

# Tiny trials on the fake env: PPO with the test hparams (n_steps 64, batch 32, 2 epochs, 16x16 network).
TINY = ["env=fake", "algo=ppo", "eval_freq=128", "n_eval_episodes=2", "tune.trial_timesteps=256"]
SPACE = {
    "algo.learning_rate": {"type": "float", "low": 1.0e-4, "high": 1.0e-2, "log": True},
    "algo.gamma": {"type": "categorical", "choices": [0.9, 0.99]},
    "algo.policy_kwargs.net_arch": {"type": "categorical", "choices": [[8], [16, 16]]},
}


def write_space(path: Path, space: dict) -> Path:
    path.write_text(yaml.safe_dump(space))
    return path


def sqlite_url(tune_root: Path, name: str = "fake_ppo") -> str:
    return f"sqlite:///{tune_root / name / tune.STUDY_DB}"


def load_study(tune_root: Path, name: str = "fake_ppo") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=sqlite_url(tune_root, name))


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> object:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


# --- search-space files ---------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "message"), [
    ({"type": "normal", "low": 0, "high": 1}, "expected {type: float|int|categorical"),
    ({"type": "float", "low": 1.0, "high": 0.1}, "low 1.0 > high 0.1"),
    ({"type": "categorical", "choices": []}, "choices must be a non-empty list"),
    ({"type": "float", "low": 0.0, "high": 1.0, "log": True}, "log: true needs low > 0"),
    ({"type": "int", "low": 1, "high": 4, "choices": [1]}, "unknown field(s) choices for type int"),
    ({"type": "categorical", "choices": [[64, 64], [64, 64]]}, "choices repeat a value"),
])
def test_space_file_mistakes_are_one_line_naming_file_and_key(tmp_path: Path, spec: dict, message: str) -> None:
    path = write_space(tmp_path / "space.yaml", {"algo.learning_rate": spec})
    with pytest.raises(ConfigError) as error:
        tune.load_space(path)
    text = str(error.value)
    assert text.startswith(f"search space {path}: algo.learning_rate: ") and message in text
    assert "\n" not in text


def test_space_key_naming_no_setting_fails_before_the_study(tmp_path: Path) -> None:
    path = write_space(tmp_path / "space.yaml", {"algo.learning_rat": {"type": "float", "low": 0.1, "high": 0.2}})
    with pytest.raises(ConfigError, match=r"search space .*space.yaml: unknown SB3 argument algo.learning_rat"):
        tune.main([*TINY, f"tune.space={path}", f"tune.tune_root={tmp_path}"])
    assert not (tmp_path / "fake_ppo").exists()


def test_cli_reports_a_bad_space_on_one_line_and_exit_2(tmp_path: Path) -> None:
    path = write_space(tmp_path / "space.yaml", {"algo.gamma": {"type": "float", "low": 0.99, "high": 0.9}})
    result = run_module("sportsim.tune", *TINY, f"tune.space={path}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"sportsim: search space {path}: algo.gamma: low 0.99 > high 0.9\n"


def test_bare_tune_settings_are_short_for_the_tune_block() -> None:
    """`python -m sportsim.tune env=halfpipe algo=ppo n_trials=50` (the issue's spelling) works."""
    assert tune.expand_tune_keys(["env=fake", "n_trials=3", "seed=1", "tune.seed=2", "trial_timesteps=64"]) == [
        "env=fake", "tune.n_trials=3", "seed=1", "tune.seed=2", "tune.trial_timesteps=64"]


def test_help_lists_the_tune_settings_and_spaces(capsys: pytest.CaptureFixture[str]) -> None:
    assert tune.main(["--help"]) == 0
    text = capsys.readouterr().out
    for setting in ("n_trials:", "trial_timesteps:", "metric:", "storage:", "study_name:", "tune_root:",
                    "n_warmup_steps:", "heartbeat_interval_s:", "grace_period_s:", "max_retry:"):
        assert setting in text
    assert "a2c, ppo, sac" in text


def test_every_built_in_space_composes_for_its_algo() -> None:
    for algo in ("a2c", "ppo", "sac"):
        path = paths.config_dir() / tune.SPACE_DIR / f"{algo}.yaml"
        tune.check_space(tune.load_space(path), path, ["env=fake", f"algo={algo}"])


# --- a SQLite study -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sqlite_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-trial study in tune_root=<tmp>; returns tune_root."""
    root = tmp_path_factory.mktemp("tune")
    space = write_space(root / "space.yaml", SPACE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(config.CONFIG_PATH_ENV, str(TEST_CONFIG_DIR))
        patch.syspath_prepend(str(TEST_CONFIG_DIR.parent))
        assert tune.main([*TINY, f"tune.space={space}", f"tune.tune_root={root}", "tune.n_trials=2",
                          "tune.seed=0"]) == 0
    return root


def tune_again(root: Path, n_trials: int) -> int:
    return tune.main([*TINY, f"tune.space={root / 'space.yaml'}", f"tune.tune_root={root}",
                      f"tune.n_trials={n_trials}", "tune.seed=0"])


def test_study_writes_trials_summary_and_a_best_hparams_file_train_uses(
    sqlite_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tune_dir = sqlite_study / "fake_ppo"
    study = load_study(sqlite_study)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) >= 2
    for trial in complete:
        trial_dir = tune_dir / "trials" / f"{trial.number:04d}"
        record = json.loads((trial_dir / "trial.json").read_text())
        assert record["number"] == trial.number and record["pid"] > 0
        assert record["train_command"].startswith("python -m sportsim.train env=fake algo=ppo")
        saved = runs.load_config(trial_dir)
        assert saved.total_timesteps == 256 and saved.algo.learning_rate == trial.params["algo.learning_rate"]
        assert runs.read_npz(trial_dir / "evaluations.npz", ("timesteps",))["timesteps"].tolist() == [128, 256]
    summary = (tune_dir / "summary.md").read_text()
    assert "| trial | state | value | duration_s | values |" in summary
    assert all(f"| {t.number} | complete |" in summary for t in complete)

    # best_hparams.yaml is a configs/hparams/ file: train with it as its header says (hparams=<name>)
    best = study.best_trial
    text = (tune_dir / "best_hparams.yaml").read_text()
    assert text.startswith("# @package _global_\n") and f"trial {best.number}," in text
    (tmp_path / "hparams").mkdir()
    shutil.copy(tune_dir / "best_hparams.yaml", tmp_path / "hparams" / "fake_ppo_tuned.yaml")
    monkeypatch.setenv(config.CONFIG_PATH_ENV, os.pathsep.join([str(tmp_path), str(TEST_CONFIG_DIR)]))
    overrides = ["env=fake", "algo=ppo", "hparams=fake_ppo_tuned"]
    cfg = config.compose_train_config(overrides)
    assert cfg.algo.learning_rate == best.params["algo.learning_rate"]
    assert cfg.algo.gamma == best.params["algo.gamma"]
    assert json.dumps(list(cfg.algo.policy_kwargs.net_arch)) == best.params["algo.policy_kwargs.net_arch"]
    # the trials' fixed settings (from tests/configs/hparams/fake_ppo.yaml, not merged here) are in the file
    assert (cfg.n_envs, cfg.algo.n_steps, cfg.algo.batch_size, cfg.algo.n_epochs) == (2, 64, 32, 2)
    assert train.main([*overrides, "total_timesteps=128", "eval_freq=64", "n_eval_episodes=1",
                       "progress_bar=false", "verbose=0", f"runs_root={tmp_path / 'runs'}"]) == 0
    (run_dir,) = (tmp_path / "runs" / "fake" / "ppo").iterdir()
    assert runs.load_config(run_dir).algo.learning_rate == best.params["algo.learning_rate"]


def test_running_again_continues_the_same_study(sqlite_study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(load_study(sqlite_study).trials)
    assert tune_again(sqlite_study, n_trials=before + 1) == 0
    study = load_study(sqlite_study)
    assert len(study.trials) == before + 1 and tune.n_finished(study) == before + 1
    assert optuna.get_all_study_names(sqlite_url(sqlite_study)) == ["fake_ppo"]  # no second study
    assert (sqlite_study / "fake_ppo" / "trials" / f"{before:04d}" / "trial.json").is_file()
    capsys.readouterr()

    assert tune_again(sqlite_study, n_trials=before + 1) == 0  # nothing left to do
    assert len(load_study(sqlite_study).trials) == before + 1
    assert "already holds" in capsys.readouterr().out


def test_study_refuses_settings_that_make_its_values_incomparable(sqlite_study: Path) -> None:
    with pytest.raises(ConfigError, match=r"study fake_ppo was created with trial_timesteps=256 \(now 512\)"):
        tune.main([*TINY, f"tune.space={sqlite_study / 'space.yaml'}", f"tune.tune_root={sqlite_study}",
                   "tune.trial_timesteps=512"])


# --- pruning --------------------------------------------------------------------------------------

def test_pruned_trials_stop_early_count_and_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a pruner that prunes every trial at its first evaluation (value < inf)
    monkeypatch.setattr(tune, "make_pruner", lambda s: optuna.pruners.ThresholdPruner(lower=math.inf))
    space = write_space(tmp_path / "space.yaml", SPACE)
    assert tune.main([*TINY, f"tune.space={space}", f"tune.tune_root={tmp_path}", "tune.n_trials=2"]) == 0
    study = load_study(tmp_path)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    for trial in study.trials:
        assert trial.user_attrs["pruned"].startswith("stopped by the pruner at step 128")
        history = runs.read_npz(tmp_path / "fake_ppo" / "trials" / f"{trial.number:04d}" / "evaluations.npz",
                                ("timesteps",))
        assert history["timesteps"].tolist() == [128]  # training stopped after the first evaluation
    out = capsys.readouterr().out
    assert "sportsim: trial 0 pruned" in out and "no complete trial yet" in out
    assert not (tmp_path / "fake_ppo" / "best_hparams.yaml").exists()
    assert "| 1 | pruned |" in (tmp_path / "fake_ppo" / "summary.md").read_text()


def test_invalid_combination_is_pruned_before_training(tmp_path: Path) -> None:
    space = write_space(tmp_path / "space.yaml", {"algo.batch_size": {"type": "categorical", "choices": [256]}})
    assert tune.main([*TINY, f"tune.space={space}", f"tune.tune_root={tmp_path}", "tune.n_trials=1"]) == 0
    (trial,) = load_study(tmp_path).trials
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["pruned"] == "invalid combination: batch_size 256 > n_steps * n_envs = 128"
    assert not (tmp_path / "fake_ppo" / "trials" / "0000" / "evaluations.npz").exists()


# --- many workers on a PostgreSQL study -----------------------------------------------------------

def _postgres_bin_dir() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<newest version>/bin."""
    candidates = [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)]
    initdb = next((c for c in candidates if c), None)
    return Path(initdb).resolve().parent if initdb else None


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed: {result.stdout}{result.stderr}"


def _install_postgres() -> None:
    """Install the server package with apt when running as root on a Debian-like system."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found, and apt-get as root is not available")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)
        if result.returncode != 0:
            pytest.skip(f"could not install PostgreSQL ({' '.join(command)}: {result.stderr.strip()[-300:]})")


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the 'postgres' user (created if missing)."""
    if os.geteuid() != 0:
        return None
    if shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as an unprivileged user")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
                       check=True, capture_output=True)
    return "postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1 (trust authentication) with an empty database."""
    psycopg2 = pytest.importorskip("psycopg2")
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        _install_postgres()
        bin_dir = _postgres_bin_dir()
        if bin_dir is None:
            pytest.skip("PostgreSQL installed but initdb not found")
    user = _server_user()
    run_as = ["runuser", "-u", user, "--"] if user else []
    base = Path(tempfile.mkdtemp(prefix="sportsim-pg-"))
    data = base / "data"
    if user:
        shutil.chown(base, user)
    port = _free_port()
    try:
        _run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "sportsim", "--auth=trust", "-E", "UTF8",
              "--no-sync"])
        options = f"-F -p {port} -k {base} -c listen_addresses=127.0.0.1"  # no fsync: a throwaway server
        _run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", options, "-w",
              "-t", "60", "start"])
        connection = psycopg2.connect(host="127.0.0.1", port=port, user="sportsim", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE tune")
        connection.close()
        yield f"postgresql://sportsim@127.0.0.1:{port}/tune"
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(base, ignore_errors=True)


def _first_trial_record(tune_dir: Path) -> dict | None:
    records = sorted(tune_dir.glob("trials/*/trial.json"))
    return json.loads(records[0].read_text()) if records else None


@pytest.mark.timeout(300)
def test_two_workers_share_a_postgres_study_and_survive_a_killed_worker(postgres_url: str, tmp_path: Path) -> None:
    # Worker b marks the killed trial FAIL at the first trial it starts more than grace_period_s after the
    # kill; 8 trials of 4096 steps (~2 s each on 2 cores) leave it several such starts.
    n_trials = 8
    space = write_space(tmp_path / "space.yaml", {"algo.learning_rate": SPACE["algo.learning_rate"]})
    args = ["env=fake", "algo=ppo", "eval_freq=1024", "n_eval_episodes=2", "tune.trial_timesteps=4096",
            f"tune.space={space}", f"tune.n_trials={n_trials}", f"tune.storage={postgres_url}",
            "tune.heartbeat_interval_s=1", "tune.grace_period_s=3", "tune.n_startup_trials=100"]  # no pruning
    machines = {name: tmp_path / name for name in ("a", "b")}  # each worker has its own tune dir, as on 2 machines
    workers = {}
    for name, cwd in machines.items():
        cwd.mkdir()
        with (cwd / "worker.log").open("w") as log:  # the worker keeps its own copy of the file handle
            workers[name] = subprocess.Popen(module_command("sportsim.tune", *args), cwd=cwd, env=cli_env(),
                                             stdout=log, stderr=subprocess.STDOUT)
    try:
        # kill worker a with SIGKILL while it runs its first trial (its trial.json names trial and pid)
        record = wait_for(lambda: _first_trial_record(machines["a"] / "tunes" / "fake_ppo"), 120,
                          "worker a to start a trial")
        assert record["pid"] == workers["a"].pid
        workers["a"].send_signal(signal.SIGKILL)
        assert workers["a"].wait(timeout=30) == -signal.SIGKILL
        assert workers["b"].wait(timeout=240) == 0, (machines["b"] / "worker.log").read_text()
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    storage = tune.storage_url(postgres_url, tmp_path)
    study = optuna.load_study(study_name="fake_ppo", storage=storage)
    by_number = {t.number: t for t in study.trials}
    killed = by_number[record["number"]]
    assert killed.state == TrialState.FAIL  # heartbeat expired, failed by worker b
    (retry,) = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retry.state == TrialState.COMPLETE and retry.params == killed.params  # queued again, same values
    assert tune.n_finished(study) >= n_trials
    assert not [t for t in study.trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    log = (machines["b"] / "worker.log").read_text()
    assert "sportsim: watch with: optuna-dashboard postgresql+psycopg2://sportsim@127.0.0.1:" in log
    best = yaml.safe_load((machines["b"] / "tunes" / "fake_ppo" / "best_hparams.yaml").read_text())
    assert best["algo"]["learning_rate"] == study.best_trial.params["algo.learning_rate"]


@pytest.mark.timeout(240)
def test_a_killed_single_machine_worker_s_trial_is_failed_and_queued_on_the_next_run(tmp_path: Path) -> None:
    """SQLite, one machine: the next run of the same command fails the dead worker's RUNNING trial at once
    (no waiting for the heartbeat's grace period) and runs it again with the same values."""
    space = write_space(tmp_path / "space.yaml", {"algo.learning_rate": SPACE["algo.learning_rate"]})
    args = ["env=fake", "algo=ppo", "eval_freq=1024", "n_eval_episodes=1", "tune.trial_timesteps=100000",
            f"tune.space={space}", "tune.n_trials=1", "tune.grace_period_s=3600"]
    worker = subprocess.Popen(module_command("sportsim.tune", *args), cwd=tmp_path, env=cli_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _first_trial_record(tmp_path / "tunes" / "fake_ppo"), 120, "the worker to start a trial")
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    study = load_study(tmp_path / "tunes")
    (killed,) = study.get_trials(states=(TrialState.RUNNING,))
    study_before = killed.params
    # what the next run of the command does first, before it starts trials of its own
    cfg = config.compose_train_config(tune.expand_tune_keys(args), primary=tune.PRIMARY_CONFIG)
    settings = tune.tune_settings(cfg)
    assert tune.fail_dead_local_trials(study, settings) == [killed.number]
    trials = study.get_trials()
    assert trials[killed.number].state == TrialState.FAIL
    (queued,) = [t for t in trials if t.state == TrialState.WAITING]
    assert queued.params == study_before  # the same values, run by the next worker
    assert tune.fail_dead_local_trials(study, settings) == []  # once
