"""Generate ``src/metaads/graph/fields.py`` (the client's insights field catalogue) from the SDK.

``python -m tests.graph.sdk_fields`` (re)writes the module from the installed ``facebook-business`` SDK:
Meta's type of every ``AdsInsights`` field (its ``_field_types``), the breakdown and action-breakdown
enums, and how metaads stores each field. ``tests/graph/test_field_catalogue.py`` fails when the SDK
knows a field the module does not. The SDK is a dev dependency: metaads never imports it at run time.

How a field is stored follows the Marketing API reference's documented types, which the SDK flattens
to ``string``: ids are text, counts integers, other numeric strings exact decimals, names/enums/dates
text, ``list<AdsActionStats>`` child rows, anything else (histograms, objects) JSON text.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parents[2] / "src" / "metaads" / "graph" / "fields.py"

# Documented as "string" (text) or enums in the Marketing API's AdsInsights reference.
_TEXT = {
    "account_currency",
    "account_name",
    "ad_name",
    "adset_end",
    "adset_name",
    "adset_start",
    "age_targeting",
    "anchor_event_attribution_setting",
    "anchor_events_performance_indicator",
    "attribution_setting",
    "buying_type",
    "campaign_name",
    "conversion_rate_ranking",
    "created_time",
    "creative_diversity_label",
    "creative_media_type",
    "date_start",
    "date_stop",
    "engagement_rate_ranking",
    "gender_targeting",
    "labels",
    "location",
    "marketing_messages_spend_currency",
    "multi_event_conversion_attribution_setting",
    "objective",
    "optimization_goal",
    "place_page_name",
    "quality_ranking",
    "result_values_performance_indicator",
    "updated_time",
    "configurable_audience_overlap_with_conv_action",
}
# Identifiers ("numeric string" in the reference, but never arithmetic): text.
_IDS = {"account_id", "ad_id", "adset_id", "campaign_id", "product_group_retailer_id", "product_retailer_id"}
# Counts: whole numbers ("numeric string" or int in the reference).
_COUNTS = {
    "clicks",
    "impressions",
    "reach",
    "unique_clicks",
    "inline_link_clicks",
    "unique_inline_link_clicks",
    "inline_post_engagement",
    "full_view_impressions",
    "full_view_reach",
    "estimated_ad_recallers",
    "estimated_ad_recallers_lower_bound",
    "estimated_ad_recallers_upper_bound",
    "instagram_profile_follow",
    "instagram_profile_visits",
    "instagram_upcoming_event_reminders_set",
    "instant_experience_clicks_to_open",
    "instant_experience_clicks_to_start",
    "marketing_messages_delivered",
    "marketing_messages_link_btn_click",
    "marketing_messages_quick_reply_btn_click",
    "marketing_messages_read",
    "marketing_messages_sent",
    "messages_delivered",
    "product_views",
    "shop_clicks",
    "total_card_view",
    "total_postbacks",
}
# The lowest level a field is available at (Meta leaves it out of coarser rows); others: every level.
_OWN_LEVEL = {
    "campaign_id": "campaign",
    "campaign_name": "campaign",
    "objective": "campaign",
    "buying_type": "campaign",
    "adset_id": "adset",
    "adset_name": "adset",
    "optimization_goal": "adset",
    "adset_start": "adset",
    "adset_end": "adset",
    "attribution_setting": "adset",
    "ad_id": "ad",
    "ad_name": "ad",
    "creative_media_type": "ad",
    "quality_ranking": "ad",
    "engagement_rate_ranking": "ad",
    "conversion_rate_ranking": "ad",
}


def _cls() -> Any:
    return importlib.import_module("facebook_business.adobjects.adsinsights").AdsInsights


def _values(cls: Any) -> tuple[str, ...]:
    return tuple(sorted({v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, str)}))


def storage(name: str, meta_type: str) -> str:
    """How metaads stores a field of Meta type ``meta_type``."""
    if meta_type == "list<AdsActionStats>":
        return "list"
    if meta_type.startswith("list<") or meta_type not in ("string", "int", "unsigned int", "float"):
        return "json"
    if name in _IDS:
        return "id"
    if name in _TEXT:
        return "text"
    if name in _COUNTS or meta_type in ("int", "unsigned int"):
        return "integer"
    return "decimal"


def build() -> dict[str, Any]:
    insights = _cls()
    return {
        "fields": {
            name: (kind, storage(name, kind), _OWN_LEVEL.get(name, "account"))
            for name, kind in sorted(insights._field_types.items())
        },
        "BREAKDOWNS": _values(insights.Breakdowns),
        "ACTION_BREAKDOWNS": _values(insights.ActionBreakdowns),
        "ATTRIBUTION_WINDOWS": _values(insights.ActionAttributionWindows),
        "ACTION_REPORT_TIMES": _values(insights.ActionReportTime),
    }


_HEAD = '''"""The insights field catalogue: every ``AdsInsights`` field, Meta's type, how metaads stores it, its level.

Generated from the facebook-business SDK (``adobjects/adsinsights.py``, ``_field_types``) by
``python -m tests.graph.sdk_fields``; one line per field, so adding a field is one line. Storage kinds
(the Marketing API reference's documented types; the SDK calls most of them ``string``):

- ``id``: identifiers, text;  ``text``: names, enums, dates, text;
- ``integer``: counts;  ``decimal``: other numeric strings, exact decimals (never float);
- ``list``: ``list<AdsActionStats>`` ({action_type, value, ...}), one child row per item;
- ``json``: other lists and objects (histograms, summaries), kept as JSON text.

The third item is the finest level a field needs: ``ad_name`` exists on ad rows only (``ad``), a
campaign's fields on campaign, ad set and ad rows (``campaign``); ``account`` means every level.
"""

from __future__ import annotations

from typing import NamedTuple


class FieldSpec(NamedTuple):
    """One insights field: Meta's type, metaads's storage kind, the finest level it needs."""

    meta_type: str
    storage: str
    level: str


STORAGE_KINDS = ("id", "text", "integer", "decimal", "list", "json")
'''


def render(catalog: dict[str, Any]) -> str:
    lines = [_HEAD, "# fmt: off", "INSIGHTS_FIELDS: dict[str, FieldSpec] = {"]
    for name, (kind, store, level) in catalog["fields"].items():
        lines.append(f"    {name!r}: FieldSpec({kind!r}, {store!r}, {level!r}),")
    lines.append("}")
    for key in ("BREAKDOWNS", "ACTION_BREAKDOWNS", "ATTRIBUTION_WINDOWS", "ACTION_REPORT_TIMES"):
        lines.append(f"{key}: tuple[str, ...] = (")
        lines.extend(f"    {value!r}," for value in catalog[key])
        lines.append(")")
    lines.append("# fmt: on")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(build()))
    print(f"wrote {TARGET}")
