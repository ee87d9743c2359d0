"""Keep a run's resident memory flat: glibc's allocator, told to give memory back.

A run parses pages and transforms rows in one thread per account. glibc's malloc gives each thread
that contends for the heap an arena of its own (up to 8 per core) and, after large blocks are freed,
raises its mmap threshold so that the next ones come from those arenas: every page body (about a
megabyte) then leaves fragmented, unreturned memory in one of many arenas, and the process's RSS
grows with the number of threads and pages rather than with what is live. Two arenas and a fixed
mmap threshold (large blocks are mapped and unmapped, so returned at once) keep RSS at what is live.
Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading

log = logging.getLogger("metaads.pipeline")

# mallopt parameters (glibc malloc.h)
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD_BYTES = 256 * 1024

_done = False
_lock = threading.Lock()


def limit_allocator_growth() -> bool:
    """Cap malloc arenas and fix the mmap threshold, once per process. True when glibc took it."""
    global _done
    with _lock:
        if _done:
            return True
        _done = True
        if not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
            return False
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        ok = bool(mallopt(_M_ARENA_MAX, ARENAS)) and bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
        if not ok:
            log.debug("mallopt refused the memory settings; RSS may grow with threads")
        return ok
