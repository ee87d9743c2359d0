"""The allocator settings of pipeline/memory.py reach every pipeline process: ``metaads run`` and each
Airflow task (which builds a Pipeline and calls ``extract_and_load`` directly, never ``run``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from metaads import settings_from_mapping
from metaads.graph import GraphClient
from metaads.pipeline import job


def test_building_a_pipeline_applies_the_allocator_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str] = []
    monkeypatch.setattr(job, "limit_allocator_growth", lambda: calls.append("called") or True)
    settings = settings_from_mapping(
        {
            "META_ACCOUNTS": "act_123:bm_one",
            "GRAPH_API_TOKENS": "token-a",
            "WAREHOUSE_URL": f"sqlite:///{tmp_path / 'warehouse.db'}",
        }
    )
    engine = sa.create_engine(settings.warehouse_url)
    with GraphClient(tokens=["token-a"]) as client:
        pipeline = job.Pipeline(settings, client=client, warehouse_engine=engine)
        assert calls == ["called"]
        pipeline.close()
