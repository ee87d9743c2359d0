"""Daily figures per ad, generated lazily from a hash of (ad, day[, age]) and summed for higher levels.

A figure set ("record") is a list of integers so that summing ad-level records gives higher levels
*exactly* (account-level spend equals the sum of ad-level spend to the cent)::

    [impressions, reach, clicks, inline_link_clicks, spend_minor, outbound_clicks, actions, values]

``actions`` maps action type to a count in tenths (15 tenths are sent as ``"1.5"``); ``values`` maps it
to minor currency units. Either is ``None`` when the ad had none. When attribution windows are asked
for, :func:`sum_records` turns the counts into window vectors (``[value, 1d_click, 7d_click, 28d_click,
1d_view, 7d_view, 28d_view]``) per ad *before* summing, so higher levels stay exact sums. Figures
younger than ``restatement_days`` are restated (smaller, noisier) depending on their age in days;
older ones never change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from metaads.simulator.world import Ad

Record = list[Any]
IMPRESSIONS, REACH, CLICKS, INLINE, SPEND, OUTBOUND, ACTIONS, VALUES = range(8)

WINDOWS = ("1d_click", "7d_click", "28d_click", "1d_view", "7d_view", "28d_view")
_WINDOW_POS = {name: i + 1 for i, name in enumerate(WINDOWS)}

_M64 = 0xFFFFFFFFFFFFFFFF
_DAY_KEY = 0x9E3779B97F4A7C15
_AGE_KEY = 0xD1B54A32D192ED03
_U16 = 1.0 / 65536.0
_TWO_PI = 2.0 * math.pi
# Mild weekly seasonality, indexed by ordinal % 7 (0 = Sunday).
_WEEKLY = (0.92, 1.04, 1.06, 1.05, 1.03, 1.0, 0.9)

_SALES_TYPES = ("offsite_conversion.fb_pixel_purchase", "purchase", "omni_purchase")


def mix(x: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def windows_of(tenths: int) -> list[int]:
    """Split a count into the attribution-window vector (default = 7d_click + 1d_view)."""
    click7 = tenths * 4 // 5
    view1 = tenths - click7
    click1 = click7 * 3 // 4
    view7 = view1 + tenths // 25
    return [tenths, click1, click7, click7 + tenths // 20, view1, view7, view7 + tenths // 25]


def ad_day(ad: Ad, ordinal: int, age: int, restatement_days: int, scale: float = 1.0) -> Record | None:
    """The figures of ``ad`` on local day ``ordinal`` as seen ``age`` days later; None = no delivery.

    Days younger than ``restatement_days`` are restated: ``scale`` sizes the changes (0 = none).
    """
    h = mix(ad.seed ^ (ordinal * _DAY_KEY & _M64))
    if (h & 0xFFFF) * _U16 >= ad.p_deliver:
        return None
    u1 = (((h >> 16) & 0xFFFF) + 1) / 65537.0
    u2 = ((h >> 32) & 0xFFFF) * _U16
    u3 = ((h >> 48) & 0xFFFF) * _U16
    gauss = math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)
    impressions = max(1, int(ad.base_impressions * _WEEKLY[ordinal % 7] * math.exp(0.5 * gauss)))
    h2 = mix(h)
    u4 = (h2 & 0xFFFF) * _U16
    u5 = ((h2 >> 16) & 0xFFFF) * _U16
    u6 = ((h2 >> 32) & 0xFFFF) * _U16
    u7 = ((h2 >> 48) & 0xFFFF) * _U16
    clicks = min(impressions, int(impressions * ad.ctr * (0.6 + 0.8 * u3) + u4))
    inline = min(clicks, int(clicks * ad.link_share + u5))
    spend = int(impressions * ad.cpm_minor * (0.8 + 0.4 * u6) / 1000.0 + 0.5)
    reach = max(1, int(impressions / (1.0 + 0.6 * u7)))

    settle = 0.0
    if age < restatement_days and scale > 0:
        # Attribution settles: young figures are smaller and move a little every day until 28 days.
        settle = scale * (restatement_days - age) / restatement_days
        h3 = mix(h ^ (age * _AGE_KEY & _M64))
        r1 = (h3 & 0xFFFF) * _U16 - 0.5
        r2 = ((h3 >> 16) & 0xFFFF) * _U16 - 0.5
        impressions = max(1, int(impressions * (1.0 + 0.02 * settle * r1)))
        reach = max(1, min(reach, impressions))
        clicks = min(impressions, int(clicks * (1.0 + 0.03 * settle * r2)))
        inline = min(inline, clicks)
        spend = max(0, int(spend * (1.0 + 0.01 * settle * r1)))
    outbound = inline * 9 // 10

    actions: dict[str, int] | None = None
    values: dict[str, int] | None = None
    if ad.has_actions:
        h4 = mix(h2 ^ 0x5DEECE66D)
        v1 = (h4 & 0xFFFF) * _U16
        v2 = ((h4 >> 16) & 0xFFFF) * _U16
        v3 = ((h4 >> 32) & 0xFFFF) * _U16
        v4 = ((h4 >> 48) & 0xFFFF) * _U16
        settled = max(0.0, 1.0 - 0.3 * settle * v4)
        counts: dict[str, int] = {}
        if inline:
            counts["link_click"] = inline * 10
            landing = int(inline * 0.8 * settled)
            if landing:
                counts["landing_page_view"] = landing * 10
        reactions = int(impressions * 0.003 * v1)
        engagement = inline + reactions + int(impressions * 0.002 * v2)
        if engagement:
            counts["post_engagement"] = engagement * 10
            counts["page_engagement"] = (engagement + reactions // 3) * 10
        if reactions:
            counts["post_reaction"] = reactions * 10
        if ad.video:
            views = int(impressions * 0.22 * (0.5 + v3))
            if views:
                counts["video_view"] = views * 10
        expected = inline * ad.conversion_rate * settled
        conversions = int(expected + v3)
        if conversions:
            # Modelled conversions make some counts fractional ("1.5").
            tenths = conversions * 10 - (5 if v2 < 0.15 else 0)
            order_value = int(tenths * ad.order_value_minor * (0.7 + 0.6 * v1) / 10.0)
            values = {}
            for kind in _SALES_TYPES:
                counts[kind] = tenths
                values[kind] = order_value
            counts["add_to_cart"] = (conversions * 3 + int(v4 * 3)) * 10
        if counts:
            actions = counts
    return [impressions, reach, clicks, inline, spend, outbound, actions, values]


#: Action types whose counts (and values) can be reported on a later day with action_report_time=conversion.
CONVERSION_TYPES = (*_SALES_TYPES, "add_to_cart", "landing_page_view")


def _shift_share(ad: Ad, ordinal: int) -> float:
    """The share of the ad-day's conversions that happen (are reported) the next day, 0.15-0.55."""
    return 0.15 + 0.4 * (mix(ad.seed ^ 0x3C6EF372FE94F82B ^ (ordinal * _DAY_KEY & _M64)) & 0xFFFF) * _U16


