"""Operator pages for organisations: the queue of requests and one organisation's review."""
