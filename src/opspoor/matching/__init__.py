"""Matching: files or hashes in, matches with their evidence and a verdict per file out."""
