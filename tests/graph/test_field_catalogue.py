"""The committed field catalogue (src/metaads/graph/fields.py) is what the SDK's AdsInsights says."""

from __future__ import annotations

import pytest

from metaads.graph import fields
from tests.graph import sdk_fields


def test_catalogue_is_the_generated_module_of_the_installed_sdk() -> None:
    # Regenerate with `python -m tests.graph.sdk_fields` when the SDK (Meta's field list) moves.
    assert sdk_fields.TARGET.read_text() == sdk_fields.render(sdk_fields.build())


@pytest.mark.parametrize(
    ("name", "storage", "level"),
    [
        ("spend", "decimal", "account"),
        ("ctr", "decimal", "account"),
        ("impressions", "integer", "account"),
        ("reach", "integer", "account"),
        ("ad_id", "id", "ad"),
        ("ad_name", "text", "ad"),
        ("campaign_name", "text", "campaign"),
        ("objective", "text", "campaign"),
        ("actions", "list", "account"),
        ("cost_per_action_type", "list", "account"),
        ("video_play_curve_actions", "json", "account"),
        ("quality_ranking", "text", "ad"),
    ],
    ids=lambda v: str(v),
)
def test_fields_are_stored_as_the_marketing_api_documents_them(name: str, storage: str, level: str) -> None:
    spec = fields.INSIGHTS_FIELDS[name]
    assert (spec.storage, spec.level) == (storage, level)
    assert spec.storage in fields.STORAGE_KINDS
