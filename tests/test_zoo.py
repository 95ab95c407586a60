"""The zoo (manifest, hash checks, choice of entry) and `python -m sportsim.enjoy` (metrics, JSON line,
videos, refusing foreign pickles)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import run_module, tiny_overrides
from stable_baselines3 import PPO

from sportsim import builders, config, paths, resolve, runs, train, zoo
from sportsim.errors import ConfigError, MocapError, ModelFileError

ZOO = paths.zoo_dir()
JSON_KEYS = {"env", "task", "algo", "episodes", "mean_return", "std_return", "success_rate"}


def test_manifest_lists_every_entry_and_every_file_matches():
    entries = zoo.load_manifest()
    folders = sorted(p.parent.relative_to(ZOO).as_posix() for p in ZOO.rglob(zoo.EVALUATION_FILE))
    assert sorted(e.name for e in entries) == folders
    for entry in entries:
        zoo.verify(entry)  # raises on any mismatch
        on_disk = {p.relative_to(entry.path).as_posix() for p in entry.path.rglob("*") if p.is_file()}
        assert set(entry.files) == on_disk, f"{entry.name}: manifest out of date (run scripts/zoo_add.py)"
        evaluation = json.loads((entry.path / zoo.EVALUATION_FILE).read_text())
        assert entry.evaluation["success_rate"] == evaluation["success_rate"]
        assert entry.evaluation["episodes"] == 100 and entry.timesteps > 0 and entry.train_wall_s > 0


def test_manifest_is_what_write_manifest_produces(tmp_path: Path):
    copy = tmp_path / "zoo"
    shutil.copytree(ZOO, copy)
    zoo.write_manifest(copy)
    assert json.loads((copy / zoo.MANIFEST_FILE).read_text()) == json.loads((ZOO / zoo.MANIFEST_FILE).read_text())


@pytest.fixture
def small_zoo(tmp_path: Path) -> Path:
    """A one-entry copy of the zoo to tamper with."""
    root = tmp_path / "zoo"
    shutil.copytree(ZOO / "halfpipe" / "ppo", root / "halfpipe" / "ppo")
    zoo.write_manifest(root)
    return root


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "delete"])
def test_tampered_truncated_or_missing_files_are_refused(small_zoo: Path, damage: str):
    entry = zoo.select("halfpipe", root=small_zoo)
    zoo.verify(entry)
    target = entry.path / "final" / "model.zip"
    data = target.read_bytes()
    if damage == "flip_byte":
        target.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    elif damage == "truncate":
        target.write_bytes(data[: len(data) // 2])
    else:
        target.unlink()
    problem = "is missing" if damage == "delete" else "does not match its SHA-256"
    with pytest.raises(ModelFileError, match=f"zoo entry halfpipe/ppo: final/model.zip {problem}"):
        zoo.locate(entry)


def test_a_broken_manifest_is_a_clear_error(small_zoo: Path):
    (small_zoo / zoo.MANIFEST_FILE).write_text("{not json")
    with pytest.raises(ModelFileError, match="manifest.json: not a readable zoo manifest"):
        zoo.load_manifest(small_zoo)


def test_select_picks_the_best_entry_and_names_what_exists():
    best = zoo.select("halfpipe")
    halfpipes = [e for e in zoo.load_manifest() if e.env == "halfpipe"]
    newest = max(zoo.env_version(e.env_id) for e in halfpipes)
    assert zoo.env_version(best.env_id) == newest  # env=halfpipe: today's HalfPipe, not a retired version's entry
    assert all(best.evaluation["success_rate"] >= e.evaluation["success_rate"]
               for e in halfpipes if zoo.env_version(e.env_id) == newest)
    assert zoo.env_version("sportsim/HalfPipe-v12") == 12 and zoo.env_version("CartPole") == 0
    assert zoo.select("sportsim/HalfPipe-v0", algo="ppo").name == "halfpipe/ppo"
    giant = zoo.select("highbar", algo="ppo", task="giant")
    assert (giant.env, giant.task, giant.algo) == ("highbar", "giant", "ppo")
    with pytest.raises(ConfigError, match=r"no zoo entry for curling \(the zoo has: halfpipe/a2c"):
        zoo.select("curling")


@pytest.mark.parametrize("spec", ["zoo:highbar/giant/ppo", "highbar/giant/ppo", "zoo/highbar/giant/ppo",
                                  str(ZOO / "highbar" / "giant" / "ppo")])
def test_resolver_names_a_zoo_entry_four_ways_from_any_directory(spec: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # no zoo/ folder here: the names come from the manifest
    ref = resolve.policy(spec)
    assert ref.entry is not None and ref.entry.name == "highbar/giant/ppo"
    assert ref.location.run_dir == ZOO / "highbar" / "giant" / "ppo" and ref.label == "highbar_giant_ppo"
    assert resolve.default_output_dir(ref) == tmp_path / "videos"  # never into the zoo


def test_resolver_checks_zoo_hashes_and_names_what_exists(small_zoo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(resolve, "zoo_entries", lambda: zoo.load_manifest(small_zoo))
    model = small_zoo / "halfpipe" / "ppo" / "final" / "model.zip"
    model.write_bytes(model.read_bytes()[:-10])
    for spec in ("zoo:halfpipe/ppo", str(small_zoo / "halfpipe" / "ppo"), str(model)):
        with pytest.raises(ModelFileError, match="final/model.zip does not match its SHA-256"):
            resolve.policy(spec)
    with pytest.raises(ConfigError, match=r"zoo:curling/ppo: no such zoo entry \(the zoo has: halfpipe/ppo\)"):
        resolve.policy("zoo:curling/ppo")
    with pytest.raises(ModelFileError, match="curling/ppo: no such run directory, model .zip or zoo entry"):
        resolve.policy("curling/ppo")


def test_resolver_finds_shipped_clips_and_run_directories(fake_run: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    shipped = paths.resource_dir("mocap") / "cmu_02_01_walk.bvh"
    assert resolve.capture("mocap/cmu_02_01_walk.bvh") == shipped
    assert resolve.policy_or_capture("cmu_02_01_walk.bvh") == shipped
    with pytest.raises(MocapError, match=r"'nope.bvh': no such file \(looked in "):
        resolve.policy_or_capture("nope.bvh")
    ref = resolve.policy(fake_run, which="final")
    assert ref.entry is None and ref.location.run_dir == fake_run and ref.label == f"{fake_run.name}_final"
    assert resolve.default_output_dir(ref) == fake_run / "videos"


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_enjoy_runs_the_zoo_policy_and_ends_with_a_json_line(tmp_path: Path):
    result = run_module("sportsim.enjoy", "env=halfpipe", "algo=ppo", "episodes=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = _last_json(result.stdout)
    assert JSON_KEYS <= set(figures)
    assert figures["env"].startswith("sportsim/HalfPipe-v") and figures["algo"] == "ppo" and figures["episodes"] == 2
    assert figures["success_rate"] == 1.0  # the card: 100 % over 100 episodes from the same first seed
    assert "mean_return" in result.stdout.splitlines()[-3] or "success_rate" in result.stdout


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny training run of the fake env."""
    root = tmp_path_factory.mktemp("fake_run")
    train = run_module("sportsim.train", *tiny_overrides("fake", "ppo"), "total_timesteps=64", "eval_freq=0",
                       f"runs_root={root / 'runs'}", cwd=root)
    assert train.returncode == 0, train.stderr
    return next((root / "runs").glob("fake/ppo/*"))


