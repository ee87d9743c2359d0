"""Pure transform: insights rows in the Graph API's JSON shape to warehouse rows (no I/O, no clock)."""

from __future__ import annotations

from metaads.errors import InsightRowError
from metaads.transform.actions import ACTIONS_COLUMNS, ActionsRow, to_actions_rows
from metaads.transform.ads import ADS_COLUMNS, AdsRow, to_ads_rows
from metaads.transform.campaigns import campaign_status_map
from metaads.transform.keys import key_id

__all__ = [
    "ACTIONS_COLUMNS",
    "ADS_COLUMNS",
    "ActionsRow",
    "AdsRow",
    "InsightRowError",
    "campaign_status_map",
    "key_id",
    "to_actions_rows",
    "to_ads_rows",
]
