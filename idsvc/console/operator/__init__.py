"""Console pages for the provider's compliance operators, one sub-package per area."""
