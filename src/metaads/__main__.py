from __future__ import annotations

from metaads.cli import main

main()
