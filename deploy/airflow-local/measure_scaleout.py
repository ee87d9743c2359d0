#!/usr/bin/env python3
"""Scale-out of the DAG on the local Celery cluster: the same run on 1 worker, then on 2 workers.

Issue 12's goal: with quotas not the bound, 2 workers finish the same work in at most 0.6x the time of one.
The simulator runs in this process (standard tier: quotas far away) on the real clock, with a fixed latency
per call so an extraction waits on the API the way it does against Meta; each worker has ``concurrency``
task slots and the pool has enough slots for both workers, so the only thing that changes between the two
runs is the number of workers.

    python deploy/airflow-local/measure_scaleout.py [--accounts 20] [--latency-ms 1000]

Other code can call :func:`measure_scaleout` (put this folder on ``sys.path`` first); it returns the two
wall times (DAG run start to end, from Airflow's metadata database, after a warm-up run that creates the
warehouse tables) and their ratio, for the whole run and for its extraction phase.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from airflow_cluster import PG_SERVER, ClusterConfig, LocalCluster  # noqa: E402

from metaads.clock import SystemClock  # noqa: E402
from metaads.simulator import Faults, Simulator, SimulatorConfig  # noqa: E402


@dataclass(frozen=True)
class RunTimes:
    """Wall times of one DAG run: the whole run, and its extraction phase (first extraction's start to
    the last one's end; start_run, sync_analytics and finish_run are one task each whatever the workers)."""

    run_s: float
    extraction_s: float


@dataclass(frozen=True)
class ScaleoutResult:
    accounts: int
    one_worker: RunTimes
    two_workers: RunTimes

    @property
    def ratio(self) -> float:
        """Two workers' wall time over one worker's, whole DAG run (the goal: at most 0.6)."""
        return self.two_workers.run_s / self.one_worker.run_s

    @property
    def extraction_ratio(self) -> float:
        return self.two_workers.extraction_s / self.one_worker.extraction_s

    def summary(self) -> str:
        one, two = self.one_worker, self.two_workers
        return (
            f"{self.accounts} accounts, DAG run: 1 worker {one.run_s:.1f} s, 2 workers {two.run_s:.1f} s, "
            f"ratio {self.ratio:.2f} (goal <= 0.60)\n"
            f"extraction phase: 1 worker {one.extraction_s:.1f} s, 2 workers {two.extraction_s:.1f} s, "
            f"ratio {self.extraction_ratio:.2f}"
        )


def measure_scaleout(
    *,
    accounts: int = 20,
    ads_per_account: int = 10,
    lookback_days: int = 3,
    latency_ms: float = 1000.0,
    concurrency: int = 2,
    pg_server: str = PG_SERVER,
    warehouse_db: str = "test",
    timeout_s: float = 900.0,
) -> ScaleoutResult:
    """Bring a 2-worker cluster up, run the DAG on worker 1 alone, then on both; tear everything down."""
    suffix = uuid.uuid4().hex[:8]
    schema = f"scaleout_{suffix}"
    warehouse_url = f"{pg_server}/{warehouse_db}"
    engine = sa.create_engine(warehouse_url, poolclass=sa.pool.NullPool)
    sim = Simulator(
        SimulatorConfig(
            seed=21, n_accounts=accounts, ads_per_account=ads_per_account, faults=Faults(latency_s=latency_ms / 1000.0)
        ),
        clock=SystemClock(),
    )
    with tempfile.TemporaryDirectory(prefix="metaads-scaleout-") as tmp, sim.serve(port=0) as server:
        home = Path(tmp)
        env_file = home / "metaads.env"
        env_file.write_text(
            "\n".join(
                [
                    f"META_ACCOUNTS={sim.meta_accounts_env()}",
                    f"GRAPH_API_TOKENS={','.join(sim.tokens)}",
                    f"GRAPH_API_BASE_URL={server.base_url}",
                    f"WAREHOUSE_URL={warehouse_url}",
                    f"WAREHOUSE_SCHEMA={schema}",
                    f"LOOKBACK_DAYS={lookback_days}",
                    f"ACCOUNT_GROUP_SIZE={accounts}",
                ]
            )
            + "\n"
        )
        cfg = ClusterConfig(
            home=home,
            metaads_env_file=env_file,
            workers=2,
            worker_concurrency=concurrency,
            pool_slots=2 * concurrency,
            database=f"scaleout_airflow_{suffix}",
            pg_server=pg_server,
            queue=f"scaleout_{suffix}",
            use_job_schedule=False,
        )
        cluster = LocalCluster(cfg)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            cluster.up()
            cluster.unpause()
            # The first run creates the warehouse tables: not part of either measured run.
            _timed_run(cluster, sim, "warm_up", timeout_s)
            cluster.stop("worker2")
            one = _timed_run(cluster, sim, "one_worker", timeout_s)
            cluster.start_worker(2)
            cluster.wait_for_worker(2, time.monotonic() + 180)
            two = _timed_run(cluster, sim, "two_workers", timeout_s)
        finally:
            cluster.down(drop_database=True)
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    return ScaleoutResult(accounts=accounts, one_worker=one, two_workers=two)


def _timed_run(cluster: LocalCluster, sim: Simulator, run_id: str, timeout_s: float) -> RunTimes:
    throttled = sim.stats.throttled
    cluster.trigger(run_id)
    state = cluster.wait_for_run(run_id, timeout_s)
    if state != "success":
        raise RuntimeError(f"DAG run {run_id} ended {state}: {cluster.task_instances(run_id)}")
    if sim.stats.throttled > throttled:
        raise RuntimeError(
            f"quotas were hit ({sim.stats.throttled - throttled} throttling errors): not a scale-out measure"
        )
    extractions = [t for t in cluster.task_instances(run_id) if ".extract_" in t["task_id"]]
    first = min(t["start_date"] for t in extractions)
    last = max(t["end_date"] for t in extractions)
    return RunTimes(run_s=cluster.run_duration_s(run_id), extraction_s=(last - first).total_seconds())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--ads-per-account", type=int, default=10)
    parser.add_argument("--lookback-days", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=1000.0, help="simulated API latency per call")
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per worker")
    args = parser.parse_args()
    result = measure_scaleout(
        accounts=args.accounts,
        ads_per_account=args.ads_per_account,
        lookback_days=args.lookback_days,
        latency_ms=args.latency_ms,
        concurrency=args.concurrency,
    )
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
