"""The DAG's notifier: Airflow's own notification mechanism, sending the run's one message via Apprise.

``finish_run``'s task leaves the message (what needs a person) in its XCom ``alert``; this notifier, set
as that task's success and failure callback, sends it to ``ALERT_URLS``: the same message ``metaads
run`` sends. It imports Airflow, so only the DAG file imports it.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseNotifier

from metaads.errors import MetaAdsError
from metaads.observability.alerts import send_message
from metaads.orchestration.airflow_settings import task_settings

log = logging.getLogger("metaads.alerts")

#: XCom key under which the closing task leaves the run's message.
ALERT_XCOM_KEY = "alert"


class MetaadsAlertNotifier(BaseNotifier):
    """Send the message the closing task computed (nothing when nothing needs a person)."""

    template_fields = ()

    def notify(self, context: Any) -> None:
        ti = context["ti"]
        message = ti.xcom_pull(task_ids=ti.task_id, key=ALERT_XCOM_KEY)
        if not message:
            return
        urls = task_settings().alert_targets()
        if not urls:
            log.info("ALERT_URLS is not set; the run's message:\n%s", message["body"])
            return
        try:
            send_message(str(message["title"]), str(message["body"]), urls)
        except MetaAdsError as exc:
            log.error("%s", exc)
