"""Name pools for the synthetic world: plain, accented, emoji, Arabic (RTL) and CJK on purpose."""

from __future__ import annotations

import random

BUSINESSES = (
    "Acme Holdings",
    "Müller & Söhne GmbH",
    "مجموعة النور",
    "東京商事株式会社",
    "Café Olé SARL",
    "Nordlys AS",
    "Żółta Łódź Sp. z o.o.",
    "Βήτα Α.Ε.",
    "Öz Ticaret A.Ş.",
    "Sunrise 🌅 Media",
)

ACCOUNTS = (
    "Acme EU",
    "Acme US 🇺🇸",
    "Müller DE",
    "متجر الرياض",
    "東京ストア",
    "Café Olé – FR",
    "Nordlys Norge",
    "서울 쇼핑",
    "Ñandú Brasil 🚀",
    "Kiwi Outdoors NZ",
    "Dubai Deals دبي",
    "Żółta Łódź PL",
    "Βήτα Ελλάδα",
    "İstanbul Moda",
    "São Paulo Shop",
    "北京 电商",
    "Mumbai Mart",
)

_CAMPAIGN_THEMES = (
    "Spring Sale 🌸",
    "Black Friday",
    "Rentrée scolaire",
    "تخفيضات رمضان",
    "春季促销",
    "夏のセール",
    "Always-on Prospecting",
    "Retargeting 🔁",
    "Brand Awareness",
    "Lead Gen – Webinar",
    "Ürün Lansmanı",
    "Soldes d'été",
    "Weihnachten 🎄",
    "Año Nuevo",
    "App Installs 📱",
    "新品上市",
    'Summer "Hot" Deals',
    "Cyber Monday",
    "عيد الأضحى",
    "光棍节 11.11",
)

_ADSET_AUDIENCES = (
    "FR 18-34",
    "US 25-54",
    "Lookalike 1% 🇯🇵",
    "Retargeting – 30d",
    "الرياض 25-44",
    "東京 女性",
    "Broad",
    "Interests: Yoga 🧘",
    "DE Männer 35+",
    "Advantage+ Audience",
    "서울 20대",
    "BR 18-24",
    "Cart abandoners 7d",
    "Engagers 365d",
    "Custom: Newsletter",
    "CA/UK 30-60",
)

_AD_CREATIVES = (
    "Video A",
    "Video B",
    "Carousel 🛍️",
    "صورة",
    "動画 15秒",
    "UGC",
    "Static – Hero",
    "Story 9:16",
    "Reel 🎬",
    "Catalogue DPA",
    "広告",
    "Testimonial",
    "Offer 20% off",
    "Collection",
    "Lead form",
)

OBJECTIVES = (
    "OUTCOME_TRAFFIC",
    "OUTCOME_SALES",
    "OUTCOME_AWARENESS",
    "OUTCOME_ENGAGEMENT",
    "OUTCOME_LEADS",
    "OUTCOME_APP_PROMOTION",
)
OBJECTIVE_WEIGHTS = (30, 30, 12, 12, 10, 6)


def campaign_name(rng: random.Random, year: int) -> str:
    return f"{rng.choice(_CAMPAIGN_THEMES)} {year}"


def adset_name(rng: random.Random) -> str:
    return rng.choice(_ADSET_AUDIENCES)


def ad_name(rng: random.Random, number: int) -> str:
    return f"{rng.choice(_AD_CREATIVES)} #{number}"
