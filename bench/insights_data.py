"""Deterministic raw insights pages (the Graph API's JSON shape) and the same rows as CSV, for benchmarks.

Generated once per (rows, seed) into a cache folder and reused: generation is never part of a timing.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

from metaads import Account
from metaads.transform import campaign_status_map, to_actions_rows, to_ads_rows

ACCOUNT = Account(id="1234567890", table="bm_01", label="Bench", index=0)
FIRST_DAY = date(2026, 1, 1)
DAYS = 30
PAGE_ROWS = 500
LOADED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
_ACTION_TYPES = [
    "link_click",
    "post_engagement",
    "page_engagement",
    "video_view",
    "landing_page_view",
    "purchase",
    "add_to_cart",
    "lead",
    "offsite_conversion.fb_pixel_purchase",
]


@dataclass(frozen=True)
class BenchData:
    """Where one data set lives and what it holds."""

    folder: Path
    rows: int
    actions_rows: int
    since: date
    until: date

    @property
    def pages(self) -> Path:
        return self.folder / "pages.jsonl"

    @property
    def campaigns(self) -> Path:
        return self.folder / "campaigns.json"

    @property
    def ads_csv(self) -> Path:
        return self.folder / "ads.csv"

    @property
    def actions_csv(self) -> Path:
        return self.folder / "actions.csv"


def insight_rows(pages: Path) -> Iterator[dict[str, Any]]:
    """Replay the rows of a pages file (one page per line), as the pipeline's spool does."""
    with pages.open("rb") as handle:
        for line in handle:
            yield from orjson.loads(line)["data"]


def _campaigns(count: int) -> list[dict[str, Any]]:
    statuses = ["ACTIVE", "PAUSED", "ARCHIVED", "ACTIVE"]
    return [{"id": f"2385{i:013d}", "name": f"Campaign {i} – Spring", "status": statuses[i % 4]} for i in range(count)]


def _rows(rows: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    ads = -(-rows // DAYS)
    produced = 0
    for day_index in range(DAYS):
        day = (FIRST_DAY + timedelta(days=day_index)).isoformat()
        for ad in range(ads):
            if produced == rows:
                return
            produced += 1
            impressions = rng.randint(50, 20000)
            clicks = rng.randint(0, impressions // 20)
            row: dict[str, Any] = {
                "account_id": ACCOUNT.id,
                "account_name": "Acme Europe Ltd",
                "campaign_id": f"2385{ad % 400:013d}",
                "campaign_name": f"Campaign {ad % 400} – Spring",
                "adset_id": f"2386{ad % 4000:013d}",
                "adset_name": f"Ad set {ad % 4000} FR 18-34",
                "ad_id": f"2387{ad:013d}",
                "ad_name": f"Ad {ad} · Video A/B",
                "objective": "OUTCOME_SALES",
                "spend": f"{rng.randint(0, 500000) / 100:.2f}",
                "clicks": str(clicks),
                "inline_link_clicks": str(clicks // 2),
                "impressions": str(impressions),
                "reach": str(impressions * 4 // 5),
                "date_start": day,
                "date_stop": day,
            }
            types = rng.sample(_ACTION_TYPES, rng.randint(1, 3))
            row["actions"] = [{"action_type": t, "value": str(rng.randint(1, 40))} for t in types]
            if "purchase" in types:
                row["action_values"] = [{"action_type": "purchase", "value": f"{rng.randint(100, 99999) / 100:.2f}"}]
            yield row


def _write_pages(path: Path, rows: int, seed: int) -> None:
    page: list[dict[str, Any]] = []
    number = 0
    with path.open("wb") as handle:
        for row in _rows(rows, seed):
            page.append(row)
            if len(page) == PAGE_ROWS:
                number += 1
                handle.write(
                    orjson.dumps(
                        {
                            "data": page,
                            "paging": {"cursors": {"after": f"c{number}"}, "next": f"https://x/?after=c{number}"},
                        }
                    )
                )
                handle.write(b"\n")
                page = []
        if page:
            handle.write(orjson.dumps({"data": page, "paging": {"cursors": {"after": "end"}}}))
            handle.write(b"\n")


def _csv_value(value: Any) -> Any:
    return "" if value is None else value  # unquoted empty field = NULL in COPY ... (FORMAT csv)


def _write_csv(data: BenchData, statuses: dict[str, str]) -> int:
    with data.ads_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for ads_row in to_ads_rows(
            insight_rows(data.pages), campaign_status=statuses, currency="EUR", loaded_at=LOADED_AT
        ):
            writer.writerow([_csv_value(v) for v in ads_row])
    actions = 0
    with data.actions_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for actions_row in to_actions_rows(insight_rows(data.pages), loaded_at=LOADED_AT):
            writer.writerow([_csv_value(v) for v in actions_row])
            actions += 1
    return actions


def prepare(rows: int, seed: int = 7, root: Path | None = None) -> BenchData:
    """Generate (or reuse) pages, campaigns and CSVs for ``rows`` ads rows."""
    folder = (root or Path(tempfile.gettempdir())) / f"metaads-bench-{rows}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "done.json"
    if done.exists():
        meta = orjson.loads(done.read_bytes())
        return BenchData(folder, rows, meta["actions_rows"], FIRST_DAY, date.fromisoformat(meta["until"]))
    campaigns = _campaigns(400)
    (folder / "campaigns.json").write_bytes(orjson.dumps(campaigns))
    data = BenchData(folder, rows, 0, FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))
    _write_pages(data.pages, rows, seed)
    actions = _write_csv(data, campaign_status_map(campaigns))
    done.write_bytes(orjson.dumps({"actions_rows": actions, "until": data.until.isoformat()}))
    return BenchData(folder, rows, actions, data.since, data.until)
