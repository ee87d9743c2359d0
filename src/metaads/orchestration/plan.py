"""The shape of the Airflow DAG, derived from configuration: task ids, groups, schedule and time zone.

Pure: no Airflow import, so the plan is testable (and reusable by other orchestrators) on its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from metaads.accounts import Account
from metaads.config.accounts import group_accounts
from metaads.config.settings import Settings
from metaads.errors import ConfigError
from metaads.sync import ACTIONS_TARGET, ADS_TARGET
from metaads.sync.entities import target_name as entity_target
from metaads.transform.entities import ENTITY_KINDS
from metaads.warehouse.entities import view_name as entity_view
from metaads.warehouse.schema import ACTIONS_VIEW, ADS_VIEW

DAG_ID = "meta_graph_api_pipeline"
#: 08:00, 14:00 and 20:00, Monday to Saturday (the original design's three daily runs).
SCHEDULE = "0 8,14,20 * * 1-6"
#: The Airflow pool that bounds concurrent Graph API tasks across all workers.
GRAPH_API_POOL = "meta_graph_api"
RETRIES = 2
RETRY_DELAY_MINUTES = 5

START_TASK_ID = "start_run"
SYNC_TASK_ID = "sync_analytics"
FINISH_TASK_ID = "finish_run"

_NOT_ID_CHARS = re.compile(r"[^a-z0-9]+")
# Airflow allows 250 characters in a task id; the group prefix takes part of that.
_MAX_SLUG = 100


@dataclass(frozen=True)
class AccountTask:
    """One account's extraction task: its id inside its group, the name people see, its group."""

    account: Account
    task_id: str
    group_id: str

    @property
    def full_task_id(self) -> str:
        """The id Airflow knows the task by (``<group>.<task>``)."""
        return f"{self.group_id}.{self.task_id}"

    @property
    def display_name(self) -> str:
        return f"{self.account.display_name} ({self.account.act_id})"


@dataclass(frozen=True)
class AccountGroup:
    """Accounts extracted side by side; groups run one after another."""

    group_id: str
    number: int
    tasks: tuple[AccountTask, ...]

    @property
    def display_name(self) -> str:
        names = ", ".join(t.account.display_name for t in self.tasks)
        return f"Accounts group {self.number}: {names}"


@dataclass(frozen=True)
class DagPlan:
    """Everything the DAG file needs to lay out its tasks."""

    groups: tuple[AccountGroup, ...]
    timezone: str

    @property
    def tasks(self) -> list[AccountTask]:
        return [t for g in self.groups for t in g.tasks]

    def task_for(self, account_id: str) -> AccountTask:
        for task in self.tasks:
            if task.account.id == account_id:
                return task
        raise KeyError(account_id)


def task_slug(text: str) -> str:
    """``text`` as a task-id fragment: ASCII lower-case letters, digits and single underscores."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_ID_CHARS.sub("_", ascii_text.lower()).strip("_")[:_MAX_SLUG].strip("_")


def account_task_ids(accounts: Sequence[Account]) -> dict[str, str]:
    """Task id per account id: ``extract_<label>``, else ``extract_<table>`` when the label is unusable.

    A label that slugs to nothing, or to the same id as another account's, falls back to the table
    name, which configuration guarantees unique and id-safe.
    """
    wanted = {a.id: task_slug(a.label) if a.label else "" for a in accounts}
    counts: dict[str, int] = {}
    for slug in wanted.values():
        counts[slug] = counts.get(slug, 0) + 1
    tables = {a.table for a in accounts}
    ids: dict[str, str] = {}
    for account in accounts:
        slug = wanted[account.id]
        # A label slug equal to another account's table would be ambiguous to a person reading ids.
        clash = counts[slug] > 1 or (slug in tables and slug != account.table)
        ids[account.id] = f"extract_{account.table if not slug or clash else slug}"
    return ids


def validate_timezone(name: str) -> str:
    """``name`` when it is an IANA time zone, else :class:`ConfigError` naming ``PIPELINE_TIMEZONE``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name!r} is not an IANA time zone (e.g. 'Europe/Berlin', 'UTC')", variable="PIPELINE_TIMEZONE"
        ) from None
    return name


