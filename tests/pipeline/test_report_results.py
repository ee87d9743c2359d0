"""An account's extra-report chunks travel with its result (Airflow XComs) and decide its status."""

from __future__ import annotations

from datetime import date

from metaads import Account
from metaads.dates import DateRange
from metaads.outcomes import ChunkResult
from metaads.pipeline.reports import ReportChunk
from metaads.pipeline.results import AccountResult
from metaads.statuses import AccountStatus

WINDOW = DateRange(date(2026, 11, 20), date(2026, 11, 24))


def test_report_chunks_survive_the_xcom_round_trip() -> None:
    account = Account(id="1", table="bm_01", label="Alpha", index=0)
    result = AccountResult(
        account=account,
        status=AccountStatus.PARTIAL,
        range=WINDOW,
        chunks=[ChunkResult(WINDOW, AccountStatus.LOADED, ads_rows=3, actions_rows=5)],
        reports=[
            ReportChunk("age_gender", ChunkResult(WINDOW, AccountStatus.LOADED, ads_rows=40, actions_rows=90)),
            ReportChunk("country", ChunkResult(WINDOW, AccountStatus.FAILED, error="(#100) boom", retryable=False)),
        ],
    )
    again = AccountResult.from_xcom(result.to_xcom(), account)
    assert again == result
    assert [(r.report, r.ok, r.rows) for r in again.reports] == [("age_gender", True, 40), ("country", False, 0)]
