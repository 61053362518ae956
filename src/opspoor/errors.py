"""The root of opspoor's typed errors, so callers can catch ours apart from bugs."""


class OpspoorError(Exception):
    """Base class of every error opspoor raises on purpose, with a message fit for a user."""