def test_enjoy_a_run_directory(fake_run: Path, tmp_path: Path):
    result = run_module("sportsim.enjoy", f"model={fake_run}", "episodes=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _last_json(result.stdout)["episodes"] == 3


def test_enjoy_video_never_overwrites(fake_run: Path, tmp_path: Path):
    for expected in (f"{fake_run.name}_final.mp4", f"{fake_run.name}_final-1.mp4"):
        result = run_module("sportsim.enjoy", f"model={fake_run}", "episodes=1", "video=true", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert _last_json(result.stdout)["video"] == f"videos/{expected}"
        assert (tmp_path / "videos" / expected).stat().st_size > 1_000
    taken = run_module("sportsim.enjoy", f"model={fake_run}", "video=true", f"out={tmp_path / 'videos' / expected}",
                       cwd=tmp_path)
    assert taken.returncode == 2 and "already exists" in taken.stderr


def test_enjoy_refuses_a_foreign_pickle_unless_trusted(tmp_path: Path):
    """An SB3 zip with no sportsim config beside it would have to be unpickled: refused without trust=true."""
    import gymnasium as gym

    import fake_env  # noqa: F401  (registers the fake env)

    env = gym.make(fake_env.ENV_ID)
    foreign = tmp_path / "downloaded" / "agent.zip"
    PPO("MlpPolicy", env, n_steps=32, batch_size=32, policy_kwargs={"net_arch": [8, 8]}).save(foreign)
    refused = run_module("sportsim.enjoy", f"model={foreign}", "env=fake", "algo=ppo", cwd=tmp_path)
    assert refused.returncode == 2 and "pass trust=true" in refused.stderr and "Traceback" not in refused.stderr
    trusted = run_module("sportsim.enjoy", f"model={foreign}", "env=fake", "algo=ppo", "trust=true", "episodes=2",
                         cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    assert _last_json(trusted.stdout)["episodes"] == 2


@pytest.mark.parametrize("args, message", [
    ((), "give env=<name> (the best zoo policy) or model=<zoo:entry | run dir | .zip>"),
    (("model=halfpipe/ppo", "env.kwargs.colour=red"), "unknown env setting 'env.kwargs.colour' (valid env.kwargs.*: pipe"),
    (("model=halfpipe/ppo", "env.id=evil:Env"), "a policy runs on the env it was trained on"),
    (("model=zoo:curling/ppo",), "zoo:curling/ppo: no such zoo entry"),
    (("env=halfpipe", "episodes=0"), "option episodes: expected an integer >= 1, got 0"),
    (("env=halfpipe", "colour=red"), "unknown option 'colour'"),
    (("env=curling",), "no zoo entry for curling"),
])
def test_enjoy_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str):
    result = run_module("sportsim.enjoy", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_init_zoo_starts_from_the_zoo_weights_and_statistics():
    """init=zoo loads the best zoo entry for env/task/algo (hash-checked) into the new model."""
    cfg = config.compose_train_config(["env=halfpipe", "algo=ppo", "init=zoo", "n_envs=1"])
    train_env, eval_env = train.make_envs(cfg, seed=0)
    try:
        model = builders.build_algorithm(cfg, train_env, seed=0)
        train._initialise(model, train_env, cfg)
        reference = builders.build_algorithm(cfg, train_env, seed=1)
        entry = zoo.select(cfg.env.id, "ppo")  # the zoo's best PPO entry for this env version
        location = zoo.locate(entry)
        runs.load_parameters(reference, location.model_file)
        for name, tensor in reference.policy.state_dict().items():
            assert (model.policy.state_dict()[name] == tensor).all(), name
        with __import__("numpy").load(location.norm_file) as stats:
            assert (train_env.obs_rms.mean == stats["obs_mean"]).all()
    finally:
        train_env.close()
        eval_env.close()


@pytest.mark.parametrize("overrides, error, message", [
    (["env=halfpipe", "algo=ppo", "algo.policy_kwargs.net_arch=[16,16]"], ModelFileError, "does not fit the PPO"),
    (["env=fake", "algo=ppo"], ConfigError, r"no zoo entry for fake_env:sportsim_test/Fake-v0/ppo \(the zoo has: "),
])
def test_init_zoo_mismatches_are_clear_errors(overrides, error, message, test_configs):
    cfg = config.compose_train_config([*overrides, "init=zoo", "n_envs=1"])
    train_env, eval_env = train.make_envs(cfg, seed=0)
    try:
        with pytest.raises(error, match=message):
            train._initialise(builders.build_algorithm(cfg, train_env, seed=0), train_env, cfg)
    finally:
        train_env.close()
        eval_env.close()


def test_train_cli_fine_tunes_from_the_zoo(tmp_path: Path):
    result = run_module("sportsim.train", "env=halfpipe", "algo=ppo", "init=zoo", "n_envs=1", "algo.n_steps=64",
                        "algo.batch_size=64", "algo.n_epochs=1", "total_timesteps=64", "eval_freq=0",
                        "progress_bar=false", "verbose=0", f"runs_root={tmp_path}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entry = zoo.select(config.compose_train_config(["env=halfpipe"]).env.id, "ppo")  # this env version's
    assert f"initial weights from zoo entry {entry.name} (final weights, {entry.timesteps} steps)" in result.stdout


def test_init_std_config_restarts_the_action_noise_and_keeps_the_rest():
    """init_std=config: the zoo policy's weights with the config's log_std_init (fresh exploration when
    fine-tuning onto a changed env); source keeps the loaded noise."""
    overrides = ["env=halfpipe", "algo=ppo", "init=zoo", "n_envs=1", "+algo.policy_kwargs.log_std_init=-1.0"]
    stds = {}
    for mode in ("source", "config"):
        cfg = config.compose_train_config([*overrides, f"init_std={mode}"])
        train_env, eval_env = train.make_envs(cfg, seed=0)
        try:
            model = builders.build_algorithm(cfg, train_env, seed=0)
            train._initialise(model, train_env, cfg)
            stds[mode] = model.policy.log_std.detach().clone()
            weights = {k: v for k, v in model.policy.state_dict().items() if k != "log_std"}
            stds[f"{mode}_weights"] = weights
        finally:
            train_env.close()
            eval_env.close()
    assert (stds["config"] == -1.0).all() and not (stds["source"] == -1.0).all()
    for name, tensor in stds["source_weights"].items():
        assert (stds["config_weights"][name] == tensor).all(), name
