"""An organisation's domains: claiming them, proving them by a DNS TXT record, and
auto-join of people with a verified address in a verified domain."""
