"""Audit log of every sensitive change. Use `from marketplace import audit; audit.record(...)`."""
from marketplace.audit.services import insert_values, record, search, values

__all__ = ["insert_values", "record", "search", "values"]
