"""Peak resident memory of *this* process, for measurements run in child processes."""

from __future__ import annotations

import resource


def rss_mb(field: str = "VmHWM") -> float:
    """This process's peak (``VmHWM``) or current (``VmRSS``) resident memory, in MB.

    Not ``ru_maxrss``: a child process inherits its parent's peak there (the parent's memory at fork
    time counts until exec, and Python's ``subprocess`` forks the parent), so a small child of a big
    parent would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def peak_rss_mb() -> float:
    return rss_mb("VmHWM")
