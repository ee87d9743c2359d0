"""What an ad account holds besides campaigns: creatives, images, videos, custom conversions and audiences.

Derived deterministically from the world (one creative per ad, an image or a video per creative), so the
world itself stays small and every run agrees. Ids never collide with campaign / ad set / ad ids.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from metaads.simulator.metrics import mix
from metaads.simulator.world import AdAccount

_CTAS = ("SHOP_NOW", "LEARN_MORE", "SIGN_UP", "DOWNLOAD", "GET_OFFER", "BOOK_TRAVEL", "CONTACT_US")
_BODIES = (
    "New season, new looks. Free delivery this week only.",
    "Des prix doux pour l'été ☀️ – livraison offerte.",
    "Jetzt entdecken: die neue Kollektion.",
    "今だけ送料無料！",
    "Limited stock — don't miss out 🚀",
)
_EVENTS = ("PURCHASE", "LEAD", "ADD_TO_CART", "COMPLETE_REGISTRATION", "INITIATED_CHECKOUT")
_AUDIENCES = (
    ("Website visitors 30d", "WEBSITE"),
    ("Purchasers 180d", "WEBSITE"),
    ("Customer list", "CUSTOM"),
    ("Lookalike (FR, 1%) - Purchasers", "LOOKALIKE"),
    ("Engaged with page 365d", "ENGAGEMENT"),
)


@dataclass(frozen=True, slots=True)
class Creative:
    id: str
    account_id: str
    ad_id: str
    name: str
    title: str
    body: str
    call_to_action_type: str
    link_url: str
    image_hash: str | None
    video_id: str | None
    page_id: str
    post_id: str
    created_time: datetime


@dataclass(frozen=True, slots=True)
class Image:
    account_id: str
    hash: str
    name: str
    width: int
    height: int
    created_time: datetime


@dataclass(frozen=True, slots=True)
class Video:
    id: str
    account_id: str
    title: str
    length: float
    created_time: datetime


@dataclass(frozen=True, slots=True)
class CustomConversion:
    id: str
    account_id: str
    name: str
    custom_event_type: str
    pixel_id: str
    rule: str
    created_time: datetime


@dataclass(frozen=True, slots=True)
class CustomAudience:
    id: str
    account_id: str
    name: str
    subtype: str
    size: int
    created_time: datetime


@dataclass(frozen=True)
class AccountAssets:
    page_id: str
    pixel_id: str
    creatives: tuple[Creative, ...]
    images: tuple[Image, ...]
    videos: tuple[Video, ...]
    custom_conversions: tuple[CustomConversion, ...]
    custom_audiences: tuple[CustomAudience, ...]

    @cached_property
    def creative_by_ad(self) -> dict[str, Creative]:
        """Each ad's creative by ad id (listing thousands of ads looks one up per ad)."""
        return {creative.ad_id: creative for creative in self.creatives}


def _derived_id(prefix: str, source: str) -> str:
    """A numeric id of 16 digits from another object's id; the prefix keeps each kind apart."""
    return prefix + source[-14:].rjust(14, "0")


def _build(account: AdAccount) -> AccountAssets:
    seed = mix(int(account.id))
    page_id = str(10**14 + seed % 10**14)
    pixel_id = str(10**14 + (seed >> 17) % 10**14)
    domain = "shop.example.com"
    creatives, images, videos = [], [], []
    for ad in account.ads:
        h = mix(ad.seed ^ 0xC4EA71)
        creative_id = _derived_id("12", ad.id)
        video_id = image_hash = None
        if ad.video:
            video_id = _derived_id("31", ad.id)
            videos.append(Video(video_id, account.id, f"{ad.name} (video)", 6.0 + (h % 5400) / 100, ad.created_time))
        else:
            image_hash = hashlib.md5(ad.id.encode(), usedforsecurity=False).hexdigest()
            width = (1080, 1200, 1080)[h % 3]
            height = (1080, 628, 1920)[h % 3]
            images.append(Image(account.id, image_hash, f"{ad.name}.jpg", width, height, ad.created_time))
        creatives.append(
            Creative(
                id=creative_id,
                account_id=account.id,
                ad_id=ad.id,
                name=f"{ad.name} creative",
                title=ad.name,
                body=_BODIES[h % len(_BODIES)],
                call_to_action_type=_CTAS[(h >> 8) % len(_CTAS)],
                link_url=f"https://{domain}/p/{int(ad.id) % 100000}",
                image_hash=image_hash,
                video_id=video_id,
                page_id=page_id,
                post_id=_derived_id("41", ad.id),
                created_time=ad.created_time - timedelta(minutes=5),
            )
        )
    conversions = tuple(
        CustomConversion(
            id=_derived_id("51", f"{account.id[-12:]}{i:02d}"),
            account_id=account.id,
            name=f"{event.replace('_', ' ').title()} - {domain}",
            custom_event_type=event,
            pixel_id=pixel_id,
            rule=f'{{"and":[{{"event":{{"eq":"{event.title()}"}}}},{{"URL":{{"i_contains":"{domain}"}}}}]}}',
            created_time=account.created_time + timedelta(days=30 + 40 * i),
        )
        for i, event in enumerate(_EVENTS[: 2 + seed % 4])
    )
    audiences = tuple(
        CustomAudience(
            id=_derived_id("61", f"{account.id[-12:]}{i:02d}"),
            account_id=account.id,
            name=name,
            subtype=subtype,
            size=1000 * (1 + (seed >> (4 * i)) % 900),
            created_time=account.created_time + timedelta(days=20 + 55 * i),
        )
        for i, (name, subtype) in enumerate(_AUDIENCES[: 2 + (seed >> 9) % 4])
    )
    return AccountAssets(
        page_id=page_id,
        pixel_id=pixel_id,
        creatives=tuple(creatives),
        images=tuple(images),
        videos=tuple(videos),
        custom_conversions=conversions,
        custom_audiences=audiences,
    )


class Assets:
    """Per-account assets, built on first use (thread-safe)."""

    def __init__(self) -> None:
        self._by_account: dict[str, AccountAssets] = {}
        self._lock = threading.Lock()

    def of(self, account: AdAccount) -> AccountAssets:
        with self._lock:
            found = self._by_account.get(account.id)
            if found is None:
                found = self._by_account[account.id] = _build(account)
            return found
