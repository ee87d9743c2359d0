"""The original design's loading approach, kept only as a benchmark baseline (never used by metaads)."""
