"""The hotline workflow: reports, triage by hash, safe review, consensus, notices, re-checks, forwarding."""
