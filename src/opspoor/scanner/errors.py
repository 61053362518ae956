"""Typed errors of the scanner."""

from opspoor.errors import OpspoorError


class ScannerError(OpspoorError):
    """A scan could not be set up or a URL could not be scanned."""


class BadSeed(ScannerError):
    """A seed URL is not an absolute http(s) URL."""


class OutOfScope(ScannerError):
    """A URL (or a redirect target) lies outside the scan's declared scope; it is not fetched."""


class RobotsDisallowed(ScannerError):
    """The site's robots.txt disallows the URL and the scan obeys robots.txt."""


class NotFound(ScannerError):
    """A scan or sighting asked for does not exist."""
