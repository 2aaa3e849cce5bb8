"""Named SQL of the dispatchers, kept in dispatch_queries.sql beside this module."""

from __future__ import annotations

from pathlib import Path

from msghub.hub.queries import load_queries

DISPATCH_QUERIES = load_queries(Path(__file__).with_name("dispatch_queries.sql"))