def _moved(rec: Record | None, share: float) -> tuple[dict[str, int], dict[str, int]]:
    if rec is None:
        return {}, {}
    out: list[dict[str, int]] = []
    for slot in (ACTIONS, VALUES):
        part = rec[slot] or {}
        out.append({k: int(part[k] * share) for k in CONVERSION_TYPES if k in part and int(part[k] * share)})
    return out[0], out[1]


def at_conversion_time(
    ad: Ad, ordinal: int, rec: Record | None, previous: Record | None, *, moves_out: bool, moves_in: bool
) -> Record | None:
    """The ad-day with ``action_report_time=conversion``: part of its conversions move to the next day.

    ``moves_out``: the next day is in the request's range (so totals over the range are preserved);
    ``moves_in``: the previous day is, and its moved conversions arrive here (``previous`` is its record).
    """
    out_actions, out_values = _moved(rec, _shift_share(ad, ordinal)) if moves_out else ({}, {})
    in_actions, in_values = _moved(previous, _shift_share(ad, ordinal - 1)) if moves_in else ({}, {})
    if not (out_actions or out_values or in_actions or in_values):
        return rec
    result: Record = list(rec) if rec is not None else [0, 0, 0, 0, 0, 0, None, None]
    for slot, minus, plus in ((ACTIONS, out_actions, in_actions), (VALUES, out_values, in_values)):
        part = dict(result[slot] or {})
        for kind, value in minus.items():
            part[kind] -= value
        for kind, value in plus.items():
            part[kind] = part.get(kind, 0) + value
        result[slot] = {k: v for k, v in part.items() if v} or None
    return result


