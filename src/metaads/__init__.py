"""metaads: Meta Marketing API ads insights -> PostgreSQL warehouse -> analytics database."""

from __future__ import annotations

__version__ = "0.1.0"
