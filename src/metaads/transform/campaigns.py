"""Campaign statuses from the campaigns endpoint, merged into ads rows by campaign id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def campaign_status_map(campaigns: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Map campaign id to ``status`` (``effective_status`` when ``status`` was not requested)."""
    statuses: dict[str, str] = {}
    for campaign in campaigns:
        campaign_id = campaign.get("id")
        status = campaign.get("status") or campaign.get("effective_status")
        if campaign_id is not None and status:
            statuses[str(campaign_id)] = str(status)
    return statuses
