"""The policy versions in force, recorded at start in the database and the audit trail (a
version whose rules changed in place is refused). The pure model and decision are
``idsvc.policy``, free of the database."""
