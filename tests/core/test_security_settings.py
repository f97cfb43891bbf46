"""Production settings: `check --deploy` is clean with the documented variables, a
Content-Security-Policy is sent and no page needs inline script."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

import fieldservice

PRODUCTION = {
    "SECRET_KEY": "k" * 20 + "-Zq8vX2mN4pL7rT9wY1bC3dF5gH6jK0sA",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "fsm.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_COOKIES": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
}
WARNINGS = ["security.W004", "security.W008", "security.W012", "security.W016"]


def check_deploy(tmp_path, extra: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"FSM_TESTING", "DJANGO_SETTINGS_MODULE", *PRODUCTION}}
    env.update(FSM_VAR_DIR=str(tmp_path), **extra)
    result = subprocess.run(
        [sys.executable, "-c", "from fieldservice.cli import main; main()", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.stdout + result.stderr


def test_check_deploy_gives_none_of_the_https_warnings_with_the_production_settings(tmp_path):
    output = check_deploy(tmp_path, PRODUCTION)
    assert "Traceback" not in output, output
    assert not [warning for warning in WARNINGS if warning in output], output
    bare = check_deploy(tmp_path, {"SECRET_KEY": PRODUCTION["SECRET_KEY"], "DEBUG": "false"})
    assert all(warning in bare for warning in WARNINGS), bare


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECURE_HSTS_SECONDS", "one year"),
        ("SECURE_HSTS_SECONDS", "-1"),
        ("SECURE_PROXY_SSL_HEADER", "https"),
        ("SECURE_SSL_REDIRECT", "ture"),
        ("SESSION_COOKIE_AGE", "10"),
        ("FSM_TRUSTED_PROXIES", "the load balancer"),
        ("FSM_LOGIN_FAILURE_LIMIT", "0"),
    ],
)
def test_bad_values_stop_the_start(monkeypatch, name, value):
    import importlib

    import fieldservice.settings as settings_module

    monkeypatch.setenv(name, value)
    try:
        with pytest.raises(ImproperlyConfigured, match=name):
            importlib.reload(settings_module)
    finally:
        monkeypatch.delenv(name)
        importlib.reload(settings_module)


def test_the_session_lifetime_and_proxy_header_come_from_the_environment(monkeypatch):
    import importlib

    import fieldservice.settings as settings_module

    monkeypatch.setenv("SESSION_COOKIE_AGE", "3600")
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")
    try:
        fresh = importlib.reload(settings_module)
        assert fresh.SESSION_COOKIE_AGE == 3600
        assert fresh.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    finally:
        monkeypatch.delenv("SESSION_COOKIE_AGE")
        monkeypatch.delenv("SECURE_PROXY_SSL_HEADER")
        importlib.reload(settings_module)


def test_pages_send_a_content_security_policy_without_inline_script(client, personas, client_for):
    for response in (client.get("/login/"), client_for(personas.admin).get("/")):
        policy = response.headers["Content-Security-Policy"]
        script = re.search(r"script-src ([^;]*)", policy).group(1)
        assert script.split() == ["'self'"], policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_no_template_has_inline_script_or_event_handlers():
    # Blocked by the policy: they would silently stop working.
    root = Path(fieldservice.__file__).parent
    offenders = []
    for path in root.rglob("templates/**/*.html"):
        text = path.read_text()
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(str(path.relative_to(root)))
        if "javascript:" in text:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
    assert "csp.middleware.CSPMiddleware" in django_settings.MIDDLEWARE
