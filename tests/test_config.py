"""Composing and checking the training config: group choices, overrides, hparams precedence, errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml
from helpers import run_module
from torch import nn

from sportsim import builders, config, paths, runs, train
from sportsim.errors import ConfigError

pytestmark = pytest.mark.usefixtures("test_configs")


@pytest.mark.parametrize("group", ["env", "algo"])
def test_unknown_group_option_is_one_line_and_exit_2(group: str, tmp_path: Path) -> None:
    result = run_module("sportsim.train", f"{group}=foo", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    options = ", ".join(config.group_options(group))
    assert result.stderr == f"sportsim: unknown {group} 'foo' (choose from: {options})\n"
    assert "fake" in options if group == "env" else options == "a2c, ppo, sac"
    assert not list(tmp_path.iterdir()), "a rejected config must not create a run directory"


def test_help_lists_groups_and_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "a2c, ppo, sac" in text
    assert "fake" in text and "fake_ppo" in text  # env option and hparams file from the test config dir
    for setting in ("seed:", "total_timesteps:", "n_envs:", "vec_env:", "normalize:", "eval_freq:",
                    "checkpoint_freq:", "device:", "runs_root:", "run_dir:", "resume:", "progress_bar:"):
        assert setting in text
    assert "resume=<run dir>" in text and config.CONFIG_PATH_ENV in text


def test_overrides_are_applied() -> None:
    cfg = config.compose_train_config([
        "env=fake", "algo=sac", "seed=7", "n_envs=3", "vec_env=subproc", "normalize.reward=true",
        "total_timesteps=1234", "algo.gamma=0.95", "algo.policy_kwargs.net_arch=[8,8]",
    ])
    assert (cfg.env.name, cfg.algo.name, cfg.seed, cfg.n_envs, cfg.vec_env) == ("fake", "sac", 7, 3, "subproc")
    assert cfg.normalize.reward is True and cfg.total_timesteps == 1234
    assert cfg.algo.gamma == 0.95 and list(cfg.algo.policy_kwargs.net_arch) == [8, 8]
    assert cfg.algo.batch_size == 256  # untouched SB3 default from configs/algo/sac.yaml


def test_null_total_timesteps_takes_the_env_default() -> None:
    cfg = config.compose_train_config(["env=fake", "algo=a2c"])
    assert cfg.total_timesteps == cfg.env.default_timesteps == 512


def test_hparams_file_beats_algo_defaults_and_command_line_beats_hparams() -> None:
    tuned = config.compose_train_config(["env=fake", "algo=ppo"])
    assert tuned.algo.learning_rate == 5.0e-4  # tests/configs/hparams/fake_ppo.yaml (algo/ppo.yaml: 3e-4)
    assert tuned.algo.n_steps == 64 and list(tuned.algo.policy_kwargs.net_arch) == [16, 16]
    assert tuned.algo.gae_lambda == 0.95  # keys the hparams file leaves alone keep the algo default
    assert tuned.n_envs == 2  # run settings in the hparams file beat train.yaml (n_envs: 1)
    overridden = config.compose_train_config(["env=fake", "algo=ppo", "algo.learning_rate=1e-3", "n_envs=3"])
    assert overridden.algo.learning_rate == 1e-3 and overridden.n_envs == 3
    assert overridden.algo.n_steps == 64
    untuned = config.compose_train_config(["env=fake", "algo=sac"])  # no hparams/fake_sac.yaml
    assert untuned.algo.learning_rate == 3.0e-4


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("total_timesteps=0", "total_timesteps must be an integer >= 1, got 0"),
        ("total_timesteps=1.5", "total_timesteps must be an integer >= 1, got 1.5"),
        ("n_envs=0", "n_envs must be an integer >= 1, got 0"),
        ("vec_env=threads", "vec_env must be one of dummy, subproc, got 'threads'"),
        ("n_eval_episodes=0", "n_eval_episodes must be an integer >= 1"),
        ("normalize.obs=maybe", "normalize.obs must be true or false"),
        ("device=quantum", "device: unknown torch device 'quantum'"),
        ("init=5", "init must be null, zoo, or a run directory / model .zip path, got 5"),
        ("algo.learning_rate=-1", "algo.learning_rate must be > 0, got -1"),
        ("algo.learning_rate=fast", "algo.learning_rate: expected a number or 'lin_<number>', got 'fast'"),
        ("algo.n_steps=2.5", "algo.n_steps: expected an integer, got 2.5"),
        ("algo.gamma=1.5", "algo.gamma must be in (0, 1], got 1.5"),
        ("algo.normalize_advantage=1", "algo.normalize_advantage: expected true or false"),
        ("algo.policy_kwargs.activation_fn=swish", "unknown activation 'swish' (choose from: tanh, relu"),
        ("algo.policy=TransformerPolicy", "unknown algo.policy 'TransformerPolicy' for ppo"),
        ("+algo.policy_kwargs.depth=3", "unknown algo.policy_kwargs.depth for ppo MlpPolicy (valid: "),
        ("+algo.action_noise=0.1", "algo.action_noise needs a Python object"),
    ],
)
def test_bad_values_raise_config_error_naming_the_setting(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.compose_train_config(["env=fake", "algo=ppo", override])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_sb3_argument_lists_the_valid_ones() -> None:
    valid = builders.sb3_kwarg_names("ppo")
    for override in ("algo.learning_rat=1e-3", "+algo.learning_rat=1e-3"):
        with pytest.raises(ConfigError) as info:
            config.compose_train_config(["env=fake", "algo=ppo", override])
        assert f"unknown SB3 argument algo.learning_rat for ppo (valid: {', '.join(valid)})" in str(info.value)
    assert "learning_rate" in valid and "seed" not in valid and "env" not in valid


def test_unknown_setting_and_parse_errors_are_one_line() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'sed' \(valid settings: .*seed"):
        config.compose_train_config(["env=fake", "sed=3"])
    with pytest.raises(ConfigError, match=r"unknown setting 'normalize.ob' \(valid normalize\.\*: obs, reward"):
        config.compose_train_config(["env=fake", "normalize.ob=true"])
    for bad in ("seed==3", "algo.net_arch=[1,", "seed=1,2"):
        with pytest.raises(ConfigError) as info:
            config.compose_train_config(["env=fake", bad])
        assert "\n" not in str(info.value) and bad in str(info.value)


def test_missing_extra_config_dir_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(config.CONFIG_PATH_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=f"{config.CONFIG_PATH_ENV}: config folder .*nowhere does not exist"):
        config.compose_train_config(["env=fake"])


def test_resume_allows_only_run_independent_overrides(tmp_path: Path) -> None:
    cfg = config.compose_train_config(["env=fake", "algo=ppo", "total_timesteps=1000"])
    runs.save_config(cfg, tmp_path)
    resumed = config.load_train_config([f"resume={tmp_path}", "total_timesteps=5000", "progress_bar=true"])
    assert resumed.total_timesteps == 5000 and resumed.progress_bar is True
    assert resumed.run_dir == resumed.resume == str(tmp_path.resolve())
    assert resumed.algo == cfg.algo
    with pytest.raises(ConfigError, match=r"resume: 'algo\.learning_rate=1' would change the saved run config"):
        config.load_train_config([f"resume={tmp_path}", "algo.learning_rate=1"])
    with pytest.raises(ConfigError, match="total_timesteps must be an integer >= 1"):
        config.load_train_config([f"resume={tmp_path}", "total_timesteps=-3"])


def test_run_dir_naming_rule() -> None:
    cfg = config.compose_train_config(["env=fake", "algo=sac", "seed=3", "runs_root=out"])
    assert runs.new_run_dir(cfg, now=datetime(2025, 1, 2, 3, 4, 5)) == Path("out/fake/sac/20250102-030405_seed3")


def test_sb3_kwargs_map_names_to_objects() -> None:
    kwargs = builders.sb3_kwargs({"name": "ppo", "policy": "MlpPolicy", "learning_rate": "lin_1e-3",
                                  "policy_kwargs": {"activation_fn": "relu", "net_arch": [8]}})
    assert kwargs["policy_kwargs"]["activation_fn"] is nn.ReLU
    schedule = kwargs["learning_rate"]
    assert schedule(1.0) == pytest.approx(1e-3) and schedule(0.25) == pytest.approx(2.5e-4)
    assert "name" not in kwargs and "policy" not in kwargs
    sac = builders.sb3_kwargs({"name": "sac", "policy": "MlpPolicy", "train_freq": [2, "episode"]})
    assert sac["train_freq"] == (2, "episode")


@pytest.mark.parametrize("algo", ["a2c", "ppo", "sac"])
def test_every_algo_config_builds_its_sb3_algorithm(algo: str) -> None:
    cfg = config.compose_train_config(["env=fake", f"algo={algo}", "algo.policy_kwargs.net_arch=[8,8]"])
    env = builders.make_vec_envs(cfg, n_envs=1, seed=0, training=True)
    model = builders.build_algorithm(cfg, env, seed=0, inference=True)
    assert type(model) is builders.ALGORITHMS[algo]
    activation = nn.Tanh if algo != "sac" else nn.ReLU
    assert any(isinstance(m, activation) for m in model.policy.modules())
    assert [m.out_features for m in model.policy.modules() if isinstance(m, nn.Linear)][:2] == [8, 8]
    env.close()


def test_task_selects_the_env_task_and_is_recorded() -> None:
    cfg = config.compose_train_config(["env=highbar", "task=giant"])
    assert cfg.task == "giant" and cfg.env.kwargs.task == "giant"
    default = config.compose_train_config(["env=highbar"])
    own = yaml.safe_load((paths.config_dir() / "env" / "highbar.yaml").read_text())["kwargs"]["task"]
    assert default.task == default.env.kwargs.task == own  # task: null keeps the env config's task
    assert config.compose_train_config(["env=fake"]).task is None  # envs without tasks leave it null


def test_train_kwargs_reach_only_the_training_copies() -> None:
    """env.train_kwargs (training aids) go to the training env copies; evaluation copies use env.kwargs."""
    cfg = config.compose_train_config(["env=highbar", "n_envs=1", "env.train_kwargs.handstand_start_fraction=0.5"])
    assert builders.train_env_kwargs(cfg.env) == {"handstand_start_fraction": 0.5}
    training = builders.make_vec_envs(cfg, n_envs=1, seed=0, training=True)
    evaluation = builders.make_vec_envs(cfg, n_envs=1, seed=0, training=False)
    try:
        assert training.get_attr("handstand_start_fraction") == [0.5]
        assert evaluation.get_attr("handstand_start_fraction") == [0.0]
    finally:
        training.close()
        evaluation.close()


def test_bad_train_kwargs_fail_before_a_run_directory_is_made(tmp_path: Path) -> None:
    result = run_module("sportsim.train", "env=highbar", "env.train_kwargs.handstand_start_fraction=2",
                        f"runs_root={tmp_path / 'runs'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "sportsim: handstand_start_fraction=2 must be in [0, 1]\n"
    assert not (tmp_path / "runs").exists()


def test_unknown_task_and_task_for_an_env_without_tasks_are_one_line_errors(tmp_path: Path) -> None:
    result = run_module("sportsim.train", "env=highbar", "task=flip", cwd=tmp_path)
    assert result.returncode == 2
    tasks = ", ".join(yaml.safe_load((paths.config_dir() / "env" / "highbar.yaml").read_text())["tasks"])
    assert result.stderr == f"sportsim: unknown task 'flip' for env highbar (choose from: {tasks})\n"
    assert not list(tmp_path.iterdir()), "a rejected config must not create a run directory"
    with pytest.raises(ConfigError) as info:
        config.compose_train_config(["env=fake", "task=giant"])
    assert str(info.value) == "task=giant: env 'fake' has no tasks (envs with tasks: highbar, imitation)"
    with pytest.raises(ConfigError, match=r"unknown task 'flip' for env highbar \(choose from: giant, handstand"):
        config.compose_train_config(["env=highbar", "env.kwargs.task=flip"])


def test_config_from_reproduces_a_saved_config_with_only_run_settings_changeable(tmp_path: Path) -> None:
    """config_from=<zoo entry | run dir> starts a NEW run with the saved config (how zoo entries are retrained)."""
    entry = paths.zoo_dir() / "halfpipe" / "ppo"
    saved = runs.load_config(entry)
    cfg = config.load_train_config([f"config_from={entry}", f"runs_root={tmp_path}", "seed=3"])
    assert cfg.run_dir is None and cfg.resume is None and cfg.config_from == str(entry)
    assert cfg.runs_root == str(tmp_path) and cfg.seed == 3
    assert cfg.algo == saved.algo and cfg.env == saved.env and cfg.total_timesteps == saved.total_timesteps
    assert config.load_train_config([f"config_from={entry}"]).runs_root == "runs"
    with pytest.raises(ConfigError, match=r"config_from: 'algo.learning_rate=0.1' would change the saved config"):
        config.load_train_config([f"config_from={entry}", "algo.learning_rate=0.1"])


@pytest.mark.parametrize("env_id, slip, contact, slip_scale", [
    ("sportsim/Imitation-v10", 0.1, 0.3, 400.0),
    ("sportsim/Imitation-v9", 0.1, 0.3, 400.0),
    ("sportsim/Imitation-v8", 0.1, 0.3, 400.0),
    ("sportsim/Imitation-v7", 0.1, 0.1, 400.0),
    ("sportsim/Imitation-v3", 0.1, 0.0, 100.0),
    ("sportsim/Imitation-v1", 0.0, 0.0, 100.0),
])
def test_env_id_picks_the_whole_version(env_id: str, slip: float, contact: float, slip_scale: float) -> None:
    """``env=imitation env.id=<version>`` trains that version as registered: the config leaves the arguments a
    version fixes null (builders.version_kwargs), so its foot terms are the version's - a number in the config
    would override them (Imitation-v8 trained with v7's contact weight that way)."""
    cfg = config.compose_train_config(["env=imitation", "algo=ppo", f"env.id={env_id}"])
    env = builders.make_env(cfg.env).unwrapped
    try:
        assert (env.weights.foot_slip, env.weights.foot_contact, env.weights.foot_slip_scale) == (slip, contact, slip_scale)
    finally:
        env.close()


def test_a_number_in_the_config_still_overrides_the_version() -> None:
    cfg = config.compose_train_config(["env=imitation", "algo=ppo", "env.id=sportsim/Imitation-v8",
                                       "env.kwargs.foot_contact_weight=0.2"])
    env = builders.make_env(cfg.env).unwrapped
    try:
        assert env.weights.foot_contact == 0.2
    finally:
        env.close()
    assert builders.version_kwargs("sportsim/NoSuch-v0", {"a": None}) == {"a": None}  # unregistered: unchanged
