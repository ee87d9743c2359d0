"""The original design's processing and load, followed literally, as the benchmark's baseline.

``GraphAPIClient.get_insights`` gathered every page into one list (``data.extend(response.data)``);
``GraphAPIDataProcessor.process_insights_data`` built an insights DataFrame, an actions DataFrame,
merged campaign statuses and hashed a ``unique_id``; ``DatabaseManager.upsert_dataframe`` then ran
"DELETE existing records in date range; INSERT new records in batches (chunksize=1000); COMMIT" with
``DataFrame.to_sql``. The pandas steps are written the efficient way (vectorised, no ``iterrows``)
so the comparison measures the design, not a strawman; column names and tables are ours so both
approaches fill identical tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from metaads.transform import ACTIONS_COLUMNS, ADS_COLUMNS


def _md5(keys: Iterable[str]) -> list[str]:
    return [hashlib.md5(key.encode()).hexdigest() for key in keys]


class GraphAPIDataProcessor:
    """``utils/graph_api.py``'s processor: API rows to the ads and actions DataFrames."""

    @staticmethod
    def process_insights_data(
        insights: list[dict[str, Any]], campaigns: list[dict[str, Any]], currency: str, loaded_at: datetime
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        df = pd.DataFrame(insights)
        action_records: list[dict[str, Any]] = []
        for record in insights:
            values = {v["action_type"]: v["value"] for v in record.get("action_values", [])}
            for action in record.get("actions", []):
                action_records.append(
                    {
                        "account_id": record["account_id"],
                        "ad_id": record["ad_id"],
                        "date": record["date_start"],
                        "action_type": action["action_type"],
                        "value": action["value"],
                        "action_value": values.get(action["action_type"]),
                    }
                )
        actions = pd.DataFrame(action_records)

        statuses = pd.DataFrame(campaigns)[["id", "status"]].rename(
            columns={"id": "campaign_id", "status": "campaign_status"}
        )
        df = df.merge(statuses, on="campaign_id", how="left")
        df["spend"] = pd.to_numeric(df["spend"]).fillna(0)
        for column in ("clicks", "inline_link_clicks", "impressions"):
            df[column] = pd.to_numeric(df[column]).fillna(0).astype("int64")
        df["reach"] = pd.to_numeric(df["reach"]).astype("Int64")
        df["date"] = pd.to_datetime(df["date_start"]).dt.date
        df["unique_id"] = _md5(df["account_id"] + "|" + df["ad_id"] + "|" + df["date_start"])
        df["currency"] = currency
        df["loaded_at"] = loaded_at
        df = df[list(ADS_COLUMNS)]

        actions["unique_id"] = _md5(
            actions["account_id"] + "|" + actions["ad_id"] + "|" + actions["date"] + "|" + actions["action_type"]
        )
        actions["value"] = pd.to_numeric(actions["value"])
        actions["action_value"] = pd.to_numeric(actions["action_value"])
        actions["date"] = pd.to_datetime(actions["date"]).dt.date
        actions["loaded_at"] = loaded_at
        return df, actions[list(ACTIONS_COLUMNS)]


class DatabaseManager:
    """``utils/database.py``'s manager: the delete-then-append upsert."""

    def __init__(self, engine: sa.Engine, schema: str) -> None:
        self.engine = engine
        self.schema = schema

    def upsert_dataframe(self, df: pd.DataFrame, table_name: str, date_column: str = "date") -> int:
        """DELETE the DataFrame's date range, then ``to_sql(chunksize=1000)``, in one transaction."""
        if df.empty:
            return 0
        min_date, max_date = df[date_column].min(), df[date_column].max()
        table = sa.table(table_name, sa.column(date_column), schema=self.schema)
        with self.engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c[date_column].between(min_date, max_date)))
            df.to_sql(table_name, conn, schema=self.schema, if_exists="append", index=False, chunksize=1000)
        return len(df)
