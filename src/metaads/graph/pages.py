"""A bound on the pages read and held at once, by all the threads of a client together.

A page of insights rows is most of a megabyte on the wire (1,000 rows: 0.7 MB of JSON). It is held as
its body while its rows are parsed a batch at a time and consumed (:mod:`metaads.graph.page_rows`);
parsed whole it would be many times that. The pipeline fetches every account in its own thread. The
interpreter lock lets one thread at a time parse or spool a page, yet switches threads every few
milliseconds, so without a bound most threads held a page at once (up to six parsed pages, and bodies
waiting, in a run of ten accounts): the process's peak memory grew with how many full pages there
were to fetch instead of staying at what one page needs.

A :class:`PageHold` (one per paged listing, :func:`metaads.graph.paging.iter_pages`) takes a slot
once its answer's headers have arrived, before the body is read, and gives it back when the consumer
asks for the next page. A body waiting for a slot waits on its connection, not in this process's
memory; the request was already sent, and quotas and back-offs are waited for without a slot (an
error answer gives its slot back at once). What queues is the CPU work on pages, which the interpreter
lock serialises anyway.

The bound never stalls a run for good: a thread that already holds a slot (a consumer paging through
another listing while it holds a page) does not wait for a second one, and a wait longer than
:data:`PAGE_SLOT_WAIT_S` (a slot kept by a listing left suspended, say) goes on without a slot, with a
warning.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)

#: Longest wait for a page slot before going on without one (real seconds: slots are held for CPU work
#: on pages, never through a quota wait, so a normal wait is well under a second).
PAGE_SLOT_WAIT_S = 30.0


class _ThreadHolds:
    """How many holds the thread owns (its own slot and holds nested within it)."""

    __slots__ = ("depth",)

    def __init__(self) -> None:
        self.depth = 0


class PageSlots:
    """At most ``slots`` parsed pages across threads (0: no bound). Thread-safe."""

    def __init__(self, slots: int, *, wait_s: float = PAGE_SLOT_WAIT_S) -> None:
        if slots < 0:
            raise ValueError("page slots must not be negative")
        self.slots = slots
        self.wait_s = wait_s
        self._free = threading.BoundedSemaphore(slots) if slots else None
        self._local = threading.local()

    def hold(self) -> PageHold:
        """A hold for one listing's pages: takes a slot on :meth:`PageHold.take`, one page at a time."""
        return PageHold(self)

    def _holds(self) -> _ThreadHolds:
        holds: _ThreadHolds | None = getattr(self._local, "holds", None)
        if holds is None:
            holds = self._local.holds = _ThreadHolds()
        return holds

    def __repr__(self) -> str:
        return f"PageSlots({self.slots})"


class PageHold:
    """One listing's claim on a page slot: :meth:`take` before parsing a page, :meth:`give_back` once it
    has been consumed. Both are idempotent; :meth:`give_back` may run on any thread."""

    __slots__ = ("_owner", "_owns_slot", "_slots")

    def __init__(self, slots: PageSlots) -> None:
        self._slots = slots
        self._owner: _ThreadHolds | None = None  # set while held: the holding thread's count
        self._owns_slot = False

    @property
    def held(self) -> bool:
        return self._owner is not None

    def take(self) -> None:
        """Wait for a slot, unless this hold or another of this thread's holds already has one."""
        if self._owner is not None:
            return
        slots = self._slots
        owner = slots._holds()
        if owner.depth == 0 and slots._free is not None:
            self._owns_slot = slots._free.acquire(timeout=slots.wait_s)
            if not self._owns_slot:
                logger.warning(
                    "no page slot free after %.0f s: parsing a page without one (a listing left unfinished "
                    "may keep its slot)",
                    slots.wait_s,
                )
        owner.depth += 1
        self._owner = owner

    def give_back(self) -> None:
        """Release the slot (the page is no longer held)."""
        owner, self._owner = self._owner, None
        if owner is None:
            return
        owner.depth -= 1
        free = self._slots._free
        if self._owns_slot and free is not None:
            self._owns_slot = False
            free.release()
