"""Proactive scanner: crawl within a scope, hash embedded media in memory, record sightings, score risk."""
