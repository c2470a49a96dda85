"""The evidence ledger: the one definition of what idsvc knows about a person (see
:mod:`idsvc.evidence.ledger`)."""
