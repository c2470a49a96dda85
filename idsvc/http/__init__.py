"""HTTP plumbing shared by every feature: problems, request ids, logs, metrics, health."""
