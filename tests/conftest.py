"""Fixtures for the training-machinery tests (helpers live in tests/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import TEST_CONFIG_DIR, TESTS_DIR

from sportsim.config import CONFIG_PATH_ENV


@pytest.fixture
def test_configs(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make tests/configs (fake env, test hparams) and tests/fake_env.py visible in this process."""
    monkeypatch.setenv(CONFIG_PATH_ENV, str(TEST_CONFIG_DIR))
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    return TEST_CONFIG_DIR


@pytest.fixture(autouse=True, scope="session")
def _mujoco_warnings_as_python_warnings():
    """MuJoCo's default warning handler appends to ./MUJOCO_LOG.TXT (tests that drive an env into an
    unstable state on purpose left one in the repository root); route its warnings to Python's
    warnings instead, where pytest reports them."""
    import warnings

    import mujoco

    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(lambda message: warnings.warn(f"MuJoCo: {message}", RuntimeWarning, stacklevel=1))
    yield
    mujoco.set_mju_user_warning(previous)


@pytest.fixture(scope="session")
def standing(tmp_path_factory: pytest.TempPathFactory):
    """A reference motion .npz that stands still in the zero pose for 3 s (reference male) - the
    imitation tests' statics case (servo hold, ground reaction forces)."""
    import numpy as np

    from sportsim import humanoid
    from sportsim.mocap.retarget import POINT_NAMES, ReferenceMotion

    model = humanoid.build_humanoid_model()
    n = 91
    positions = humanoid.kinematic_positions(model, model.qpos0)
    motion = ReferenceMotion(
        fps=30.0, qpos=np.tile(model.qpos0, (n, 1)), qvel=np.zeros((n, model.nv)),
        positions_m=np.tile(np.array([positions[p] for p in POINT_NAMES]), (n, 1, 1)),
        foot_contacts=np.ones((n, 2), dtype=bool), target_names=(), target_positions_m=np.zeros((n, 0, 3)),
        height_m=humanoid.REFERENCE_HEIGHT_M, mass_kg=humanoid.REFERENCE_MASS_KG)
    return motion.save_npz(tmp_path_factory.mktemp("standing") / "standing.npz")
