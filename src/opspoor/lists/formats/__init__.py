"""File formats hash lists are exchanged in: opspoor CSV, plain lines, ThreatExchange and HMA."""
