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
