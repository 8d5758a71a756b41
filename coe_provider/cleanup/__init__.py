"""Cleanup on delete: the OpenStack objects a cluster's cloud provider made, not Pulumi.

With a cloud provider in the cluster (the OpenStack cloud controller manager, Cinder CSI), the
cluster creates Octavia load balancers, floating IPs and volumes that Pulumi never registered.
A per-cluster dynamic resource (:mod:`coe_provider.cleanup.resource`, placed in the graph by
:mod:`coe_provider.cleanup.wiring`) deletes them after every server is gone and before the
network is; ``coe cleanup`` does the same by hand.

* :mod:`~coe_provider.cleanup.target`: what identifies the cluster's objects;
* :mod:`~coe_provider.cleanup.selection`: which objects are the cluster's (pure functions);
* :mod:`~coe_provider.cleanup.executor`: finding, deleting and waiting with openstacksdk;
* :mod:`~coe_provider.cleanup.resource`: the delete step, run by the engine's Python host;
* ``python3 -m coe_provider.cleanup``: the delete step of stacks made by 0.1.0 (their
  ``local.Command``), configured by its environment.
"""
