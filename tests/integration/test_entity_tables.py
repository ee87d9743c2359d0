"""Entity tables end to end: the simulator over real HTTP and the pipeline on one FakeClock, real PostgreSQL.

A first run lists every campaign, ad set, ad and creative (all effective statuses); a run a week later
asks only for objects updated since the first load (less the overlap), and for the ad sets and ads of
updated campaigns and ad sets (a pause moves the children's ``effective_status``, not their
``updated_time``), upserts them by id, and leaves the others' rows (and their ``loaded_at``) alone. The
analytics sync copies the entity views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from metaads import FakeClock, Pipeline
from metaads.database import stored_utc
from metaads.pipeline.entities import OVERLAP
from metaads.simulator import SimulatorConfig
from metaads.simulator.lifecycle import state_at
from metaads.simulator.objects import updated_time
from tests.integration.conftest import World, assert_matches_truth, make_world, warehouse_ads

DAY = 86400.0


@pytest.fixture
def pg_pipeline(world: World, pg_url: str, pg_schema: str) -> Callable[..., Pipeline]:
    made: list[Pipeline] = []

    def make(**overrides: str) -> Pipeline:
        env = {"WAREHOUSE_URL": pg_url, "WAREHOUSE_SCHEMA": pg_schema, **overrides}
        pipeline = Pipeline.from_settings(world.settings(**env), clock=world.clock)
        made.append(pipeline)
        return pipeline

    yield make  # type: ignore[misc]
    for pipeline in made:
        pipeline.close()


def _rows(engine: sa.Engine, schema: str | None, table: str) -> dict[str, dict[str, Any]]:
    t = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=engine)
    with engine.connect() as conn:
        return {row.id: dict(row._mapping) for row in conn.execute(sa.select(t))}


def _loads(engine: sa.Engine, schema: str) -> list[dict[str, Any]]:
    t = sa.Table("metaads_entity_loads", sa.MetaData(), schema=schema, autoload_with=engine)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(t.c.id))]


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _listed(sim_account: Any, kind: str, now: datetime, watermark: datetime) -> set[str]:
    """What an incremental load of ``kind`` should list, from the simulator's truth: the objects updated since
    the watermark, and the children of updated parents (ad sets of updated campaigns; ads of updated
    campaigns and ad sets)."""

    def updated(objects: Any) -> set[str]:
        return {o.id for o in objects if updated_time(o, now) > watermark}

    campaigns = updated(sim_account.campaigns)
    if kind == "campaigns":
        return campaigns
    adsets = updated(sim_account.adsets)
    if kind == "adsets":
        return adsets | {s.id for s in sim_account.adsets if s.campaign_id in campaigns}
    return updated(sim_account.ads) | {
        a.id for a in sim_account.ads if a.campaign_id in campaigns or a.adset_id in adsets
    }


def test_first_load_lists_every_object_of_every_status_then_incremental_asks_only_for_updated_ones(
    world: World, pg_pipeline: Callable[..., Pipeline], pg_schema: str
) -> None:
    pipeline = pg_pipeline()
    first = pipeline.run()
    assert first.ok, [r.error for r in first.results]
    engine = pipeline.warehouse_engine
    first_load = world.clock.now()
    account = pipeline.settings.accounts[0]
    sim_account = world.sim.account(account.id)

    campaigns = _rows(engine, pg_schema, f"{account.table}_campaigns")
    assert set(campaigns) == {c.id for c in sim_account.campaigns}
    statuses = {c.effective_status for c in sim_account.campaigns}
    assert {"DELETED", "ARCHIVED"} & statuses, "the seed should give archived or deleted campaigns"
    for campaign in sim_account.campaigns:
        row = campaigns[campaign.id]
        assert row["effective_status"] == campaign.effective_status
        assert row["objective"] == campaign.objective
        assert _utc(row["updated_time"]) == updated_time(campaign, first_load).replace(microsecond=0)
    adsets = _rows(engine, pg_schema, f"{account.table}_adsets")
    assert set(adsets) == {s.id for s in sim_account.adsets}
    assert all(isinstance(orjson.loads(row["targeting"]), dict) for row in adsets.values())
    ads = _rows(engine, pg_schema, f"{account.table}_ads")
    assert set(ads) == {a.id for a in sim_account.ads}
    creatives = _rows(engine, pg_schema, f"{account.table}_creatives")
    assert {row["creative_id"] for row in ads.values()} <= set(creatives)
    assert all(row["object_story_spec"] for row in creatives.values())
    assert {r["mode"] for r in _loads(engine, pg_schema)} == {"full"}

    world.clock.advance(7 * DAY)  # the simulator edits live objects every 2-14 days
    second_load = world.clock.now()
    world.sim.stats.reset()
    second = pg_pipeline().run()
    assert second.ok
    after = _rows(engine, pg_schema, f"{account.table}_campaigns")
    watermark = first_load - OVERLAP
    updated = {c.id for c in sim_account.campaigns if updated_time(c, second_load) > watermark}
    untouched = {c.id for c in sim_account.campaigns} - updated
    moved = {c.id for c in sim_account.campaigns if updated_time(c, second_load) != updated_time(c, first_load)}
    assert moved, "the seed should edit some campaigns within a week"
    assert untouched, "and leave others alone"
    loads = [r for r in _loads(engine, pg_schema) if r["finished_at"] >= second_load and r["account_id"] == account.id]
    campaign_load = next(r for r in loads if r["kind"] == "campaigns")
    assert campaign_load["mode"] == "incremental"
    assert campaign_load["updated_after"] == watermark
    assert campaign_load["rows"] == len(updated)
    for campaign_id in moved:  # edited since the first load: the row follows the API
        campaign = next(c for c in sim_account.campaigns if c.id == campaign_id)
        assert _utc(after[campaign_id]["updated_time"]) == updated_time(campaign, second_load).replace(microsecond=0)
        assert after[campaign_id]["loaded_at"] > campaigns[campaign_id]["loaded_at"]
    for campaign_id in untouched:  # not in the incremental response: its row was not written again
        assert after[campaign_id] == campaigns[campaign_id]
    # Deleted and archived objects keep their rows, with their status (as of now: the seed changes no
    # campaign's status within the week, so every row is the first load's or a fresher one).
    for campaign in sim_account.campaigns:
        assert after[campaign.id]["effective_status"] == state_at(campaign, second_load)[1]
    assert set(_rows(engine, pg_schema, f"{account.table}_ads")) == {a.id for a in sim_account.ads}
    # A new UTC day: the creatives were listed whole again; ads/adsets incremental.
    modes = {r["kind"]: r["mode"] for r in loads}
    assert modes == {"campaigns": "incremental", "adsets": "incremental", "ads": "incremental", "creatives": "full"}


def test_creatives_of_a_same_day_incremental_are_those_the_updated_ads_reference(
    world: World, pg_pipeline: Callable[..., Pipeline], pg_schema: str
) -> None:
    world.clock.set(datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc))
    pipeline = pg_pipeline()
    account = pipeline.settings.accounts[0]
    assert pipeline.run([account]).ok
    first_load = world.clock.now()
    world.clock.advance(20 * 3600)  # same UTC day
    second_load = world.clock.now()
    assert second_load.date() == first_load.date()
    assert pg_pipeline().run([account]).ok
    sim_account = world.sim.account(account.id)
    ads_updated = [a for a in sim_account.ads if updated_time(a, second_load) > first_load - OVERLAP]
    loads = [r for r in _loads(pipeline.warehouse_engine, pg_schema) if r["finished_at"] >= second_load]
    by_kind = {r["kind"]: r for r in loads}
    assert by_kind["ads"]["rows"] == len(ads_updated)
    assert by_kind["creatives"]["mode"] == "incremental"
    assert by_kind["creatives"]["rows"] == len(ads_updated)  # one creative per ad in the simulator


def test_entity_tables_off_makes_no_entity_tables_and_no_object_listing(
    world: World, pg_pipeline: Callable[..., Pipeline], pg_schema: str
) -> None:
    pipeline = pg_pipeline(ENTITY_TABLES="false")
    assert pipeline.run().ok
    names = set(sa.inspect(pipeline.warehouse_engine).get_table_names(schema=pg_schema))
    assert not {n for n in names if n.endswith(("_campaigns", "_adsets", "_ads", "_creatives"))}
    endpoints = set(world.sim.stats.calls_by_endpoint)
    assert not {e for e in endpoints if e.endswith(("adsets", "ads", "adcreatives"))}, endpoints


def test_sync_copies_entity_views_then_only_accounts_loaded_since(
    world: World, pg_pipeline: Callable[..., Pipeline], pg_schema: str, tmp_path: Path
) -> None:
    analytics = f"sqlite:///{tmp_path / 'analytics.db'}"
    pipeline = pg_pipeline(ANALYTICS_URL=analytics)
    assert pipeline.run().ok
    pipeline.sync()
    first = pipeline.entity_sync
    assert first is not None
    assert first.mode == "full"
    target = sa.create_engine(analytics)
    try:
        for kind in ("campaigns", "adsets", "ad_details", "creatives"):
            view = _rows(pipeline.warehouse_engine, pg_schema, f"vw_graph_{kind}")
            copied = _rows(target, None, f"graph_{kind}")
            assert set(copied) == set(view)
            assert first.rows[f"graph_{kind}"] == len(view)
        world.clock.advance(2 * DAY)
        account = pipeline.settings.accounts[1]
        second = pg_pipeline(ANALYTICS_URL=analytics)
        assert second.run([account]).ok
        second.sync()
        result = second.entity_sync
        assert result is not None
        assert result.mode == "incremental"
        assert result.accounts["graph_campaigns"] == 1  # only the account loaded since the last sync
        view = _rows(second.warehouse_engine, pg_schema, "vw_graph_campaigns")
        copied = _rows(target, None, "graph_campaigns")
        assert {k: v["updated_time"] for k, v in copied.items()} == {
            k: v["updated_time"].astimezone(timezone.utc).replace(tzinfo=None) for k, v in view.items()
        }
    finally:
        target.dispose()


def test_sync_evolve_adds_missing_entity_columns_and_recreates_missing_tables(
    world: World, pg_pipeline: Callable[..., Pipeline], pg_schema: str, pg_engine: sa.Engine
) -> None:
    from metaads.errors import SchemaMismatchError

    target_schema = f"{pg_schema}_a"
    pipeline = pg_pipeline(ANALYTICS_URL=pipeline_url(pg_engine), ANALYTICS_SCHEMA=target_schema)
    try:
        assert pipeline.run([pipeline.settings.accounts[0]]).ok
        pipeline.sync()
        with pg_engine.begin() as conn:
            conn.exec_driver_sql(f'ALTER TABLE "{target_schema}".graph_campaigns DROP COLUMN bid_strategy')
            conn.exec_driver_sql(f'DROP TABLE "{target_schema}".graph_creatives')
        with pytest.raises(SchemaMismatchError, match="bid_strategy"):
            pipeline.sync()
        pipeline.sync(evolve=True)
        result = pipeline.entity_sync
        assert result is not None
        assert result.mode == "full"
        assert result.columns_added == ("graph_campaigns.bid_strategy",)
        view = _rows(pipeline.warehouse_engine, pg_schema, "vw_graph_campaigns")
        copied = _rows(pg_engine, target_schema, "graph_campaigns")
        assert {k: v["bid_strategy"] for k, v in copied.items()} == {k: v["bid_strategy"] for k, v in view.items()}
        assert set(_rows(pg_engine, target_schema, "graph_creatives")) == set(
            _rows(pipeline.warehouse_engine, pg_schema, "vw_graph_creatives")
        )
    finally:
        with pg_engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{target_schema}" CASCADE')


def pipeline_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_entity_load_failure_is_recorded_and_does_not_fail_the_insights(
    world: World, pg_pipeline: Callable[..., Pipeline], pg_schema: str
) -> None:
    pipeline = pg_pipeline()
    account = pipeline.settings.accounts[0]
    pipeline.init_warehouse()
    with pipeline.warehouse_engine.begin() as conn:  # a column the upsert needs is gone: the load fails
        conn.exec_driver_sql(f'ALTER TABLE "{pg_schema}"."{account.table}_adsets" DROP COLUMN targeting CASCADE')
    pipeline._initialised = True  # noqa: SLF001 - keep the broken table (init would refuse it)
    result = pipeline.extract_and_load(account)
    assert result.ok
    assert set(result.entity_errors) == {"adsets"}
    assert result.entity_rows["campaigns"] > 0
    assert result.entity_rows["ads"] > 0
    failed = [r for r in _loads(pipeline.warehouse_engine, pg_schema) if r["status"] == "failed"]
    assert [r["kind"] for r in failed] == ["adsets"]
    assert "targeting" in failed[0]["error"]


def test_api_calls_of_an_incremental_entity_load_are_fewer_than_a_full_one(
    world: World, pg_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = pg_pipeline(LOOKBACK_DAYS="1", GRAPH_API_PAGE_SIZE="5")
    account = pipeline.settings.accounts[0]
    first = pipeline.extract_and_load(account)
    world.clock.advance(timedelta(hours=30).total_seconds())
    second = pg_pipeline(LOOKBACK_DAYS="1", GRAPH_API_PAGE_SIZE="5").extract_and_load(account)
    assert first.ok
    assert second.ok
    assert sum(second.entity_rows.values()) < sum(first.entity_rows.values())


def test_entity_views_reach_the_analytics_tables_from_either_warehouse(
    world: World, make_pipeline: Callable[..., Pipeline], tmp_path: Path
) -> None:
    analytics = f"sqlite:///{tmp_path / 'analytics.db'}"
    pipeline = make_pipeline(ANALYTICS_URL=analytics)
    assert pipeline.run().ok
    pipeline.sync()
    schema = None if pipeline.warehouse_engine.dialect.name == "sqlite" else pipeline.settings.warehouse_schema
    target = sa.create_engine(analytics)
    try:
        for view, table in (
            ("vw_graph_campaigns", "graph_campaigns"),
            ("vw_graph_adsets", "graph_adsets"),
            ("vw_graph_ad_details", "graph_ad_details"),
            ("vw_graph_creatives", "graph_creatives"),
        ):
            source = _rows(pipeline.warehouse_engine, schema, view)
            copied = _rows(target, None, table)
            assert set(copied) == set(source), table
            assert {k: v["name"] for k, v in copied.items()} == {k: v["name"] for k, v in source.items()}
    finally:
        target.dispose()


@pytest.fixture
def changing_world() -> Iterator[World]:
    """A world where a fifth of the live objects change status within 30 days of its start: with this seed an
    ad set is paused (its ads become ADSET_PAUSED) two days in, and another is deleted with its ads on day 7."""
    config = SimulatorConfig(seed=22, n_accounts=3, ads_per_account=25, status_change_rate=0.2, status_change_days=30)
    yield from make_world(FakeClock(), config)


def test_an_object_deleted_between_two_loads_keeps_its_row_with_its_new_status_and_its_history(
    changing_world: World, pg_url: str, pg_schema: str
) -> None:
    world = changing_world
    made: list[Pipeline] = []

    def pipeline() -> Pipeline:
        made.append(
            Pipeline.from_settings(world.settings(WAREHOUSE_URL=pg_url, WAREHOUSE_SCHEMA=pg_schema), clock=world.clock)
        )
        return made[-1]

    try:
        first = pipeline()
        assert first.run().ok
        engine = first.warehouse_engine
        first_load = world.clock.now()
        accounts = {a.id: (a, world.sim.account(a.id)) for a in first.settings.accounts}
        kinds = ("campaigns", "adsets", "ads")
        before = {
            (account_id, kind): _rows(engine, pg_schema, f"{account.table}_{kind}")
            for account_id, (account, _) in accounts.items()
            for kind in kinds
        }
        deletions = sorted(
            (
                (change.at, account_id, obj)
                for account_id, (_, sim_account) in accounts.items()
                for obj in (*sim_account.campaigns, *sim_account.adsets, *sim_account.ads)
                for change in obj.changes
                if change.status == "DELETED" and change.written
            ),
            key=lambda item: (item[0], item[2].id),
        )
        assert deletions, "the seed deletes some objects"
        deleted_at = deletions[0][0]
        assert deleted_at > first_load  # never retroactive
        for account_id, (_, sim_account) in accounts.items():  # the full load saw the state at the time
            for campaign in sim_account.campaigns:
                row = before[(account_id, "campaigns")][campaign.id]
                assert (row["status"], row["effective_status"]) == state_at(campaign, first_load)

        world.clock.set(deleted_at + timedelta(hours=1))
        second_load = world.clock.now()
        second = pipeline()
        summary = second.run()
        assert summary.ok, [r.error for r in summary.results]
        assert_matches_truth(second, world, summary)  # insights: the range the run fetched equals the API's
        watermark = first_load - OVERLAP
        deleted = {obj.id for at, _, obj in deletions if at <= second_load}
        changed: set[str] = set()  # objects whose status moved since the first load
        unwritten: set[str] = set()  # of those, the ones whose updated_time did not move
        for account_id, (account, sim_account) in accounts.items():
            loads = {
                r["kind"]: r
                for r in _loads(engine, pg_schema)
                if r["account_id"] == account_id and r["finished_at"] >= second_load
            }
            for kind in kinds:
                objects = {
                    "campaigns": sim_account.campaigns,
                    "adsets": sim_account.adsets,
                    "ads": sim_account.ads,
                }[kind]
                after = _rows(engine, pg_schema, f"{account.table}_{kind}")
                assert set(after) == {o.id for o in objects}  # every row kept, deleted ones included
                listed = _listed(sim_account, kind, second_load, watermark)
                assert loads[kind]["mode"] == "incremental"
                assert loads[kind]["rows"] == len(listed)  # updated since, or under an updated parent; once each
                for obj in objects:
                    row = after[obj.id]
                    if state_at(obj, second_load) != state_at(obj, first_load):
                        changed.add(obj.id)
                        if updated_time(obj, second_load) <= watermark:
                            unwritten.add(obj.id)
                    # Every row shows the status as of the second load, those of the ads of a paused ad set
                    # too: Meta computes their ADSET_PAUSED without writing them (updated_time stays), so
                    # only their ad set's update re-lists them (simulator.lifecycle, unverified).
                    assert (row["status"], row["effective_status"]) == state_at(obj, second_load), obj.id
                    assert _utc(row["updated_time"]) == updated_time(obj, second_load)
                    if obj.id not in listed:  # not fetched again: its row was not written
                        assert row == before[(account_id, kind)][obj.id]
                    if obj.id in deleted:
                        assert (row["status"], row["effective_status"]) == ("DELETED", "DELETED")
                        assert row["loaded_at"] > before[(account_id, kind)][obj.id]["loaded_at"]
        assert deleted
        assert changed - deleted, "the seed also pauses objects before the deletion"
        assert unwritten, "the seed pauses an ad set: its ads' status moves, their updated_time does not"
        # A deleted ad keeps its insights rows of the days it delivered (nothing after its day).
        for at, account_id, obj in deletions:
            account, sim_account = accounts[account_id]
            if at > second_load or obj.id not in {a.id for a in sim_account.ads}:
                continue
            days = {day for ad_id, day in warehouse_ads(engine, pg_schema, account.table) if ad_id == obj.id}
            assert days, "its history stays"
            assert max(days) <= at.astimezone(sim_account.zone).date().isoformat()
    finally:
        for made_pipeline in made:
            made_pipeline.close()


@pytest.fixture
def campaign_world() -> Iterator[World]:
    """A world where, with this seed, a campaign is paused on 6 December 2026 (23:08 UTC: its three ad sets and
    their ads become CAMPAIGN_PAUSED, unwritten) and, in another account, a campaign is deleted with its ad sets
    and ads the next day (18:05 UTC)."""
    config = SimulatorConfig(seed=30, n_accounts=3, ads_per_account=25, status_change_rate=0.2, status_change_days=30)
    yield from make_world(FakeClock(), config)


def test_children_of_a_paused_or_deleted_campaign_get_their_new_status_and_untouched_ones_are_not_fetched(
    campaign_world: World, warehouse_env: dict[str, str]
) -> None:
    """On both warehouses: the updated parents are read back from the entity tables (times compared in SQL)."""
    world = campaign_world
    schema = warehouse_env.get("WAREHOUSE_SCHEMA")
    accounts = {account_id: world.sim.account(account_id) for account_id in world.sim.account_ids}
    campaign_changes = sorted(
        (
            (change.at, account_id, campaign, change.status)
            for account_id, sim_account in accounts.items()
            for campaign in sim_account.campaigns
            for change in campaign.changes
        ),
        key=lambda c: (c[0], c[2].id),
    )
    paused_at, _, paused, _ = next(c for c in campaign_changes if c[3] == "PAUSED")
    deleted_at, _, deleted, _ = next(c for c in campaign_changes if c[3] == "DELETED")
    assert paused_at < deleted_at
    made: list[Pipeline] = []

    def pipeline() -> Pipeline:
        made.append(Pipeline.from_settings(world.settings(**warehouse_env), clock=world.clock))
        return made[-1]

    try:
        world.clock.set(paused_at - timedelta(hours=1))
        first = pipeline()
        assert first.run().ok
        first_load = world.clock.now()
        engine = first.warehouse_engine
        tables = {a.id: a.table for a in first.settings.accounts}
        kinds = ("campaigns", "adsets", "ads")
        before = {(a, k): _rows(engine, schema, f"{tables[a]}_{k}") for a in accounts for k in kinds}

        world.clock.set(deleted_at + timedelta(hours=1))
        second_load = world.clock.now()
        world.sim.stats.reset()
        assert pipeline().run().ok
        watermark = first_load - OVERLAP
        after = {(a, k): _rows(engine, schema, f"{tables[a]}_{k}") for a in accounts for k in kinds}

        # The paused campaign's children: their own status and updated_time unchanged, CAMPAIGN_PAUSED now.
        paused_account = accounts[paused.account_id]
        unwritten = [
            child
            for child in (*paused_account.adsets, *paused_account.ads)
            if child.campaign_id == paused.id and updated_time(child, second_load) <= watermark
        ]
        assert any(state_at(c, second_load)[1] == "CAMPAIGN_PAUSED" for c in unwritten), "the seed's pause"
        # The deleted campaign's children keep their rows, DELETED now.
        deleted_account = accounts[deleted.account_id]
        gone = [c for c in (*deleted_account.adsets, *deleted_account.ads) if c.campaign_id == deleted.id]
        assert gone
        for child in gone:
            kind = "adsets" if child in deleted_account.adsets else "ads"
            assert child.id in before[(deleted.account_id, kind)]
            assert after[(deleted.account_id, kind)][child.id]["effective_status"] == "DELETED"

        expected_calls = {"adsets": 0, "ads": 0}
        untouched = 0
        for account_id, sim_account in accounts.items():
            loads = {
                r["kind"]: r
                for r in _loads(engine, schema)
                if r["account_id"] == account_id and stored_utc(r["finished_at"]) >= second_load
            }
            for kind in kinds:
                objects = {"campaigns": sim_account.campaigns, "adsets": sim_account.adsets, "ads": sim_account.ads}
                listed = _listed(sim_account, kind, second_load, watermark)
                assert loads[kind]["rows"] == len(listed), (account_id, kind)
                for obj in objects[kind]:
                    row, old = after[(account_id, kind)][obj.id], before[(account_id, kind)][obj.id]
                    assert (row["status"], row["effective_status"]) == state_at(obj, second_load), obj.id
                    if obj.id in listed:
                        assert row["loaded_at"] > old["loaded_at"]
                    else:  # neither updated nor under an updated parent: not fetched, not written
                        assert row == old
                        untouched += kind != "campaigns"
            # One request per listing (a page holds every object here): the updated ones, then the ad sets of
            # updated campaigns, and the ads of updated campaigns and ad sets (by ad set, the fewer requests
            # here); none when no parent was updated.
            campaigns = _listed(sim_account, "campaigns", second_load, watermark)
            adsets = {s.id for s in sim_account.adsets if updated_time(s, second_load) > watermark}
            calls = {"adsets": 1 + bool(campaigns), "ads": 1 + bool(campaigns or adsets)}
            assert {k: loads[k]["api_calls"] for k in calls} == calls, account_id
            for kind, n in calls.items():
                expected_calls[kind] += n
        assert untouched, "the seed leaves some campaigns and their children alone"
        assert world.sim.stats.calls_by_endpoint["GET act/adsets"] == expected_calls["adsets"]
        assert world.sim.stats.calls_by_endpoint["GET act/ads"] == expected_calls["ads"]
    finally:
        for made_pipeline in made:
            made_pipeline.close()


def test_a_campaign_paused_while_the_campaign_load_failed_still_reaches_its_children_next_time(
    campaign_world: World, pg_url: str, pg_schema: str
) -> None:
    """Ad sets and ads loaded in a run whose campaigns failed do not move their watermark past what the campaign
    table knew: the next run, campaigns loaded again, re-lists the children of the campaign paused in between."""
    world = campaign_world
    paused = next(
        c
        for a in world.sim.account_ids
        for c in world.sim.account(a).campaigns
        if c.changes and c.changes[0].status == "PAUSED"
    )
    paused_at = paused.changes[0].at
    made: list[Pipeline] = []

    def pipeline() -> Pipeline:
        made.append(
            Pipeline.from_settings(world.settings(WAREHOUSE_URL=pg_url, WAREHOUSE_SCHEMA=pg_schema), clock=world.clock)
        )
        return made[-1]

    try:
        world.clock.set(paused_at - timedelta(hours=1))
        first = pipeline()
        account = next(a for a in first.settings.accounts if a.id == paused.account_id)
        assert first.extract_and_load(account).ok
        engine = first.warehouse_engine
        table = f'"{pg_schema}"."{account.table}_campaigns"'

        world.clock.set(paused_at + timedelta(hours=1))
        broken = pipeline()
        with engine.begin() as conn:  # a column the campaigns' upsert needs is gone: that load fails
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN bid_strategy CASCADE")
        broken._initialised = True  # noqa: SLF001 - keep the broken table (init would refuse it)
        second = broken.extract_and_load(account)
        assert set(second.entity_errors) == {"campaigns"}
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN bid_strategy VARCHAR(64)")

        world.clock.set(paused_at + timedelta(hours=2))
        third = pipeline().extract_and_load(account)
        assert third.ok, third.entity_errors
        sim_account = world.sim.account(account.id)
        children = [c for c in (*sim_account.adsets, *sim_account.ads) if c.campaign_id == paused.id]
        rows = {
            **_rows(engine, pg_schema, f"{account.table}_adsets"),
            **_rows(engine, pg_schema, f"{account.table}_ads"),
        }
        now = world.clock.now()
        assert any(state_at(c, now)[1] == "CAMPAIGN_PAUSED" for c in children)
        for child in children:
            assert rows[child.id]["effective_status"] == state_at(child, now)[1], child.id
        loads = [r for r in _loads(engine, pg_schema) if r["finished_at"] >= now and r["kind"] == "adsets"]
        assert [r["updated_after"] for r in loads] == [paused_at - timedelta(hours=1) - OVERLAP]
    finally:
        for made_pipeline in made:
            made_pipeline.close()
