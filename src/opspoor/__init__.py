"""opspoor: find known abuse material by hash, triage media, link photos to cameras."""

__version__ = "0.1.0"
