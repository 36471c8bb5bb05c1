"""Audit log of every sensitive change. Use `from marketplace import audit; audit.record(...)`."""
from marketplace.audit.services import insert, record, search

__all__ = ["insert", "record", "search"]
