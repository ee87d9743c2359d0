"""``action_breakdowns``, ``action_attribution_windows`` and ``action_report_time``: how action lists look.

With action breakdowns each ``actions`` entry also carries the breakdown keys (``action_device``,
``action_destination``, ...); the entries of one action type sum to its unbroken value. Attribution
windows add per-window keys (``"1d_click"``, ``"7d_click"``, ...) to each entry.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from metaads.simulator import catalog, errors
from metaads.simulator.metrics import WINDOWS, allocate, mix, windows_of

ACTION_BREAKDOWNS = catalog.ACTION_BREAKDOWNS
ATTRIBUTION_WINDOWS = catalog.ATTRIBUTION_WINDOWS
ACTION_REPORT_TIMES = catalog.ACTION_REPORT_TIMES
_WINDOW_POS = {name: i + 1 for i, name in enumerate(WINDOWS)}

_VALUES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "action_device": (
        ("iphone", "android_smartphone", "desktop", "ipad", "android_tablet", "other"),
        (1.2, 1.4, 0.5, 0.2, 0.1, 0.05),
    ),
    "action_destination": (("website", "instant_experience", "facebook_page"), (3.0, 0.3, 0.5)),
    "action_reaction": (("like", "love", "haha", "wow", "care", "sad", "angry"), (5.0, 2.0, 0.6, 0.4, 0.3, 0.2, 0.1)),
    "action_video_sound": (("sound_on", "sound_off"), (1.0, 2.0)),
    "action_video_type": (("total", "auto_played", "click_to_play"), (1.0,)),
    "action_carousel_card_id": (("1", "2", "3"), (3.0, 2.0, 1.0)),
    "action_carousel_card_name": (("Card 1", "Card 2", "Card 3"), (3.0, 2.0, 1.0)),
    "conversion_destination": (("website", "app", "messenger"), (4.0, 0.6, 0.3)),
    "is_business_ai_assisted": (("false", "true"), (9.0, 1.0)),
}


def validate(action_breakdowns: Sequence[str], windows: Sequence[str], report_time: str | None) -> None:
    """Code 100 for values outside the SDK's lists (as Meta words it for enum parameters)."""
    for name, given, allowed in (
        ("action_breakdowns", action_breakdowns, ACTION_BREAKDOWNS),
        ("action_attribution_windows", windows, ATTRIBUTION_WINDOWS),
    ):
        for position, value in enumerate(given):
            if value not in allowed:
                raise errors.invalid_param(
                    f"{name}[{position}] must be one of the following values: {', '.join(allowed)}"
                )
    if report_time is not None and report_time not in ACTION_REPORT_TIMES:
        raise errors.invalid_param(f"param action_report_time must be one of {{{', '.join(ACTION_REPORT_TIMES)}}}")


def _labels(account_id: str, dim: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if dim == "action_target_id":
        # The Facebook page (or app) the action was on: the account's page ids.
        h = mix(int(account_id) ^ 0x7A3C)
        return (str(10**14 + h % 10**14), str(10**14 + (h >> 20) % 10**14)), (3.0, 1.0)
    labels, shape = _VALUES.get(dim, (("unknown",), (1.0,)))
    if len(shape) < len(labels):
        shape = shape + (0.0,) * (len(labels) - len(shape))  # "total" only: the other values stay empty
    return labels, shape


@functools.lru_cache(maxsize=4096)
def _split_plan(account_id: str, kind: str, dims: tuple[str, ...]) -> tuple[list[dict[str, str]], list[float]]:
    """The sub-entries of one action type and their weights (fixed per account and type)."""
    axes = []
    for dim in dims:
        labels, shape = _labels(account_id, dim)
        h = mix(int(account_id) ^ hash_text(kind + "|" + dim))
        weights = []
        for i, base in enumerate(shape):
            h = mix(h + i)
            weights.append(base * (0.5 + (h & 0xFFFF) / 65536.0))
        axes.append([({dim: label}, w) for label, w in zip(labels, weights, strict=True) if w > 0])
    keys, weights = [], []
    for combo in itertools.product(*axes):
        merged: dict[str, str] = {}
        weight = 1.0
        for labels_part, w in combo:
            merged.update(labels_part)
            weight *= w
        keys.append(merged)
        weights.append(weight)
    return keys, weights


def hash_text(text: str) -> int:
    """A stable 64-bit hash of a string (Python's ``hash`` is salted per process)."""
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def action_entries(
    part: dict[str, Any],
    fmt: Callable[[int], str],
    *,
    account_id: str,
    windows: Sequence[str],
    action_breakdowns: Sequence[str],
) -> list[dict[str, str]]:
    """``actions``-style entries of ``part`` (type -> count, or window vector), with breakdown keys."""
    wanted = [(name, _WINDOW_POS[name]) for name in windows if name in _WINDOW_POS]
    dims = tuple(d for d in action_breakdowns if d != "action_type")
    out: list[dict[str, str]] = []
    for kind, value in part.items():
        vector = value if not isinstance(value, int) else (windows_of(value) if wanted else [value])
        if not dims:
            out.append(_entry(kind, vector, fmt, wanted, {}))
            continue
        keys, weights = _split_plan(account_id, kind, dims)
        columns = [allocate(component, weights) for component in vector]
        for i, labels in enumerate(keys):
            sub = [column[i] for column in columns]
            if sub[0]:
                out.append(_entry(kind, sub, fmt, wanted, labels))
    return out


def _entry(
    kind: str, vector: Sequence[int], fmt: Callable[[int], str], wanted: list[tuple[str, int]], labels: dict[str, str]
) -> dict[str, str]:
    item = {"action_type": kind, **labels, "value": fmt(vector[0])}
    for name, pos in wanted:
        if vector[pos]:
            item[name] = fmt(vector[pos])
    return item
