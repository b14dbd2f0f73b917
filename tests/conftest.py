"""Shared pytest configuration: offline by default, seeded, opt-in slow tests."""

import os

import keras
import pytest

# Tests never reach the network: dataset loaders must not try keras' downloads.
os.environ.setdefault("HDL_KERAS_OFFLINE", "1")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def _seed_everything():
    keras.utils.set_random_seed(0)