def plan_from_settings(settings: Settings) -> DagPlan:
    """Lay out accounts in groups of ``ACCOUNT_GROUP_SIZE`` with readable, unique task ids."""
    ids = account_task_ids(settings.accounts)
    groups: list[AccountGroup] = []
    for number, members in enumerate(group_accounts(settings.accounts, settings.account_group_size), 1):
        group_id = f"accounts_group_{number}"
        tasks = tuple(AccountTask(account=a, task_id=ids[a.id], group_id=group_id) for a in members)
        groups.append(AccountGroup(group_id=group_id, number=number, tasks=tasks))
    return DagPlan(groups=tuple(groups), timezone=validate_timezone(settings.pipeline_timezone))


@dataclass(frozen=True)
class Dataset:
    """A table or view the DAG writes, as an Airflow Asset (and an OpenLineage dataset) names it."""

    name: str
    uri: str


# Meta's SQLAlchemy dialects -> the URI schemes Airflow's providers (and OpenLineage) use for assets.
_ASSET_SCHEMES = {"postgresql": "postgres", "mssql": "mssql", "mysql": "mysql"}


def _dataset(role: str, url: str | None, schema: str | None, table: str) -> Dataset:
    # The schema is part of the name: Airflow deactivates an asset whose name another DAG already uses
    # with a different URI, and two deployments (or tests) may write the same view in different schemas.
    name = f"metaads.{role}.{schema or 'main'}.{table}"
    if url:
        parsed = sa.engine.make_url(url)
        scheme = _ASSET_SCHEMES.get(parsed.get_backend_name())
        if scheme and parsed.host:
            port = f":{parsed.port}" if parsed.port else ""
            path = "/".join(p for p in (parsed.database, schema, table) if p)
            return Dataset(name, f"{scheme}://{parsed.host}{port}/{path}")
    # No network location (SQLite, the embedded server, or a URL that only an Airflow Connection gives at
    # run time): a stable metaads URI, so downstream DAGs can still be scheduled on it by name.
    return Dataset(name, f"metaads://{role}/{schema or 'main'}/{table}")


def warehouse_views(settings: Settings) -> list[str]:
    """The warehouse views an extraction task refreshes: the default report's, each extra report's
    (``INSIGHTS_REPORTS``) and, unless ``ENTITY_TABLES`` is off, the entity views."""
    views = [ADS_VIEW, ACTIONS_VIEW]
    views += [name for spec in settings.reports for name in (spec.view, spec.lists_view)]
    if settings.entity_tables:
        views += [entity_view(kind) for kind in ENTITY_KINDS]
    return views


def analytics_tables(settings: Settings) -> list[str]:
    """The analytics tables the sync task writes, in the same order as :func:`warehouse_views`."""
    tables = [ADS_TARGET, ACTIONS_TARGET]
    tables += [name for spec in settings.reports for name in (spec.target, spec.lists_target)]
    if settings.entity_tables:
        tables += [entity_target(kind) for kind in ENTITY_KINDS]
    return tables


def lineage(settings: Settings) -> tuple[tuple[Dataset, ...], tuple[Dataset, ...]]:
    """(warehouse views the extraction tasks refresh, analytics tables the sync writes; empty without one)."""
    warehouse = tuple(
        _dataset("warehouse", settings.warehouse_url, settings.warehouse_schema, view)
        for view in warehouse_views(settings)
    )
    analytics = (
        tuple(
            _dataset("analytics", settings.analytics_url, settings.analytics_schema, table)
            for table in analytics_tables(settings)
        )
        if settings.analytics_url
        else ()
    )
    return warehouse, analytics
