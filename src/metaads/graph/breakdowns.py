"""Meta's rules for combining insights ``breakdowns`` (checked before any call).

From developers.facebook.com/docs/marketing-api/insights/breakdowns, "Combining Breakdowns": the
breakdowns of one request must all sit in one combinable group (age with gender; the placement
breakdowns with each other); any other breakdown stands alone. ``platform_position`` needs
``publisher_platform`` with it. Action breakdowns combine with any of these.
"""

from __future__ import annotations

from collections.abc import Sequence

from metaads.graph.fields import BREAKDOWNS

COMBINABLE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"age", "gender"}),
    frozenset({"publisher_platform", "platform_position", "device_platform", "impression_device"}),
)
#: A breakdown that is only valid together with another one.
REQUIRES: dict[str, str] = {"platform_position": "publisher_platform"}


def breakdown_problem(breakdowns: Sequence[str]) -> str | None:
    """Why Meta would refuse ``breakdowns`` (unknown name, repeat, combination), or None when valid."""
    for name in breakdowns:
        if name not in BREAKDOWNS:
            return f"unknown breakdown {name!r} (not in the Marketing API's list)"
    chosen = set(breakdowns)
    if len(chosen) != len(breakdowns):
        return "a breakdown is listed twice"
    for name, needed in REQUIRES.items():
        if name in chosen and needed not in chosen:
            return f"{name} needs {needed} in the same report"
    if len(chosen) > 1 and not any(chosen <= group for group in COMBINABLE_GROUPS):
        groups = "; ".join("+".join(sorted(group)) for group in COMBINABLE_GROUPS)
        return (
            f"Meta does not combine {', '.join(breakdowns)}: breakdowns combine only within one group "
            f"({groups}); put the others in separate reports"
        )
    return None
