"""Two web nodes behind HAProxy on this machine, sharing one PostgreSQL database and one Redis
database: what docs/deploy.md calls "scaling out", small enough to try and to test.

    make two-nodes          # or: .venv/bin/python deploy/two_nodes.py --help

Each node is the README's gunicorn command (`gunicorn -w N -b 127.0.0.1:PORT
'marketplace:create_app()'`, production settings, the same SECRET_KEY) with an instance folder
of its own; the balancer is Debian's haproxy running deploy/haproxy.cfg, TLS ending there with
a self-signed certificate made for the occasion. tests/scaleout/test_two_nodes.py drives a
shopper through it and stops a node half-way (the `Cluster` class below).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
NODE_NAMES = ("web1", "web2")


class ClusterError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing_tools() -> list[str]:
    """What this machine lacks to run the balancer (Debian: apt-get install haproxy openssl)."""
    return [tool for tool in ("haproxy", "openssl") if shutil.which(tool) is None]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (the PEM haproxy serves, with its
    key; the certificate alone, for clients to trust)."""
    key, cert, pem = folder / "lb.key", folder / "lb.crt", folder / "lb.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",  # noqa: S607
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    pem.chmod(0o600)
    return pem, cert


@dataclass
class Node:
    name: str
    port: int
    log: Path
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """Two gunicorn nodes and haproxy; `with Cluster(...) as cluster:` stops them all, whatever
    happens (each runs in a process group of its own, killed as a whole)."""

    database_url: str
    redis_url: str
    workdir: Path
    workers: int = 2
    python: str = sys.executable
    lb_port: int = 0
    http_port: int = 0
    stats_port: int = 0
    node_ports: tuple[int, ...] = ()
    extra_env: dict = field(default_factory=dict)

    def __post_init__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.lb_port = self.lb_port or free_port()
        self.http_port = self.http_port or free_port()
        self.stats_port = self.stats_port or free_port()
        ports = self.node_ports or tuple(free_port() for _ in NODE_NAMES)
        self.nodes = {name: Node(name, port, self.workdir / f"{name}.log")
                      for name, port in zip(NODE_NAMES, ports, strict=True)}
        self.secret_key = secrets.token_urlsafe(48)  # the same on every node
        self.balancer: subprocess.Popen | None = None
        self.balancer_log = self.workdir / "haproxy.log"
        self.pem, self.certificate = None, None
        self.crashed: set[str] = set()

    # --- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.lb_port}"

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.stats_port}/"

    # --- the app's environment, as docs/deploy.md sets it ----------------------------------

    def app_env(self, instance: Path) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in {"SERVER_BASE_URL", "MARKETPLACE_CONFIG", "FLASK_DEBUG",
                            "PROMETHEUS_MULTIPROC_DIR", "CELERY_BROKER_URL"}}
        env.update({
            "MARKETPLACE_CONFIG": "production",
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SERVER_BASE_URL": self.base_url,
            "PROXY_COUNT": "1",
            "INSTANCE_PATH": str(instance),
            # Mails are queued in Redis for a Celery worker; a worker started next to this
            # cluster writes them to its outbox instead of an SMTP server.
            "MAIL_BACKEND": "marketplace.notifications.outbox.EmailBackend",
            "FLASK_APP": "marketplace:create_app",
            "PYTHONUNBUFFERED": "1",
            # One JSON line per request with its X-Request-ID: which node answered what.
            "LOG_REQUESTS": "1",
            **self.extra_env,
        })
        return env

    def flask(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """A `flask` command on the cluster's database (e.g. "db", "upgrade")."""
        instance = self.workdir / "cli"
        instance.mkdir(exist_ok=True)
        done = subprocess.run(  # noqa: S603 - our own command
            [self.python, "-m", "flask", *args], cwd=ROOT, env=self.app_env(instance),
            capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise ClusterError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    # --- processes ---------------------------------------------------------------------------

    def start_nodes(self) -> None:
        for node in self.nodes.values():
            instance = self.workdir / f"{node.name}-instance"
            instance.mkdir(exist_ok=True)
            with node.log.open("ab") as out:
                node.process = subprocess.Popen(  # noqa: S603 - the README's command
                    [self.python, "-m", "gunicorn", "-w", str(self.workers),
                     "-b", node.address, "marketplace:create_app()"],
                    cwd=ROOT, env=self.app_env(instance), stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True)

    def balancer_env(self) -> dict:
        return {**os.environ,
                "ESS_LB_LOCAL": "1",
                "ESS_LB_BIND": f"127.0.0.1:{self.lb_port}",
                "ESS_LB_HTTP_BIND": f"127.0.0.1:{self.http_port}",
                "ESS_LB_CERT": str(self.pem),
                "ESS_LB_STATS": f"127.0.0.1:{self.stats_port}",
                "ESS_LB_SOCKET": str(self.workdir / "haproxy.sock"),
                "ESS_WEB_MAXCONN": str(self.workers),
                "ESS_WEB1": self.nodes["web1"].address,
                "ESS_WEB2": self.nodes["web2"].address}

    def start_balancer(self) -> None:
        if self.pem is None:
            self.pem, self.certificate = make_certificate(self.workdir)
        with self.balancer_log.open("ab") as out:
            self.balancer = subprocess.Popen(  # noqa: S603 - haproxy in the foreground
                ["haproxy", "-db", "-f", str(HAPROXY_CFG)],  # noqa: S607
                env=self.balancer_env(), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

    def check_alive(self) -> None:
        for node in self.nodes.values():
            if (node.name not in self.crashed and node.process is not None
                    and node.process.poll() is not None):
                raise ClusterError(f"{node.name} stopped:\n{node.log_text()[-4000:]}")
        if self.balancer is not None and self.balancer.poll() is not None:
            raise ClusterError("haproxy stopped:\n"
                               + self.balancer_log.read_text(errors="replace")[-4000:])

    def stats(self) -> dict[str, dict]:
        """haproxy's statistics of the web backend, per server (and "BACKEND")."""
        with urllib.request.urlopen(self.stats_url + ";csv", timeout=5) as answer:  # noqa: S310
            text = answer.read().decode()
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {row["svname"]: row for row in rows if row["pxname"] == "web"}

    def wait_until(self, up: set[str], seconds: float = 90) -> dict[str, dict]:
        """Until haproxy sees exactly the nodes `up` UP (its /readyz checks), the others not."""
        deadline = time.monotonic() + seconds
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(OSError):
                stats = self.stats()
                states = {name: stats[name]["status"] for name in NODE_NAMES}
                if {name for name, state in states.items() if state == "UP"} == up:
                    return stats
            time.sleep(0.2)
        raise ClusterError(f"after {seconds} s haproxy says {states}, wanted {sorted(up)} UP;\n"
                           + "\n".join(f"--- {n.name}:\n{n.log_text()[-3000:]}"
                                       for n in self.nodes.values()))

    def crash_node(self, name: str) -> tuple[float, float]:
        """The node dies at once, as a host or a container does: SIGKILL to its gunicorn master
        and its workers together (killing the master alone leaves its sync workers serving
        until they are idle). Returns when (time.monotonic) the kill was sent and when the
        node was gone: its processes ended, its port refusing connections."""
        node = self.nodes[name]
        self.crashed.add(name)
        killed = time.monotonic()
        os.killpg(node.process.pid, signal.SIGKILL)
        node.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", node.port), timeout=1).close()
            except OSError:
                break
            time.sleep(0.01)
        return killed, time.monotonic()

    def stop(self) -> None:
        for process in [*(n.process for n in self.nodes.values()), self.balancer]:
            if process is None or process.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*(n.process for n in self.nodes.values()), self.balancer]:
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- make two-nodes ----------------------------------------------------------------------------


def _ensure_database(url: str) -> None:
    import sqlalchemy as sa

    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": target.database})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
            print(f"Created the database {target.database}.")
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "TWO_NODES_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ess_two_nodes"),
        help="PostgreSQL database shared by the nodes (created if missing, kept afterwards)")
    parser.add_argument("--redis-url", default=os.environ.get(
        "TWO_NODES_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="Redis database of their own (rate limits, the job queue)")
    parser.add_argument("--port", type=int, default=8443, help="the balancer's https port")
    parser.add_argument("--http-port", type=int, default=8080, help="redirected to https")
    parser.add_argument("--stats-port", type=int, default=8404, help="haproxy's statistics")
    parser.add_argument("--node-ports", type=int, nargs=2, default=(8101, 8102))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    args = parser.parse_args(argv)
    if missing_tools():
        print(f"Missing: {', '.join(missing_tools())} (sudo apt-get install haproxy openssl).",
              file=sys.stderr)
        return 2
    _ensure_database(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="ess-two-nodes-"))
    cluster = Cluster(args.database_url, args.redis_url, workdir, workers=args.workers,
                      lb_port=args.port, http_port=args.http_port, stats_port=args.stats_port,
                      node_ports=tuple(args.node_ports))
    with cluster:
        print("flask db upgrade ...")
        cluster.flask("db", "upgrade")
        print("flask seed-demo --if-empty ...")
        cluster.flask("seed-demo", "--if-empty")
        cluster.start_nodes()
        cluster.start_balancer()
        cluster.wait_until(set(NODE_NAMES))
        print(f"""
ESS Marché on two nodes behind HAProxy (production settings, demo payments):
  site          {cluster.base_url}/   (self-signed: curl --cacert {cluster.certificate})
  haproxy stats {cluster.stats_url}
  nodes         {', '.join(f'{n.name} http://{n.address} (log {n.log})' for n in cluster.nodes.values())}
  balancer log  {cluster.balancer_log}
Every answer says which node made it (X-Served-By). Stop a node to see the other take over:
  kill -9 -{cluster.nodes['web2'].process.pid}     (web2's gunicorn, master and workers)
Ctrl-C stops everything; the database {args.database_url.rsplit('/', 1)[-1]} is kept.""",
              flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
                if cluster.balancer.poll() is not None:
                    print("haproxy stopped", file=sys.stderr)
                    return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
