"""Users, their upstream identities, and browser sessions."""
