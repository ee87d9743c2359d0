"""Insights breakdowns (``age``, ``gender``, ``country``, ``publisher_platform``, ``device_platform``).

Each ad splits its daily figures over the breakdown buckets with fixed per-ad weights, so bucket rows
sum back to the unbroken row (see :func:`metaads.simulator.metrics.split_record`).
"""

from __future__ import annotations

import functools
import itertools

from metaads.simulator.metrics import mix
from metaads.simulator.world import Ad, AdAccount

_AGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_SHAPE = (1.2, 1.6, 1.3, 0.9, 0.6, 0.4)
_GENDERS = ("female", "male", "unknown")
_GENDER_SHAPE = (1.0, 1.0, 0.06)
_PLATFORMS = ("facebook", "instagram", "audience_network", "messenger")
_PLATFORM_SHAPE = (1.0, 1.1, 0.2, 0.1)
_DEVICES = ("mobile_app", "mobile_web", "desktop")
_DEVICE_SHAPE = (1.5, 0.4, 0.3)
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
_NEIGHBOURS = ("US", "GB", "DE", "FR", "CA", "ES", "IT", "NL", "SA", "JP", "BR", "MX")

BREAKDOWNS = ("age", "gender", "country", "publisher_platform", "device_platform")


def _countries(account_id: str, timezone_name: str) -> tuple[str, ...]:
    home = _HOME.get(timezone_name, "US")
    h = mix(int(account_id))
    others = [c for c in _NEIGHBOURS if c != home]
    picked = [others[(h >> (8 * i)) % len(others)] for i in range(3)]
    return tuple(dict.fromkeys([home, *picked]))


def _values(account_id: str, timezone_name: str, dim: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if dim == "age":
        return _AGES, _AGE_SHAPE
    if dim == "gender":
        return _GENDERS, _GENDER_SHAPE
    if dim == "publisher_platform":
        return _PLATFORMS, _PLATFORM_SHAPE
    if dim == "device_platform":
        return _DEVICES, _DEVICE_SHAPE
    countries = _countries(account_id, timezone_name)
    return countries, tuple([3.0] + [1.0] * (len(countries) - 1))


def buckets(account: AdAccount, dims: tuple[str, ...]) -> list[dict[str, str]]:
    """Every combination of the breakdown values, in the order rows are returned."""
    axes = [_values(account.id, account.timezone_name, dim)[0] for dim in dims]
    return [dict(zip(dims, combo, strict=True)) for combo in itertools.product(*axes)]


def bucket_weights(account: AdAccount, ad: Ad, dims: tuple[str, ...]) -> list[float]:
    """The ad's share of each combination of ``dims`` (fixed per ad, so reruns agree)."""
    return _weights(account.id, account.timezone_name, ad.seed, dims)


@functools.lru_cache(maxsize=65536)
def _weights(account_id: str, timezone_name: str, seed: int, dims: tuple[str, ...]) -> list[float]:
    per_dim = []
    for dim in dims:
        labels, shape = _values(account_id, timezone_name, dim)
        h = mix(seed ^ (BREAKDOWNS.index(dim) + 1) * 0x2545F4914F6CDD1D & 0xFFFFFFFFFFFFFFFF)
        weights = []
        for i, base in enumerate(shape):
            h = mix(h + i)
            weights.append(base * (0.5 + (h & 0xFFFF) / 65536.0))
        per_dim.append(weights)
    return [_product(combo) for combo in itertools.product(*per_dim)]


def _product(values: tuple[float, ...]) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out
