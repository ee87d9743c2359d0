"""Insights ``breakdowns``: which exist (the SDK's list), which combine, and each one's values.

Each ad splits its daily figures over the breakdown buckets with fixed per-ad weights, so bucket rows
sum back to the unbroken row (see :func:`metaads.simulator.metrics.split_record`). Breakdowns without a
model here answer one bucket, ``"unknown"`` (Meta's own value when a dimension does not apply).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

from metaads.simulator import catalog, errors
from metaads.simulator.metrics import mix
from metaads.simulator.world import Ad, AdAccount

BREAKDOWNS = catalog.BREAKDOWNS

_AGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_SHAPE = (1.2, 1.6, 1.3, 0.9, 0.6, 0.4)
_GENDERS = ("female", "male", "unknown")
_GENDER_SHAPE = (1.0, 1.0, 0.06)
_PLATFORMS = ("facebook", "instagram", "audience_network", "messenger")
_PLATFORM_SHAPE = (1.0, 1.1, 0.2, 0.1)
#: platform_position values per publisher_platform (Meta's placement names).
_POSITIONS = {
    "facebook": ("feed", "facebook_reels", "facebook_stories", "marketplace", "video_feeds", "right_hand_column"),
    "instagram": ("stream", "story", "reels", "explore", "profile_feed"),
    "audience_network": ("classic", "rewarded_video"),
    "messenger": ("messenger_inbox", "messenger_stories"),
}
_DEVICES = ("mobile_app", "mobile_web", "desktop")
_DEVICE_SHAPE = (1.5, 0.4, 0.3)
_IMPRESSION_DEVICES = ("iphone", "android_smartphone", "ipad", "android_tablet", "desktop", "other")
_IMPRESSION_DEVICE_SHAPE = (1.2, 1.4, 0.2, 0.1, 0.4, 0.05)
_HOURS = tuple(f"{h:02d}:00:00 - {h:02d}:59:59" for h in range(24))
_HOUR_SHAPE = tuple(0.3 + (1.0 if 8 <= h <= 22 else 0.2) * (1.2 if 18 <= h <= 21 else 1.0) for h in range(24))
_FREQUENCIES = ("1", "2", "3", "4", "5", "6-10", "11-20", "21+")
_FREQUENCY_SHAPE = (3.0, 1.5, 0.9, 0.6, 0.4, 0.6, 0.2, 0.05)
_HOME = {
    "America/Los_Angeles": "US",
    "America/New_York": "US",
    "Europe/Paris": "FR",
    "Europe/Berlin": "DE",
    "Asia/Tokyo": "JP",
    "Europe/London": "GB",
    "America/Sao_Paulo": "BR",
    "Asia/Kolkata": "IN",
    "Australia/Sydney": "AU",
    "Asia/Seoul": "KR",
    "Pacific/Auckland": "NZ",
    "Asia/Dubai": "AE",
}
_REGIONS = {
    "US": ("California", "Texas", "New York", "Florida", "Illinois"),
    "FR": ("Île-de-France", "Auvergne-Rhône-Alpes", "Occitanie", "Hauts-de-France"),
    "DE": ("Bavaria", "Berlin", "North Rhine-Westphalia", "Hamburg"),
    "JP": ("Tokyo", "Osaka", "Kanagawa", "Aichi"),
    "GB": ("England", "Scotland", "Wales", "Northern Ireland"),
    "BR": ("São Paulo (state)", "Rio de Janeiro (state)", "Minas Gerais", "Bahia"),
    "IN": ("Maharashtra", "Karnataka", "Delhi", "Tamil Nadu"),
    "AU": ("New South Wales", "Victoria", "Queensland", "Western Australia"),
    "KR": ("Seoul", "Gyeonggi-do", "Busan", "Incheon"),
    "NZ": ("Auckland Region", "Wellington Region", "Canterbury"),
    "AE": ("Dubai", "Abu Dhabi", "Sharjah"),
}
_DMAS = ("New York", "Los Angeles", "Chicago", "Philadelphia", "Dallas-Ft. Worth", "San Francisco-Oak-San Jose")
_NEIGHBOURS = ("US", "GB", "DE", "FR", "CA", "ES", "IT", "NL", "SA", "JP", "BR", "MX")

#: Meta's combinable groups (developers.facebook.com/docs/marketing-api/insights/breakdowns, "Combining
#: Breakdowns"): a request's breakdowns must all sit in one group; any other breakdown stands alone.
_GROUPS = (
    frozenset({"age", "gender"}),
    frozenset({"publisher_platform", "platform_position", "device_platform", "impression_device"}),
)
#: A breakdown that needs another one with it.
_NEEDS = {"platform_position": "publisher_platform"}


def validate(breakdowns: Sequence[str], action_breakdowns: Sequence[str]) -> None:
    """Code 100 for an unknown breakdown or a combination Meta refuses."""
    for position, name in enumerate(breakdowns):
        if name not in BREAKDOWNS:
            raise errors.invalid_param(
                f"breakdowns[{position}] must be one of the following values: {', '.join(BREAKDOWNS)}"
            )
    chosen = set(breakdowns)
    if len(chosen) != len(breakdowns):
        raise _invalid_combination(breakdowns, action_breakdowns)
    ok = len(chosen) <= 1 or any(chosen <= group for group in _GROUPS)
    ok = ok and all(needed in chosen for name, needed in _NEEDS.items() if name in chosen)
    if not ok:
        raise _invalid_combination(breakdowns, action_breakdowns)


def _invalid_combination(breakdowns: Sequence[str], action_breakdowns: Sequence[str]) -> errors.GraphError:
    # Meta's wording lists the action breakdowns first (action_type by default), then the breakdowns.
    columns = ", ".join([*(action_breakdowns or ("action_type",)), *breakdowns])
    return errors.invalid_param(f"Current combination of data breakdown columns ({columns}) is invalid")


def _countries(account_id: str, timezone_name: str) -> tuple[str, ...]:
    home = _HOME.get(timezone_name, "US")
    h = mix(int(account_id))
    others = [c for c in _NEIGHBOURS if c != home]
    picked = [others[(h >> (8 * i)) % len(others)] for i in range(3)]
    return tuple(dict.fromkeys([home, *picked]))


def _values(account_id: str, timezone_name: str, dim: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    fixed = {
        "age": (_AGES, _AGE_SHAPE),
        "gender": (_GENDERS, _GENDER_SHAPE),
        "publisher_platform": (_PLATFORMS, _PLATFORM_SHAPE),
        "device_platform": (_DEVICES, _DEVICE_SHAPE),
        "impression_device": (_IMPRESSION_DEVICES, _IMPRESSION_DEVICE_SHAPE),
        "hourly_stats_aggregated_by_advertiser_time_zone": (_HOURS, _HOUR_SHAPE),
        "hourly_stats_aggregated_by_audience_time_zone": (_HOURS, _HOUR_SHAPE),
        "frequency_value": (_FREQUENCIES, _FREQUENCY_SHAPE),
        "dma": (_DMAS, (2.0, 1.6, 1.0, 0.8, 0.8, 0.9)),
    }
    if dim in fixed:
        return fixed[dim]
    if dim == "country":
        countries = _countries(account_id, timezone_name)
        return countries, tuple([3.0] + [1.0] * (len(countries) - 1))
    if dim == "region":
        regions = _REGIONS.get(_HOME.get(timezone_name, "US"), _REGIONS["US"])
        return regions, tuple(1.0 / (i + 1) for i in range(len(regions)))
    return ("unknown",), (1.0,)


def _axes(
    account_id: str, timezone_name: str, dims: tuple[str, ...]
) -> list[tuple[str, list[dict[str, str]], list[float]]]:
    """One axis per breakdown: (name, labels, base weights); platform_position rides on its platform."""
    axes = []
    for dim in dims:
        if dim == "platform_position":
            continue
        labels, shape = _values(account_id, timezone_name, dim)
        if dim == "publisher_platform" and "platform_position" in dims:
            pairs = [
                ({dim: p, "platform_position": pos}, w / (1 + i))
                for p, w in zip(labels, shape, strict=True)
                for i, pos in enumerate(_POSITIONS[p])
            ]
            axes.append((dim, [pair[0] for pair in pairs], [pair[1] for pair in pairs]))
        else:
            axes.append((dim, [{dim: label} for label in labels], list(shape)))
    return axes


def buckets(account: AdAccount, dims: tuple[str, ...]) -> list[dict[str, str]]:
    """Every combination of the breakdown values, in the order rows are returned."""
    out = []
    for combo in itertools.product(*(axis[1] for axis in _axes(account.id, account.timezone_name, dims))):
        labels: dict[str, str] = {}
        for part in combo:
            labels.update(part)
        out.append({dim: labels[dim] for dim in dims})
    return out


def bucket_weights(account: AdAccount, ad: Ad, dims: tuple[str, ...]) -> list[float]:
    """The ad's share of each combination of ``dims`` (fixed per ad, so reruns agree)."""
    return _weights(account.id, account.timezone_name, ad.seed, dims)


@functools.lru_cache(maxsize=65536)
def _weights(account_id: str, timezone_name: str, seed: int, dims: tuple[str, ...]) -> list[float]:
    per_axis = []
    for dim, _, shape in _axes(account_id, timezone_name, dims):
        h = mix(seed ^ _dim_key(dim) * 0x2545F4914F6CDD1D & 0xFFFFFFFFFFFFFFFF)
        weights = []
        for i, base in enumerate(shape):
            h = mix(h + i)
            weights.append(base * (0.5 + (h & 0xFFFF) / 65536.0))
        per_axis.append(weights)
    return [_product(combo) for combo in itertools.product(*per_axis)]


#: Keys of the first modelled breakdowns, kept so their figures stay what earlier versions produced.
_DIM_KEYS = {"age": 1, "gender": 2, "country": 3, "publisher_platform": 4, "device_platform": 5}


def _dim_key(dim: str) -> int:
    return _DIM_KEYS.get(dim) or 6 + BREAKDOWNS.index(dim)


def _product(values: tuple[float, ...]) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out
