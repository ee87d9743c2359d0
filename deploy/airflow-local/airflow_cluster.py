#!/usr/bin/env python3
"""A real Airflow 3 cluster on one machine: CeleryExecutor, Redis broker, PostgreSQL metadata database.

Components run as separate processes, each in its own process group, exactly as on separate machines:
``airflow api-server`` (UI, public API and the execution API tasks report to), ``airflow scheduler``,
``airflow dag-processor`` and N ``airflow celery worker`` processes. All of them read one configuration,
given as ``AIRFLOW__*`` environment variables (written to ``$AIRFLOW_HOME/cluster.env`` so a shell can
``source`` it and use the ``airflow`` CLI against the cluster).

Subcommands (``python deploy/airflow-local/airflow_cluster.py --help``)::

    up        create the metadata database, migrate it, create the pool, start every component
    down      stop every component (process groups, SIGTERM then SIGKILL); --drop-db drops the database
    trigger   trigger a run of the DAG (optionally wait for it and print task timings)
    status    show which components are alive

The same :class:`LocalCluster` class is what ``tests/airflow/test_cluster.py`` and ``measure_scaleout.py``
drive. It needs ``pip install -e '.[airflow,cluster]'`` (Airflow 3.1+, the Celery provider, redis).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = ROOT / "dags"
DAG_ID = "meta_graph_api_pipeline"
POOL = "meta_graph_api"
HERE = Path(__file__).resolve().parent
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
STATE_FILE = "cluster.json"


class ClusterError(RuntimeError):
    """The cluster could not be brought up, or a run did not finish as expected; the message says why."""


@dataclass
class ClusterConfig:
    """Where the cluster lives and how it is sized. Saved in ``$AIRFLOW_HOME/cluster.json`` by ``up``."""

    home: Path
    metaads_env_file: Path
    workers: int = 2
    worker_concurrency: int = 4
    pool_slots: int = 4
    database: str = "metaads_airflow"
    pg_server: str = PG_SERVER
    broker_url: str = REDIS_URL
    # Each cluster sends its tasks to its own Celery queue: several clusters (or test runs) can share one
    # Redis without taking each other's tasks.
    queue: str = "metaads"
    api_port: int = 0  # 0 = a free port, chosen by ``up``
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    #: Seconds without a task heartbeat before the scheduler fails the task (and retries it): a worker that
    #: dies mid-task is noticed after this long. Airflow's default is 300.
    heartbeat_timeout_s: int = 30
    #: False: the scheduler creates no scheduled runs, only triggered ones (tests and measurements, where
    #: unpausing must not start the latest scheduled slot next to the run under test).
    use_job_schedule: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def metadata_url(self) -> str:
        return f"{self.pg_server}/{self.database}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def save(self) -> None:
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        (self.home / STATE_FILE).write_text(json.dumps(data, indent=2))
        (self.home / STATE_FILE).chmod(0o600)  # holds the JWT secret

    @classmethod
    def load(cls, home: Path) -> ClusterConfig:
        path = home / STATE_FILE
        if not path.exists():
            raise ClusterError(f"{path} not found: no cluster was brought up with this AIRFLOW_HOME")
        data = json.loads(path.read_text())
        data["home"] = Path(data["home"])
        data["metaads_env_file"] = Path(data["metaads_env_file"])
        return cls(**data)


def airflow_environment(cfg: ClusterConfig) -> dict[str, str]:
    """The configuration every component shares, as ``AIRFLOW__SECTION__KEY`` variables."""
    metadata = cfg.metadata_url
    return {
        "AIRFLOW_HOME": str(cfg.home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        # Task processes reach the metadata database only through the API server's execution API; every
        # component must sign and check its JWTs with the same secret.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{cfg.api_url}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": cfg.jwt_secret,
        "AIRFLOW__API__BASE_URL": cfg.api_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(cfg.api_port),
        # A local try-out: everyone who can reach 127.0.0.1 is admin (no generated password to look up).
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        # psycopg 3 speaks asyncio too: no asyncpg needed for Airflow's async engine.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata,
        "AIRFLOW__CELERY__BROKER_URL": cfg.broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(cfg.worker_concurrency),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": cfg.queue,
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(cfg.heartbeat_timeout_s),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__WORKERS__HEARTBEAT_INTERVAL": "2",
        # New DAG files and changed ones show up within seconds instead of minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(cfg.use_job_schedule),
        # A task whose Celery message was taken by a worker that then died is queued again after this.
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cfg.home / "logs"),
        "METAADS_ENV_FILE": str(cfg.metaads_env_file),
        **cfg.extra_env,
    }


# metaads settings a shell may hold: the components take them from METAADS_ENV_FILE only.
METAADS_VARIABLES = frozenset(
    {
        "META_ACCOUNTS",
        "GRAPH_API_TOKENS",
        "GRAPH_API_APP_SECRET",
        "GRAPH_API_BASE_URL",
        "GRAPH_API_VERSION",
        "GRAPH_API_PAGE_SIZE",
        "LOOKBACK_DAYS",
        "ACCOUNT_GROUP_SIZE",
        "WAREHOUSE_URL",
        "WAREHOUSE_SCHEMA",
        "ANALYTICS_URL",
        "ANALYTICS_SCHEMA",
        "PIPELINE_TIMEZONE",
        "BACKFILL_CHUNK_DAYS",
        "METAADS_RETRY_DELAY_S",
    }
)


def process_environment(cfg: ClusterConfig) -> dict[str, str]:
    """The environment of a component: the shell's (PATH, HOME, ...) minus any other Airflow or metaads
    configuration, plus the cluster's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k not in METAADS_VARIABLES}
    # The venv's bin/ first: Airflow starts `airflow ...` subprocesses by name.
    # (absolute: the components run in AIRFLOW_HOME; not resolved: a venv's python is a symlink)
    env["PATH"] = f"{Path(os.path.abspath(sys.executable)).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(airflow_environment(cfg))
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_reachable(url: str = REDIS_URL) -> str | None:
    """None when Redis answers PING at ``url``, else why not."""
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=3) as client:
            client.ping()
        return None
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"


