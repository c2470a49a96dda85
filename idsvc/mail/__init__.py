"""Sending e-mail (invitations): over SMTP in production, to the console and an outbox
page in `idsvc dev`."""
