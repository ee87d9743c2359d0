"""Reconciliation at load time against the simulator over real HTTP, into PostgreSQL and SQLite.

Each hole of issue 10 is reproduced first: with ``RECONCILE=off`` (the old behaviour) a short or empty
answer replaces good rows and the account is reported ``loaded``; strict and warn close it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from metaads.accounts import Account
from metaads.clock import FakeClock
from metaads.dates import DateRange
from metaads.pipeline import Pipeline
from metaads.pipeline.results import NullListener
from metaads.simulator import Simulator, SimulatorConfig
from tests.integration.conftest import World, truth_ads, warehouse_ads


def _ledger(pipeline: Pipeline, account_id: str) -> list[tuple[int, str, str | None]]:
    t = pipeline.warehouse.account_runs
    with pipeline.warehouse_engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.id, t.c.status, t.c.error).where(t.c.account_id == account_id).order_by(t.c.id)
        ).all()
    return [(int(r.id), str(r.status), r.error) for r in rows]


def _day_matches(pipeline: Pipeline, account_id: str) -> dict[date, bool]:
    """The latest "did account X match on day D" answer per day, from metaads_chunk_days."""
    t = pipeline.warehouse.chunk_days
    with pipeline.warehouse_engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.date, t.c.matches).where(t.c.account_id == account_id).order_by(t.c.ledger_id)
        ).all()
    return {r.date if isinstance(r.date, date) else date.fromisoformat(r.date): bool(r.matches) for r in rows}


def _spend(rows: dict[tuple[str, str], dict[str, object]]) -> Decimal:
    return sum((Decimal(str(r["spend"])) for r in rows.values()), Decimal(0))


@pytest.fixture
def short_answers(world: World) -> Iterator[Callable[[float], None]]:
    """Make ad-level answers silently miss a share of ad-days (account totals stay complete)."""

    def short(rate: float) -> None:
        world.sim.faults.missing_rows_rate = rate

    yield short
    world.sim.faults.missing_rows_rate = 0.0


@pytest.mark.parametrize(
    ("mode", "status", "rows_kept"),
    [
        ("off", "loaded", False),
        ("warn", "loaded", False),
        ("strict", "failed", True),
    ],
    ids=["off-short-answer-replaces-good-rows", "warn-loads-and-records-mismatch", "strict-keeps-complete-days"],
)
def test_short_answer_after_a_complete_load(
    world: World,
    make_pipeline: Callable[..., Pipeline],
    short_answers: Callable[[float], None],
    mode: str,
    status: str,
    rows_kept: bool,
) -> None:
    pipeline = make_pipeline(RECONCILE=mode)
    account = pipeline.settings.accounts[0]
    first = pipeline.extract_and_load(account)
    assert first.ok
    before = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)

    short_answers(0.2)
    result = pipeline.extract_and_load(account)

    after = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    assert result.status == status
    assert (after == before) is rows_kept
    if not rows_kept:
        assert len(after) < len(before), "the short answer replaced complete days"
    last_status = _ledger(pipeline, account.id)[-1][1]
    assert last_status == ("loaded" if mode == "off" else "mismatch")
    if mode != "off":
        assert result.mismatches
        assert result.mismatches[0].mismatch_days > 0
        # strict kept the complete days (they match); warn loaded the short answer (they do not).
        assert all(_day_matches(pipeline, account.id).values()) is (mode == "strict")
        t = pipeline.warehouse.chunk_days
        with pipeline.warehouse_engine.connect() as conn:
            answer, api = conn.execute(
                sa.select(sa.func.sum(t.c.answer_spend), sa.func.sum(t.c.api_spend)).where(
                    t.c.ledger_id == _ledger(pipeline, account.id)[-1][0]
                )
            ).one()
        assert Decimal(str(answer)) < Decimal(str(api)), "the ledger keeps the short answer's figures"
    if mode == "strict":
        assert not result.retryable, "retrying at once gives the same short answer"
        assert result.error
        assert "differ from Meta's account totals" in result.error


def test_strict_first_load_of_short_days_still_gets_what_meta_gave(
    world: World, make_pipeline: Callable[..., Pipeline], short_answers: Callable[[float], None]
) -> None:
    pipeline = make_pipeline(RECONCILE="strict")
    account = pipeline.settings.accounts[0]
    short_answers(0.2)
    result = pipeline.extract_and_load(account)
    assert result.status == "failed"
    loaded = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    assert result.range is not None
    short_answers(0.0)  # the ground truth: every ad-day
    truth = truth_ads(world.sim, account.id, result.range.since, result.range.until)
    assert 0 < len(loaded) < len(truth), "the account is not left empty"
    matches = _day_matches(pipeline, account.id)
    assert set(matches) == {result.range.since + timedelta(days=i) for i in range(result.range.days)}
    assert not all(matches.values())
    # The per-day ledger keeps both figures: Meta's total and what the warehouse holds.
    t = pipeline.warehouse.chunk_days
    with pipeline.warehouse_engine.connect() as conn:
        api, held = conn.execute(sa.select(sa.func.sum(t.c.api_spend), sa.func.sum(t.c.loaded_spend))).one()
    assert Decimal(str(held)) == pytest.approx(_spend(loaded))
    assert Decimal(str(api)) == pytest.approx(_spend(truth))
    # Meta's data fixed: the next run matches and the account loads.
    assert pipeline.extract_and_load(account).ok
    assert all(_day_matches(pipeline, account.id).values())


@pytest.mark.parametrize(
    ("mode", "rows_kept"),
    [("off", False), ("warn", True), ("strict", True)],
    ids=["off-deletes", "warn-keeps", "strict-keeps"],
)
def test_empty_answer_never_deletes_rows_meta_says_exist(
    world: World,
    make_pipeline: Callable[..., Pipeline],
    short_answers: Callable[[float], None],
    mode: str,
    rows_kept: bool,
) -> None:
    pipeline = make_pipeline(RECONCILE=mode)
    account = pipeline.settings.accounts[0]
    assert pipeline.extract_and_load(account).ok
    before = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    short_answers(1.0)  # every ad-level row missing: an empty answer, while the account totals have spend
    result = pipeline.extract_and_load(account)
    assert result.status == ("failed" if mode == "strict" else "loaded")
    after = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
    assert (after == before) is rows_kept
    if not rows_kept:
        assert after == {}


def test_empty_answer_deletes_rows_when_account_totals_confirm_the_days_are_empty(
    warehouse_env: dict[str, str],
) -> None:
    clock = FakeClock()
    probe = Simulator(SimulatorConfig(seed=11, n_accounts=1, ads_per_account=25), clock=clock)
    account_id = probe.account_ids[0]
    # The account exists for 3 days only: earlier days have no spend at any level.
    sim = Simulator(
        SimulatorConfig(seed=11, n_accounts=1, ads_per_account=25, faults=_young(account_id, 3)), clock=clock
    )
    with sim.serve(port=0) as server:
        env = {
            "META_ACCOUNTS": sim.meta_accounts_env(),
            "GRAPH_API_TOKENS": ",".join(sim.tokens),
            "GRAPH_API_BASE_URL": server.base_url,
            "LOOKBACK_DAYS": "10",
            **warehouse_env,
        }
        from metaads.config.settings import settings_from_mapping

        with Pipeline.from_settings(settings_from_mapping(env), clock=clock) as pipeline:
            account = pipeline.settings.accounts[0]
            pipeline.init_warehouse()
            stale_day = sim.account_today(account_id) - timedelta(days=8)
            _insert_stale_row(pipeline, account.table, account_id, stale_day)
            result = pipeline.extract_and_load(account)
            assert result.ok, result.error
            loaded = warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table)
            assert loaded, "the young account's days are loaded"
            assert all(day > stale_day.isoformat() for _, day in loaded), "the confirmed-empty day is emptied"


def _young(account_id: str, days: int):  # type: ignore[no-untyped-def]
    from metaads.simulator.config import Faults

    return Faults(account_created_days_ago={account_id: days})


def _insert_stale_row(pipeline: Pipeline, table: str, account_id: str, day: date) -> None:
    ads = sa.Table(table, sa.MetaData(), schema=pipeline.warehouse.schema, autoload_with=pipeline.warehouse_engine)
    with pipeline.warehouse_engine.begin() as conn:
        conn.execute(
            ads.insert().values(
                unique_id="f" * 32,
                account_id=account_id,
                ad_id="1",
                spend=Decimal("9.99"),
                clicks=1,
                inline_link_clicks=1,
                impressions=10,
                date=day,
                loaded_at=pipeline.clock.now(),
            )
        )


def test_reconciliation_costs_one_account_level_call_per_chunk(
    world: World, make_pipeline: Callable[..., Pipeline]
) -> None:
    calls = {}
    for mode in ("off", "strict"):
        pipeline = make_pipeline(RECONCILE=mode, BACKFILL_CHUNK_DAYS="4")
        account = pipeline.settings.accounts[1]
        result = pipeline.extract_and_load(account)
        assert result.ok
        calls[mode] = (result.api_calls, len(result.chunks))
    assert calls["strict"][0] - calls["off"][0] == calls["strict"][1] == 3


def test_each_run_records_its_data_quality_checks(
    world: World, make_pipeline: Callable[..., Pipeline], short_answers: Callable[[float], None]
) -> None:
    pipeline = make_pipeline(RECONCILE="warn")
    summary = pipeline.run()
    t = pipeline.warehouse.quality
    with pipeline.warehouse_engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.check_name, t.c.account_id, t.c.value, t.c.ok).where(t.c.run_id == summary.run_id)
        ).all()
    checks = {(r.check_name, r.account_id): (r.value, r.ok) for r in rows}
    ids = {a.id for a in pipeline.settings.accounts}
    for name in ("duplicate_unique_id", "negative_metrics", "orphan_actions", "api_spend_no_rows", "freshness"):
        assert {a for n, a in checks if n == name} == ids, name
    assert all(ok for (name, _), (_, ok) in checks.items())
    assert all(value == 0 for (name, _), (value, _) in checks.items() if name != "freshness")

    # Meta's ad level loses every row of the first account (warn mode keeps the stored rows where Meta's
    # totals have spend), and a day the warehouse never had stays visible as spend without rows.
    account = pipeline.settings.accounts[0]
    ads, _ = pipeline.warehouse.tables(account)
    with pipeline.warehouse_engine.begin() as conn:
        conn.execute(sa.delete(ads).where(ads.c.date == world.sim.account_today(account.id)))
    short_answers(1.0)
    again = pipeline.run([account])
    with pipeline.warehouse_engine.connect() as conn:
        value, ok = conn.execute(
            sa.select(t.c.value, t.c.ok).where(t.c.run_id == again.run_id, t.c.check_name == "api_spend_no_rows")
        ).one()
    assert (value, ok) == (1, False)


def test_airflow_task_of_a_strict_mismatch_fails_without_retries(
    live_world: World, warehouse_env: dict[str, str]
) -> None:
    from metaads.errors import AccountFailedError, is_retryable
    from metaads.orchestration.tasks import extract_account, start_run

    settings = live_world.settings(**warehouse_env, RECONCILE="strict")
    run_id = start_run(settings)
    account = settings.accounts[0]
    live_world.sim.faults.missing_rows_rate = 0.2
    try:
        with pytest.raises(AccountFailedError) as failed:
            extract_account(settings, account.id, run_id)
    finally:
        live_world.sim.faults.missing_rows_rate = 0.0
    assert failed.value.result.status == "failed"
    assert not is_retryable(failed.value), "the chunk was fetched twice already: retrying now gives the same"
    # The next scheduled run, with Meta's data complete again, loads it.
    assert extract_account(settings, account.id, run_id).ok


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_deleting_stored_rows_takes_two_empty_answers_at_both_levels(
    world: World, make_pipeline: Callable[..., Pipeline], mode: str
) -> None:
    pipeline = make_pipeline(RECONCILE=mode)
    account = pipeline.settings.accounts[0]
    assert pipeline.extract_and_load(account).ok
    rerun = pipeline.extract_and_load(account)  # what a normal re-run costs
    # Every answer for this account is empty, at ad and at account level: Meta says nothing happened.
    world.sim.faults.empty_answer_accounts.add(account.id)
    try:
        emptied = pipeline.extract_and_load(account)
    finally:
        world.sim.faults.empty_answer_accounts.discard(account.id)
    assert emptied.ok
    assert warehouse_ads(pipeline.warehouse_engine, pipeline.settings.warehouse_schema, account.table) == {}
    # Ad level and account level asked a second time before deleting.
    assert emptied.api_calls == rerun.api_calls + 2


class _SecondWaitsForFirstChecks(NullListener):
    """Holds the second account back until the first account's data-quality checks are recorded."""

    def __init__(self, pipeline: Pipeline, first: str, second: str) -> None:
        self.pipeline, self.first, self.second = pipeline, first, second
        self.seen_before_second: bool | None = None

    def account_started(self, account: Account, date_range: DateRange) -> None:
        if account.id != self.second:
            return
        t = self.pipeline.warehouse.quality
        deadline = time.monotonic() + 20  # real time: the first account's load and checks, then give up
        while time.monotonic() < deadline:
            with self.pipeline.warehouse_engine.connect() as conn:
                if conn.execute(sa.select(sa.func.count()).where(t.c.account_id == self.first)).scalar_one():
                    self.seen_before_second = True
                    return
            time.sleep(0.05)
        self.seen_before_second = False


def test_an_accounts_quality_checks_are_recorded_once_it_has_loaded_not_after_the_last_account(
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    first, second = pipeline.settings.accounts[:2]
    listener = _SecondWaitsForFirstChecks(pipeline, first.id, second.id)
    summary = pipeline.run([first, second], listener=listener)
    assert summary.ok
    assert listener.seen_before_second is True