class LocalCluster:
    """Start, inspect and stop the cluster's processes. Process ids are kept in ``$AIRFLOW_HOME/pids``."""

    def __init__(self, cfg: ClusterConfig) -> None:
        self.cfg = cfg
        self.env = process_environment(cfg)
        self.pid_dir = cfg.home / "pids"
        self.log_dir = cfg.home / "component-logs"
        # Processes this object started, kept so they are reaped when stopped (``down`` from another
        # process finds them by the pids recorded in ``pid_dir``).
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    # ------------------------------------------------------------------ lifecycle

    def up(self, *, timeout_s: float = 180.0) -> None:
        """Database, migration, pool, then every component; returns once workers and the DAG are ready."""
        cfg = self.cfg
        cfg.home.mkdir(parents=True, exist_ok=True)
        self.pid_dir.mkdir(exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        if cfg.api_port == 0:
            cfg.api_port = free_port()
            self.env = process_environment(cfg)
        problem = redis_reachable(cfg.broker_url)
        if problem:
            raise ClusterError(
                f"Redis (the Celery broker) is not reachable at {cfg.broker_url}: {problem}. "
                "Install and start it: apt-get install redis-server && redis-server --daemonize yes"
            )
        cfg.save()
        self.write_shell_env()
        self.create_database()
        self.airflow("db", "migrate", timeout=600)
        self.airflow("pools", "set", POOL, str(cfg.pool_slots), "Meta Graph API extraction tasks")
        self.start("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(cfg.api_port), "--workers", "1"])
        self.start("scheduler", ["scheduler"])
        self.start("dag-processor", ["dag-processor"])
        for index in range(1, cfg.workers + 1):
            self.start_worker(index)
        deadline = time.monotonic() + timeout_s
        self.wait_for_api(deadline)
        self.wait_for_dag(deadline)
        for index in range(1, cfg.workers + 1):
            self.wait_for_worker(index, deadline)

    def down(self, *, drop_database: bool = False) -> None:
        """Stop every component this cluster started (by the process ids it recorded)."""
        for name in sorted(self.recorded()):
            self.stop(name)
        if drop_database:
            self.drop_database()

    def start(self, name: str, args: Sequence[str], extra_env: Mapping[str, str] | None = None) -> int:
        """Start ``airflow <args>`` as component ``name``, in a new process group; returns its pid."""
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(  # noqa: S603 - our own airflow binary, arguments from this module
            [self.airflow_bin(), *args],
            env={**self.env, **(extra_env or {})},
            cwd=self.cfg.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self._procs[proc.pid] = proc
        (self.pid_dir / f"{name}.pid").write_text(str(proc.pid))
        return proc.pid

    def start_worker(self, index: int) -> int:
        """Start Celery worker ``index`` on this cluster's queue.

        Each worker reports its own host name (``worker<index>``) as separate machines would, so task
        instances say which worker ran them. Workers do not serve logs over HTTP: they share this
        machine's log folder, and two log servers would fight over one port.
        """
        name = f"worker{index}"
        return self.start(
            name,
            [
                "celery",
                "worker",
                "--queues",
                self.cfg.queue,
                "--concurrency",
                str(self.cfg.worker_concurrency),
                "--celery-hostname",
                f"{name}@{socket.gethostname()}",
                "--skip-serve-logs",
            ],
            extra_env={
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_cluster_hostname.hostname",
                "METAADS_CLUSTER_WORKER": name,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
            },
        )

    def stop(self, name: str, *, sig: int = signal.SIGTERM, grace_s: float = 20.0) -> None:
        """Signal component ``name``'s process group; SIGKILL whatever is left after ``grace_s``."""
        pid_file = self.pid_dir / f"{name}.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text())
        _signal_group(pid, sig)
        deadline = time.monotonic() + grace_s
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        _signal_group(pid, signal.SIGKILL)
        proc = self._procs.pop(pid, None)
        if proc is not None:
            proc.wait(timeout=10)
        else:
            _reap(pid)
        pid_file.unlink(missing_ok=True)

    def kill(self, name: str) -> None:
        """``kill -9`` every process of component ``name`` at once, as when its machine dies."""
        self.stop(name, sig=signal.SIGKILL, grace_s=5.0)

    def recorded(self) -> dict[str, int]:
        """Component name -> pid, for every component started and not stopped."""
        if not self.pid_dir.exists():
            return {}
        return {p.stem: int(p.read_text()) for p in self.pid_dir.glob("*.pid")}

    def alive(self) -> dict[str, bool]:
        return {name: _group_alive(pid) for name, pid in self.recorded().items()}

    # ------------------------------------------------------------------ readiness

    def wait_for_api(self, deadline: float) -> None:
        url = f"{self.cfg.api_url}/api/v2/monitor/health"
        while True:
            self._check_alive("api-server")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own local server
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            self._wait(deadline, "the API server to answer on " + url)

    def wait_for_dag(self, deadline: float) -> None:
        """Until the DAG processor has serialized the DAG (or reported its import error)."""
        engine = self.metadata_engine()
        try:
            while True:
                self._check_alive("dag-processor")
                with engine.connect() as conn:
                    found = conn.execute(
                        sa.text("SELECT 1 FROM serialized_dag WHERE dag_id = :d"), {"d": DAG_ID}
                    ).first()
                    errors = conn.execute(sa.text("SELECT filename, stacktrace FROM import_error")).all()
                if errors:
                    raise ClusterError(f"the DAG file failed to import: {errors[0].stacktrace[-2000:]}")
                if found:
                    return
                self._wait(deadline, f"the DAG processor to parse {DAG_ID}")
        finally:
            engine.dispose()

    def wait_for_worker(self, index: int, deadline: float) -> None:
        """Until worker ``index`` logs that Celery is ready to take tasks."""
        name = f"worker{index}"
        log = self.log_dir / f"{name}.log"
        while True:
            self._check_alive(name)
            if log.exists() and " ready." in log.read_text(errors="replace"):
                return
            self._wait(deadline, f"{name} to be ready")

    def _check_alive(self, name: str) -> None:
        pid = self.recorded().get(name)
        if pid is None or not _group_alive(pid):
            tail = self.log_tail(name)
            raise ClusterError(f"airflow {name} exited; last lines of its log:\n{tail}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    @staticmethod
    def _wait(deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out waiting for {what}")
        time.sleep(1.0)

    # ------------------------------------------------------------------ runs

    def unpause(self) -> None:
        self.airflow("dags", "unpause", DAG_ID)

    def trigger(self, run_id: str | None = None) -> str:
        """Trigger a run of the DAG now; returns its run id."""
        run_id = run_id or f"manual__{datetime.now().astimezone().strftime('%Y%m%dT%H%M%S%f')}"
        self.airflow("dags", "trigger", DAG_ID, "--run-id", run_id)
        return run_id

    def wait_for_run(self, run_id: str, timeout_s: float = 600.0) -> str:
        """Until the DAG run ends; returns its state (``success`` or ``failed``)."""
        deadline = time.monotonic() + timeout_s
        engine = self.metadata_engine()
        try:
            while True:
                with engine.connect() as conn:
                    state = conn.execute(
                        sa.text("SELECT state FROM dag_run WHERE dag_id = :d AND run_id = :r"),
                        {"d": DAG_ID, "r": run_id},
                    ).scalar()
                if state in ("success", "failed"):
                    return str(state)
                for name in ("scheduler", "api-server"):
                    self._check_alive(name)
                self._wait(deadline, f"DAG run {run_id} to finish (state {state})")
        finally:
            engine.dispose()

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        """The run's task instances (latest try each) with state, try number, host, pid and times."""
        engine = self.metadata_engine()
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT task_id, state, try_number, hostname, pid, start_date, end_date, pool "
                        "FROM task_instance WHERE dag_id = :d AND run_id = :r ORDER BY task_id"
                    ),
                    {"d": DAG_ID, "r": run_id},
                ).all()
            return [dict(r._mapping) for r in rows]
        finally:
            engine.dispose()

    def task_tries(self, run_id: str) -> list[dict[str, Any]]:
        """Every try of every task of the run: earlier tries from ``task_instance_history``, then the latest."""
        engine = self.metadata_engine()
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT task_id, state, try_number, hostname, pid, start_date, end_date "
                        "FROM task_instance_history WHERE dag_id = :d AND run_id = :r"
                    ),
                    {"d": DAG_ID, "r": run_id},
                ).all()
            earlier = [dict(r._mapping) for r in rows]
        finally:
            engine.dispose()
        return earlier + self.task_instances(run_id)

    def task_returns(self, run_id: str) -> dict[str, Any]:
        """Task id -> the value the task returned (its ``return_value`` XCom), for the run's tasks that did."""
        engine = self.metadata_engine()
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT task_id, value FROM xcom WHERE dag_id = :d AND run_id = :r AND key = 'return_value'"
                    ),
                    {"d": DAG_ID, "r": run_id},
                ).all()
            return {r.task_id: _json_value(r.value) for r in rows}
        finally:
            engine.dispose()

    def run_duration_s(self, run_id: str) -> float:
        """Wall time of a finished DAG run, from the metadata database."""
        engine = self.metadata_engine()
        try:
            with engine.connect() as conn:
                start, end = conn.execute(
                    sa.text("SELECT start_date, end_date FROM dag_run WHERE dag_id = :d AND run_id = :r"),
                    {"d": DAG_ID, "r": run_id},
                ).one()
            return float((end - start).total_seconds())
        finally:
            engine.dispose()

    # ------------------------------------------------------------------ databases and the CLI

    def metadata_engine(self) -> sa.Engine:
        return sa.create_engine(self.cfg.metadata_url, poolclass=sa.pool.NullPool)

    def create_database(self) -> None:
        server = sa.create_engine(
            f"{self.cfg.pg_server}/postgres", isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        try:
            with server.connect() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": self.cfg.database}
                ).first()
                if not exists:
                    conn.execute(sa.text(f'CREATE DATABASE "{_identifier(self.cfg.database)}"'))
        except sa.exc.OperationalError as exc:
            raise ClusterError(f"PostgreSQL is not reachable at {self.cfg.pg_server}: {exc}") from exc
        finally:
            server.dispose()

    def drop_database(self) -> None:
        server = sa.create_engine(
            f"{self.cfg.pg_server}/postgres", isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        try:
            with server.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{_identifier(self.cfg.database)}" WITH (FORCE)'))
        finally:
            server.dispose()

    def airflow_bin(self) -> str:
        found = shutil.which("airflow", path=self.env["PATH"])
        if found is None:
            raise ClusterError("the `airflow` command is not installed: pip install -e '.[airflow,cluster]'")
        return found

    def airflow(self, *args: str, timeout: float = 180) -> str:
        """Run an ``airflow`` CLI command against the cluster; returns its output."""
        done = subprocess.run(  # noqa: S603 - our own airflow binary, arguments from this module
            [self.airflow_bin(), *args],
            env=self.env,
            cwd=self.cfg.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(
                f"airflow {' '.join(args[:2])} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
            )
        return done.stdout

    def write_shell_env(self) -> None:
        """``$AIRFLOW_HOME/cluster.env``: ``source`` it to use the ``airflow`` CLI against this cluster."""
        lines = [f"export {k}={_shell_quote(v)}" for k, v in airflow_environment(self.cfg).items()]
        path = self.cfg.home / "cluster.env"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)


def _json_value(value: Any) -> Any:
    """An XCom as stored: the driver decodes JSONB; a value stored as JSON text is decoded here."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        return json.loads(value)
    return value


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name[0].isalpha():
        raise ClusterError(f"{name!r} is not a plain database name (letters, digits, _)")
    return name


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.killpg(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child (else it would stay a zombie)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


# ---------------------------------------------------------------------- command line


def _default_home() -> Path:
    return Path(os.environ.get("METAADS_CLUSTER_HOME", ROOT / ".airflow-cluster"))


def _start_simulator(home: Path, args: argparse.Namespace) -> Path:
    """Start ``metaads simulator serve`` in the background; write the pipeline's .env from its output."""
    port = args.simulator_port or free_port()
    log = (home / "component-logs" / "simulator.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "metaads",
            "simulator",
            "serve",
            "--port",
            str(port),
            "--accounts",
            str(args.accounts),
            "--ads-per-account",
            str(args.ads_per_account),
            "--tier",
            args.tier,
            "--quota-scale",
            str(args.quota_scale),
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )
    log.close()
    (home / "pids" / "simulator.pid").write_text(str(proc.pid))
    assert proc.stdout is not None
    lines: list[str] = []
    while True:
        line = proc.stdout.readline()
        if not line:
            raise ClusterError("the simulator exited; see component-logs/simulator.log")
        if line.startswith("#"):
            if lines:
                break
            continue
        lines.append(line.strip())
        if line.startswith("GRAPH_API_TOKENS="):
            break
    env_file = home / "metaads.env"
    env_file.write_text(
        "\n".join(
            [
                *lines,
                f"WAREHOUSE_URL={args.warehouse_url}",
                f"WAREHOUSE_SCHEMA={args.warehouse_schema}",
                f"LOOKBACK_DAYS={args.lookback_days}",
                f"ACCOUNT_GROUP_SIZE={args.group_size}",
            ]
        )
        + "\n"
    )
    env_file.chmod(0o600)  # holds tokens
    return env_file


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=_default_home(),
        help="AIRFLOW_HOME of the cluster (default: $METAADS_CLUSTER_HOME or ./.airflow-cluster)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create the metadata database and start every component")
    up.add_argument(
        "--env-file",
        type=Path,
        help="the pipeline's .env (METAADS_ENV_FILE); default: start the simulator and write $AIRFLOW_HOME/metaads.env",
    )
    up.add_argument("--workers", type=int, default=2)
    up.add_argument("--concurrency", type=int, default=4, help="task slots per worker")
    up.add_argument("--pool-slots", type=int, default=4, help="slots of the meta_graph_api pool")
    up.add_argument("--database", default="metaads_airflow", help="metadata database on 127.0.0.1:5432")
    up.add_argument("--queue", default="metaads", help="Celery queue of this cluster")
    up.add_argument("--api-port", type=int, default=8080)
    sim = up.add_argument_group("simulator (when --env-file is not given)")
    sim.add_argument("--accounts", type=int, default=20)
    sim.add_argument("--ads-per-account", type=int, default=10)
    sim.add_argument("--tier", default="development", choices=["development", "standard"])
    sim.add_argument("--quota-scale", type=float, default=1.0)
    sim.add_argument("--simulator-port", type=int, default=0)
    sim.add_argument("--warehouse-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    sim.add_argument("--warehouse-schema", default="metaads_cluster")
    sim.add_argument("--lookback-days", type=int, default=7)
    sim.add_argument("--group-size", type=int, default=10)
    up.add_argument("--retry-delay-s", type=float, default=10, help="wait between a task's tries")
    down = sub.add_parser("down", help="stop every component")
    down.add_argument("--drop-db", action="store_true", help="also drop the metadata database")
    trigger = sub.add_parser("trigger", help="trigger a DAG run")
    trigger.add_argument("--wait", action="store_true", help="wait for it to finish and print its tasks")
    sub.add_parser("status", help="which components are alive")
    args = parser.parse_args(argv)
    home: Path = args.home.resolve()

    try:
        if args.command == "up":
            home.mkdir(parents=True, exist_ok=True)
            (home / "pids").mkdir(exist_ok=True)
            (home / "component-logs").mkdir(exist_ok=True)
            env_file = args.env_file.resolve() if args.env_file else _start_simulator(home, args)
            cfg = ClusterConfig(
                home=home,
                metaads_env_file=env_file,
                workers=args.workers,
                worker_concurrency=args.concurrency,
                pool_slots=args.pool_slots,
                database=args.database,
                queue=args.queue,
                api_port=args.api_port,
                # Read from the DAG processor's environment when it parses the DAG.
                extra_env={"METAADS_RETRY_DELAY_S": str(args.retry_delay_s)},
            )
            cluster = LocalCluster(cfg)
            try:
                cluster.up()
                cluster.unpause()
            except BaseException:
                cluster.down()
                raise
            print(f"cluster up: UI {cfg.api_url}, AIRFLOW_HOME {home}")
            print(f"  source {home / 'cluster.env'}   # to use the airflow CLI against it")
            print(f"  python {Path(__file__).relative_to(ROOT)} --home {home} trigger --wait")
            return 0
        cluster = LocalCluster(ClusterConfig.load(home))
        if args.command == "down":
            cluster.down(drop_database=args.drop_db)
            print("cluster stopped" + (" and metadata database dropped" if args.drop_db else ""))
        elif args.command == "status":
            for name, alive in sorted(cluster.alive().items()):
                print(f"{name:15} {'running' if alive else 'stopped'}")
        elif args.command == "trigger":
            run_id = cluster.trigger()
            print(f"triggered {run_id}")
            if args.wait:
                state = cluster.wait_for_run(run_id)
                for ti in cluster.task_instances(run_id):
                    took = (ti["end_date"] - ti["start_date"]).total_seconds() if ti["end_date"] else None
                    print(
                        f"  {ti['task_id']:45} {ti['state']:8} try {ti['try_number']} on {ti['hostname']}"
                        f" {took if took is None else round(took, 1)} s"
                    )
                print(f"run {run_id}: {state} in {cluster.run_duration_s(run_id):.1f} s")
                return 0 if state == "success" else 1
        return 0
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
