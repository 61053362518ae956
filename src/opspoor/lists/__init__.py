"""Hash lists: provenance, entries with classification and state, history, import and export."""
