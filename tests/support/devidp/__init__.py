"""The demo identity provider served for its own tests, and the relying party and page
reader that drive it."""
