"""Lint of the deployment files where no container engine runs (deploy/check.sh): what the
Dockerfile copies exists and is not ignored, the image is python:3.11-slim, runs as a user of
its own and serves the README's gunicorn command; compose.yaml parses (PyYAML, when this Python
has it) and has web, worker, beat, PostgreSQL and Redis with /readyz as the web's health check,
and the same commands as the systemd units.

    python3 deploy/check_files.py      # prints what it checked, exits 1 on a problem
"""
from __future__ import annotations

import fnmatch
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_WEB = ["gunicorn", "-w", "4"]
WORKER_APP = "marketplace.worker:celery"


def dockerfile_problems() -> list[str]:
    problems = []
    text = (ROOT / "Dockerfile").read_text()
    lines = re.sub(r"\\\n", " ", text).splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    ignored = [p.strip().rstrip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()
               if p.strip() and not p.startswith("#")]
    froms = [line.split()[1] for line in instructions if line.upper().startswith("FROM ")]
    if froms != ["python:3.11-slim"]:
        problems.append(f"Dockerfile: FROM {froms}, expected python:3.11-slim")
    for line in instructions:
        if not line.upper().startswith("COPY "):
            continue
        words = [w for w in shlex.split(line)[1:] if not w.startswith("--")]
        for source in words[:-1]:
            if not (ROOT / source).exists():
                problems.append(f"Dockerfile copies {source}, which does not exist")
            elif any(fnmatch.fnmatch(source, pattern) for pattern in ignored):
                problems.append(f"Dockerfile copies {source}, which .dockerignore leaves out")
    users = [line.split()[1] for line in instructions if line.upper().startswith("USER ")]
    if not users or users[-1] in ("root", "0"):
        problems.append("Dockerfile: the image must run as a user of its own (USER)")
    cmd = [line for line in instructions if line.upper().startswith("CMD ")]
    if not cmd or _exec_form(cmd[-1])[:3] != README_WEB or "marketplace:create_app()" not in cmd[-1]:
        problems.append(f"Dockerfile: CMD is not the README's gunicorn -w 4 command: {cmd}")
    if "pybabel compile -d translations" not in text:
        problems.append("Dockerfile: the translations are not compiled")
    return problems


def _exec_form(line: str) -> list[str]:
    import json

    try:
        return json.loads(line.split(None, 1)[1])
    except (ValueError, IndexError):
        return []


def compose_problems() -> tuple[list[str], bool]:
    try:
        import yaml
    except ImportError:
        return [], False
    problems = []
    data = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = data.get("services", {})
    for name in ("web", "worker", "beat", "db", "redis"):
        if name not in services:
            problems.append(f"compose.yaml: no {name} service")
    web = services.get("web", {})
    if web.get("command", [])[:3] != README_WEB:
        problems.append(f"compose.yaml: web runs {web.get('command')}, not gunicorn -w 4")
    if "/readyz" not in " ".join(web.get("healthcheck", {}).get("test", [])):
        problems.append("compose.yaml: the web's health check is not /readyz")
    for name in ("worker", "beat"):
        command = services.get(name, {}).get("command", [])
        if WORKER_APP not in command:
            problems.append(f"compose.yaml: {name} does not run {WORKER_APP}")
    beats = [n for n, s in services.items() if "beat" in (s.get("command") or [])]
    if len(beats) != 1:
        problems.append(f"compose.yaml: one beat in the whole deployment, not {beats}")
    for name, service in services.items():
        if service.get("build") and service.get("build") != ".":
            problems.append(f"compose.yaml: {name} builds {service['build']}")
        for healthy in (service.get("depends_on") or {}):
            if healthy not in services:
                problems.append(f"compose.yaml: {name} depends on unknown {healthy}")
    return problems, True


def systemd_problems() -> list[str]:
    problems = []
    web = (ROOT / "deploy/systemd/ess-web.service").read_text()
    if "gunicorn -w 4 -b 127.0.0.1:8000 'marketplace:create_app()'" not in web:
        problems.append("ess-web.service does not run the README's gunicorn command")
    for unit in ("ess-worker.service", "ess-beat.service"):
        if WORKER_APP not in (ROOT / "deploy/systemd" / unit).read_text():
            problems.append(f"{unit} does not run {WORKER_APP}")
    return problems


def main() -> int:
    problems = dockerfile_problems() + systemd_problems()
    compose, parsed = compose_problems()
    problems += compose
    print("Dockerfile, .dockerignore, systemd units: checked")
    print("compose.yaml: " + ("parsed and checked" if parsed
                              else "not parsed (no PyYAML in this Python)"))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
