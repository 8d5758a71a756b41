"""Cluster health: the readiness gate that ends ``pulumi up`` when the cluster works, and
``coe status``, the bay's *get* as a person runs it. Both run :func:`check.check`."""
