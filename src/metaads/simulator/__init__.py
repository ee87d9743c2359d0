"""A faithful, deterministic simulator of Meta's Marketing (Graph) API, for tests, demos and benchmarks.

``sim = Simulator(SimulatorConfig(seed=1, ...), clock=FakeClock())`` builds a synthetic world (businesses,
ad accounts in several currencies and time zones, campaigns / ad sets / ads of every status, daily
insights generated lazily per ad-day) and serves it with the real protocol (``graph-api-spec.md``):

- ``sim.transport()``: an in-process ``httpx`` transport; ``with sim.serve() as server: server.base_url``
  a real threaded HTTP/1.1 server. Both route into one handler (:mod:`metaads.simulator.app`).
- ``sim.account_ids``, ``sim.tokens`` (round-robin over >= 2 apps), ``sim.meta_accounts_env()``,
  ``sim.add_token(...)``, ``sim.invalidate_token(...)``, ``sim.account_timezone/currency/today(...)``.
- ``sim.faults`` (:class:`Faults`, mutable at any time: transient errors, latency, empty pages, and data
  faults for reconciliation: ``missing_rows_rate``, ``empty_answer_accounts``, ``empty_answer_rate``,
  ``account_created_days_ago``), ``sim.stats`` (:class:`SimulatorStats`),
  ``sim.ground_truth(...)``: exactly the rows the insights endpoint would return now.
- Meta's lists of fields and enums (from the SDK) are in :mod:`metaads.simulator.catalog`.
- Time is ``sim.clock``'s only: rate-limit windows, async jobs, restatement, scheduled edits and status
  changes (:mod:`metaads.simulator.lifecycle`: a few live objects paused, archived or deleted after the
  world's start, seen by every endpoint as of the clock) follow it.
- ``filtering`` (object edges and insights, ``updated_time`` included) is :mod:`metaads.simulator.filtering`.
"""

from metaads.simulator.config import Faults, SimulatorConfig
from metaads.simulator.errors import GraphError
from metaads.simulator.insights import ALL_STATUSES
from metaads.simulator.protocol import Response
from metaads.simulator.server import SimulatorServer
from metaads.simulator.simulator import Simulator
from metaads.simulator.stats import SimulatorStats

__all__ = [
    "ALL_STATUSES",
    "Faults",
    "GraphError",
    "Response",
    "Simulator",
    "SimulatorConfig",
    "SimulatorServer",
    "SimulatorStats",
]
