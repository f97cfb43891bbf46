import pytest
from django.core.exceptions import ImproperlyConfigured

from fieldservice.settings import env_bool, env_list


def test_booleans_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("FSM_FLAG", "yes")
    assert env_bool("FSM_FLAG", False) is True
    monkeypatch.setenv("FSM_FLAG", "off")
    assert env_bool("FSM_FLAG", True) is False
    monkeypatch.setenv("FSM_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="FSM_FLAG"):
        env_bool("FSM_FLAG", False)


def test_lists_split_on_commas(monkeypatch):
    monkeypatch.setenv("FSM_HOSTS", "a.example, b.example,,")
    assert env_list("FSM_HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.delenv("FSM_HOSTS")
    assert env_list("FSM_HOSTS", ["x"]) == ["x"]


def test_passwords_are_hashed_with_argon2_outside_tests():
    import importlib
    import os

    import fieldservice.settings as settings_module

    saved = os.environ.get("FSM_TESTING")
    os.environ["FSM_TESTING"] = "0"
    os.environ["SECRET_KEY"] = "x" * 50
    try:
        fresh = importlib.reload(settings_module)
        assert fresh.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
        assert fresh.DATABASES["default"]["ENGINE"]
    finally:
        os.environ.pop("SECRET_KEY")
        if saved is None:
            os.environ.pop("FSM_TESTING")
        else:
            os.environ["FSM_TESTING"] = saved
        importlib.reload(settings_module)


def test_missing_secret_key_stops_a_production_start(monkeypatch):
    import importlib

    import fieldservice.settings as settings_module

    monkeypatch.setenv("FSM_TESTING", "0")
    monkeypatch.setenv("DEBUG", "0")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    try:
        with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
            importlib.reload(settings_module)
    finally:
        monkeypatch.setenv("FSM_TESTING", "1")
        importlib.reload(settings_module)
