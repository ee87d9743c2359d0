"""``[core] hostname_callable`` of the local cluster's workers: each worker's own name.

On one machine every worker has the same host name; naming them (``METAADS_CLUSTER_WORKER``, set by
``airflow_cluster.py``) lets the task instances say which worker ran them, as on separate machines.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("METAADS_CLUSTER_WORKER") or socket.getfqdn()
