#!/usr/bin/env bash
# CI check of the deployment files (.ci/run): builds the image where a container engine runs
# (docker or podman) and starts it once; everywhere, lints what can be linted without one:
# deploy/check_files.py (Dockerfile, .dockerignore, compose.yaml, systemd units),
# `haproxy -c` on deploy/haproxy.cfg, `systemd-analyze verify` on the units, `nginx -t`.
set -euo pipefail
cd "$(dirname "$0")/.."

# A Python with PyYAML parses compose.yaml (Debian's python3-yaml; the project does not need it).
python=""
for candidate in .venv/bin/python python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import yaml" 2>/dev/null; then
    python="$candidate"; break
  fi
done
"${python:-python3}" deploy/check_files.py

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if command -v haproxy >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$work/k" -out "$work/c" >/dev/null 2>&1
  cat "$work/c" "$work/k" > "$work/lb.pem"
  for local in "" 1; do  # as in production, and as make two-nodes runs it
    env ${local:+ESS_LB_LOCAL=1} ESS_LB_BIND=:443 ESS_LB_CERT="$work/lb.pem" \
      ESS_WEB1=10.0.0.11:8000 ESS_WEB2=10.0.0.12:8000 ESS_LB_SOCKET="$work/admin.sock" \
      haproxy -c -q -f deploy/haproxy.cfg
  done
  echo "deploy/haproxy.cfg: haproxy -c passed"
else
  echo "deploy/haproxy.cfg: not checked (no haproxy)"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
  # Off the host the programs are missing; anything else (an unknown key, a bad value) fails.
  complaints="$(systemd-analyze verify deploy/systemd/*.service deploy/systemd/*.timer \
    deploy/systemd/*.target 2>&1 | grep -v 'is not executable: No such file or directory' || true)"
  if [[ -n "$complaints" ]]; then
    echo "$complaints" >&2; exit 1
  fi
  echo "deploy/systemd: systemd-analyze verify passed"
fi

if command -v nginx >/dev/null 2>&1; then
  sed -e "s|/etc/letsencrypt/live/ess-marche.example/fullchain.pem|$work/c|" \
      -e "s|/etc/letsencrypt/live/ess-marche.example/privkey.pem|$work/k|" \
      -e "s|/var/log/nginx/ess.access.log|$work/access.log|" deploy/nginx.conf > "$work/site.conf"
  printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n  access_log off;\n  include %s/site.conf;\n}\n' \
    "$work" "$work" "$work" > "$work/nginx.conf"
  nginx -t -q -c "$work/nginx.conf"
  echo "deploy/nginx.conf: nginx -t passed"
fi

engine=""
for candidate in docker podman; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" info >/dev/null 2>&1; then
    engine="$candidate"; break
  fi
done
if [[ -z "$engine" ]]; then
  echo "image: not built (no container engine answers here; the files were linted)"
  exit 0
fi
"$engine" build -t ess-marche:ci .
uid="$("$engine" run --rm ess-marche:ci id -u)"
[[ "$uid" != "0" ]] || { echo "the image runs as root" >&2; exit 1; }
"$engine" run --rm -e SECRET_KEY="$(openssl rand -hex 32)" -e DATABASE_URL=sqlite:////tmp/db.sqlite3 \
  ess-marche:ci sh -c 'flask db upgrade >/dev/null && python -c "from marketplace import create_app; create_app()"'
echo "image: built with $engine, runs as uid $uid, migrates and starts"
