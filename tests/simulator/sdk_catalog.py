"""Meta's lists of what exists, read from the installed ``facebook-business`` SDK.

``python -m tests.simulator.sdk_catalog`` (re)writes ``src/metaads/simulator/catalog.py`` from the SDK;
``test_catalog.py`` fails when the installed SDK knows a field or enum the catalog does not (regenerate).
The simulator cannot import the SDK at run time: it is a dev dependency only.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

#: Graph node type -> SDK module (``facebook_business.adobjects.<module>``) and class.
NODES = {
    "AdAccount": ("adaccount", "AdAccount"),
    "Campaign": ("campaign", "Campaign"),
    "AdSet": ("adset", "AdSet"),
    "Ad": ("ad", "Ad"),
    "AdCreative": ("adcreative", "AdCreative"),
    "CustomConversion": ("customconversion", "CustomConversion"),
    "CustomAudience": ("customaudience", "CustomAudience"),
    "AdImage": ("adimage", "AdImage"),
    "AdVideo": ("advideo", "AdVideo"),
    "AdActivity": ("adactivity", "AdActivity"),
    "Business": ("business", "Business"),
    "BusinessUser": ("businessuser", "BusinessUser"),
    "User": ("user", "User"),
    "AdReportRun": ("adreportrun", "AdReportRun"),
}

TARGET = Path(__file__).resolve().parents[2] / "src" / "metaads" / "simulator" / "catalog.py"


def _values(cls: Any) -> tuple[str, ...]:
    return tuple(sorted({v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, str)}))


def _cls(module: str, name: str) -> Any:
    return getattr(importlib.import_module(f"facebook_business.adobjects.{module}"), name)


def build() -> dict[str, Any]:
    """Everything the catalog holds, from the installed SDK."""
    insights = _cls("adsinsights", "AdsInsights")
    ad, adset, campaign = _cls("ad", "Ad"), _cls("adset", "AdSet"), _cls("campaign", "Campaign")
    return {
        "INSIGHTS_FIELDS": dict(sorted(insights._field_types.items())),
        "BREAKDOWNS": _values(insights.Breakdowns),
        "ACTION_BREAKDOWNS": _values(insights.ActionBreakdowns),
        "ATTRIBUTION_WINDOWS": _values(insights.ActionAttributionWindows),
        "ACTION_REPORT_TIMES": _values(insights.ActionReportTime),
        "DATE_PRESETS": _values(insights.DatePreset),
        "LEVELS": _values(insights.Level),
        "AD_EFFECTIVE_STATUSES": _values(ad.EffectiveStatus),
        "ADSET_EFFECTIVE_STATUSES": _values(adset.EffectiveStatus),
        "CAMPAIGN_EFFECTIVE_STATUSES": _values(campaign.EffectiveStatus),
        "NODE_FIELDS": {node: _values(_cls(*where).Field) for node, where in sorted(NODES.items())},
    }


def _literal(value: Any, indent: str = "") -> str:
    if isinstance(value, str):
        return repr(value)
    inner = indent + "    "
    if isinstance(value, dict):
        items = "".join(f"{inner}{key!r}: {_literal(item, inner)},\n" for key, item in value.items())
        return "{\n" + items + indent + "}"
    return "(\n" + "".join(f"{inner}{item!r},\n" for item in value) + indent + ")"


def render(catalog: dict[str, Any]) -> str:
    """The ``catalog.py`` module text (one item per line: stable diffs when the SDK grows)."""
    kinds = {"INSIGHTS_FIELDS": "dict[str, str]", "NODE_FIELDS": "dict[str, tuple[str, ...]]"}
    lines = [
        '"""Meta\'s lists of what exists: insights fields and their types, breakdowns, enums, node fields.',
        "",
        "Generated from the facebook-business SDK's ``adobjects`` by ``python -m tests.simulator.sdk_catalog``;",
        "do not edit by hand. ``tests/simulator/test_catalog.py`` checks it against the installed SDK.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    for name, value in catalog.items():
        lines.append(f"{name}: {kinds.get(name, 'tuple[str, ...]')} = {_literal(value)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(build()))
    print(f"wrote {TARGET}")
