"""Network access: the one hardened fetcher every remote download goes through."""