def sum_records(records: Sequence[Record], *, windows: bool = False) -> Record:
    """Sum figures; reach is not additive, so it gets a plausible overlap-discounted value.

    With ``windows`` the action figures become window vectors, split per ad before summing.
    """
    if len(records) == 1 and not windows:
        return records[0]
    total: Record = [0, 0, 0, 0, 0, 0, None, None]
    for rec in records:
        for i in range(6):
            total[i] += rec[i]
        for slot in (ACTIONS, VALUES):
            part = rec[slot]
            if part:
                acc = total[slot]
                if acc is None:
                    acc = total[slot] = {}
                for kind, value in part.items():
                    have = acc.get(kind)
                    if windows:
                        vector = windows_of(value) if isinstance(value, int) else value
                        if have is None:
                            acc[kind] = list(vector)
                        else:
                            for j, v in enumerate(vector):
                                have[j] += v
                    else:
                        acc[kind] = value if have is None else have + value
    if len(records) == 1:
        return total
    overlap = 1.0 / (1.0 + 0.15 * math.log(len(records)))
    total[REACH] = max(1, min(total[IMPRESSIONS], int(total[REACH] * overlap)))
    return total


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split an integer by weights (largest remainder): the parts always sum to ``total``."""
    wsum = sum(weights)
    if total == 0 or wsum <= 0:
        return [0] * len(weights)
    raw = [total * w / wsum for w in weights]
    parts = [int(x) for x in raw]
    short = total - sum(parts)
    if short:
        order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
        for i in order[:short]:
            parts[i] += 1
    return parts


def split_record(rec: Record, weights: Sequence[float]) -> list[Record]:
    """Split one record into breakdown buckets whose figures sum back to ``rec``."""
    n = len(weights)
    impressions = allocate(rec[IMPRESSIONS], weights)
    # Other figures only go where there were impressions, so no bucket shows clicks without impressions.
    live = [w if impressions[i] else 0.0 for i, w in enumerate(weights)]
    if not any(live):
        live = list(weights)
    columns = [impressions] + [allocate(rec[i], live) for i in (REACH, CLICKS, INLINE, SPEND, OUTBOUND)]
    parts: list[Record] = [
        [columns[0][i], columns[1][i], columns[2][i], columns[3][i], columns[4][i], columns[5][i], None, None]
        for i in range(n)
    ]
    for slot in (ACTIONS, VALUES):
        source = rec[slot]
        if not source:
            continue
        for kind, value in source.items():
            split = allocate(value, live)
            for i in range(n):
                if split[i]:
                    bucket = parts[i][slot]
                    if bucket is None:
                        bucket = parts[i][slot] = {}
                    bucket[kind] = split[i]
    return parts


# --------------------------------------------------------------------------- formatting as the API does


def money(minor: int, exponent: int) -> str:
    """Minor units as the API's decimal string: ``1435`` -> ``"14.35"`` (``"1435"`` for JPY)."""
    if exponent == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{frac:0{exponent}d}"


def tenths(value: int) -> str:
    """Counts in tenths: ``70`` -> ``"7"``, ``15`` -> ``"1.5"``."""
    whole, frac = divmod(value, 10)
    return str(whole) if frac == 0 else f"{whole}.{frac}"


def ratio(value: float) -> str:
    """A computed rate as Meta prints it: up to 6 decimals, trailing zeros dropped."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def action_list(part: dict[str, Any], fmt: Any, windows: Sequence[str]) -> list[dict[str, str]]:
    """``actions`` / ``action_values`` entries, with per-window keys when windows were requested."""
    wanted = [(name, _WINDOW_POS[name]) for name in windows if name in _WINDOW_POS]
    out = []
    for kind, value in part.items():
        if isinstance(value, int):
            item = {"action_type": kind, "value": fmt(value)}
            if wanted:
                value = windows_of(value)
        else:
            item = {"action_type": kind, "value": fmt(value[0])}
        for name, pos in wanted:
            if value[pos]:
                item[name] = fmt(value[pos])
        out.append(item)
    return out


def action_total(part: dict[str, Any] | None, kind: str) -> int:
    """The default-window figure of one action type (0 when absent)."""
    if not part or kind not in part:
        return 0
    value = part[kind]
    return value if isinstance(value, int) else int(value[0])


def dropped(ad: Ad, ordinal: int, rate: float) -> bool:
    """Whether the ad-day is one of the ``rate`` share silently missing below account level (stable)."""
    return (mix(ad.seed ^ 0x6A09E667F3BCC909 ^ (ordinal * _DAY_KEY & _M64)) & 0xFFFF) * _U16 < rate


def is_empty(rec: Record) -> bool:
    return not (rec[IMPRESSIONS] or rec[SPEND] or rec[CLICKS] or rec[ACTIONS])
