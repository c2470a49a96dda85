"""Policies in the running service: recording their versions, explaining decisions to
operators. The pure model and decision stay in ``idsvc.policy``, free of the database."""
