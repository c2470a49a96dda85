"""Erasing a person (on request, by an operator) and erasure once records are past their
retention period: their personal data goes, their tokens are revoked, and what the law
requires to be kept stays (``RetentionDuty``). Above ``accounts`` and ``tokens``, which it
uses both of."""
