"""Legal holds: records kept while an investigation or proceeding is known."""
