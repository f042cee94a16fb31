"""What the test kit assumes about the console, checked: the cheap password hashing of the
tests stays out of the console's own configuration, and the settings a test may change on the
shared app (testkit.PER_REQUEST_SETTINGS) are indeed read per request, never at start-up."""
import flask
from flask_security.utils import hash_password, verify_password
from passlib.hash import argon2
from testkit import CHEAP_HASHING, PASSWORD, PER_REQUEST_SETTINGS, make_app

from console import create_app
from console.config import DEFAULTS


def _cost(hashed):
    """(memory KiB, passes, lanes) of an argon2 hash: $argon2id$v=19$m=..,t=..,p=..$salt$hash"""
    params = dict(part.split("=") for part in hashed.split("$")[3].split(","))
    return int(params["m"]), int(params["t"]), int(params["p"])


def test_the_console_hashes_with_argon2_at_its_default_cost_and_tests_only_cheaply(tmp_path):
    console = create_app({"CONSOLE_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}"})
    with console.app_context():
        real = hash_password(PASSWORD)
    assert real.startswith("$argon2id$")
    assert _cost(real) == (argon2.memory_cost, argon2.default_rounds, argon2.parallelism)
    memory, passes, _lanes = _cost(real)
    assert memory >= 64 * 1024 and passes >= 3  # what this console has always shipped with

    test_app = make_app(f"sqlite:///{tmp_path / 'console.db'}")
    with test_app.app_context():
        cheap = hash_password(PASSWORD)
    assert cheap.startswith("$argon2id$")
    assert _cost(cheap) == (CHEAP_HASHING["argon2__memory_cost"],
                            CHEAP_HASHING["argon2__rounds"], CHEAP_HASHING["argon2__parallelism"])
    with console.app_context():  # a test database's hashes still work for a real server
        assert verify_password(PASSWORD, cheap)
        assert not verify_password("Wrong@2026", cheap)


def test_the_settings_tests_change_on_the_shared_app_are_not_read_while_it_is_built(
        tmp_path, monkeypatch):
    read = set()

    class RecordingConfig(flask.Config):
        def __getitem__(self, key):
            read.add(key)
            return super().__getitem__(key)

        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    monkeypatch.setattr(flask.Flask, "config_class", RecordingConfig)
    create_app({"CONSOLE_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}"})
    assert PER_REQUEST_SETTINGS <= DEFAULTS.keys()
    assert "CONSOLE_DATABASE_URL" in read  # the recording works
    assert read & PER_REQUEST_SETTINGS == set()
