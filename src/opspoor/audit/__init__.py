"""The append-only, hash-chained audit log of curation calls and matches (see opspoor.audit.chain)."""

from opspoor.audit.chain import AuditBroken, AuditEntry, log, verify

__all__ = ["AuditBroken", "AuditEntry", "log", "verify"]
