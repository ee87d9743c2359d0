"""Watching metaads run: alerts and metrics."""
