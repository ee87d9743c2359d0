"""Where the Graph API is and which version metaads speaks: the one definition settings and client share."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://graph.facebook.com"
# Marketing API versions live about a year; v27.0 (2026-11-04) is the newest and lasts the longest.
DEFAULT_VERSION = "v27.0"
