"""`make run` on any port gives links that open on that port, and says where the mails are."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import development

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"SERVER_BASE_URL", "PORT", "FLASK_RUN_PORT", "FLASK_RUN_HOST",
                        "MARKETPLACE_CONFIG", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    return {**env, **extra}


def run(command: list[str], env: dict, stdin: str | None = None) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, input=stdin,  # noqa: S603 - our commands
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


@needs_make
def test_make_run_serves_on_port_and_builds_links_on_it():
    env = clean_env(PORT="8123")
    plan = run([MAKE, "-n", "run"], env)
    assert "--port 8123" in plan
    assert "http://127.0.0.1:8123/dev/outbox" in plan  # printed at start-up
    # The environment make gives its commands (flask run among them), which the app reads:
    rule = "base:\n\t@echo $$SERVER_BASE_URL\n"
    assert run([MAKE, "-s", "-f", "Makefile", "-f", "-", "base"], env, rule).strip() == (
        "http://127.0.0.1:8123")


@needs_make
def test_an_operators_server_base_url_wins_over_the_port():
    plan = run([MAKE, "-n", "run"], clean_env(PORT="8123", SERVER_BASE_URL="https://marche.example.org"))
    assert "https://marche.example.org/dev/outbox" in plan


def test_flask_run_port_gives_the_development_address(tmp_path, monkeypatch):
    """`FLASK_RUN_PORT=8124 flask run`, without make, also gives links on 8124."""
    env = clean_env(FLASK_RUN_PORT="8124", INSTANCE_PATH=str(tmp_path / "instance"))
    script = "from marketplace import create_app; print(create_app().config['SERVER_BASE_URL'])"
    assert run([sys.executable, "-c", script], env).splitlines()[-1] == "http://127.0.0.1:8124"

    for name in ("FLASK_RUN_HOST", "FLASK_RUN_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert development._served_at() == "http://127.0.0.1:5000"
    monkeypatch.setenv("FLASK_RUN_HOST", "0.0.0.0")  # noqa: S104 - nothing is bound
    monkeypatch.setenv("FLASK_RUN_PORT", "8125")
    assert development._served_at() == "http://127.0.0.1:8125"
    monkeypatch.setenv("FLASK_RUN_HOST", "::1")
    assert development._served_at() == "http://[::1]:8125"
