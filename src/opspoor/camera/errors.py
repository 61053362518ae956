"""Typed errors of camera forensics, each with a message fit for an investigator."""

from opspoor.errors import OpspoorError


class CameraError(OpspoorError):
    """Camera fingerprinting could not do what was asked."""


class TooSmall(CameraError):
    """The image (or crop) has too few pixels for a sensor-noise residual."""


class ShapeMismatch(CameraError):
    """Photos of different sizes cannot be averaged into one fingerprint."""


class UnknownCamera(CameraError):
    """No enrolled camera has this name."""


class NoFrames(CameraError):
    """A video yielded no decodable frames."""
