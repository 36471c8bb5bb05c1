"""Audit log of every sensitive change. Use `from marketplace import audit; audit.record(...)`;
each action has its kind (label and sentence) in marketplace/audit/kinds.py."""
from marketplace.audit import kinds  # noqa: F401 - fills the registry of action kinds
from marketplace.audit.sentences import KINDS, Reader, Ref, describe
from marketplace.audit.services import UnknownAction, insert_values, record, search, values

__all__ = ["KINDS", "Reader", "Ref", "UnknownAction", "describe", "insert_values", "record",
           "search", "values"]
