"""FSM_POOL_MINUTES: a whole number of minutes from 1 to a week, or the start stops."""

import importlib

import pytest
from django.core.exceptions import ImproperlyConfigured

import fieldservice.settings as settings_module


@pytest.fixture
def reload_settings(monkeypatch):
    yield lambda: importlib.reload(settings_module)
    monkeypatch.delenv("FSM_POOL_MINUTES", raising=False)
    importlib.reload(settings_module)


def test_the_default_is_thirty_minutes(monkeypatch, reload_settings):
    monkeypatch.delenv("FSM_POOL_MINUTES", raising=False)
    assert reload_settings().FSM_POOL_MINUTES == 30
    monkeypatch.setenv("FSM_POOL_MINUTES", " 90 ")
    assert reload_settings().FSM_POOL_MINUTES == 90


@pytest.mark.parametrize("value", ["0", "-5", "10081", "1.5", "thirty", "３０"])
def test_a_bad_value_stops_the_start(monkeypatch, reload_settings, value):
    monkeypatch.setenv("FSM_POOL_MINUTES", value)
    with pytest.raises(ImproperlyConfigured, match="FSM_POOL_MINUTES"):
        reload_settings()
