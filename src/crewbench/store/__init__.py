"""runs.db: the only owner of the results database (schema in docs/runs-db.md)."""

from crewbench.store.store import SCHEMA_VERSION, Store

__all__ = ["SCHEMA_VERSION", "Store"]
