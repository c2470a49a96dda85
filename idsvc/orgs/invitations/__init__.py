"""Invitations: an invited membership with a single-use code sent by e-mail, accepted by
the invitee signed in with the invited address."""
