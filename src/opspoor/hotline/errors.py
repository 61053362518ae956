"""Typed errors of the hotline workflow."""

from __future__ import annotations

from opspoor.errors import OpspoorError


class HotlineError(OpspoorError):
    """Base of the hotline's errors."""


class ItemNotFound(HotlineError):
    """No item (or report, user, partner) with that id or name."""


class NotAllowed(HotlineError):
    """The user's roles do not allow this step (e.g. deciding an escalated item without `senior`)."""


class InvalidInput(HotlineError):
    """A report, a classification or a setting that cannot be accepted."""


class MediaGone(HotlineError):
    """The review copy of the media was deleted (retention) or never kept (known items)."""
