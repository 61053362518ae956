"""The hash-check HTTP service: app factory, routes per resource, auth, errors, limits, metrics."""
