"""Audit log of every sensitive change. Use `from marketplace import audit; audit.record(...)`."""
from marketplace.audit.services import record, search

__all__ = ["record", "search"]
