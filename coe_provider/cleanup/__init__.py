"""Cleanup on delete: the OpenStack objects a cluster's cloud provider made, not Pulumi.

With a cloud provider in the cluster (the OpenStack cloud controller manager, Cinder CSI), the
cluster creates Octavia load balancers, floating IPs and volumes that Pulumi never registered.
A per-cluster ``local.Command`` (:mod:`coe_provider.cleanup.wiring`) deletes them after every
server is gone and before the network is; ``coe cleanup`` does the same by hand.

* :mod:`~coe_provider.cleanup.target`: what identifies the cluster's objects;
* :mod:`~coe_provider.cleanup.selection`: which objects are the cluster's (pure functions);
* :mod:`~coe_provider.cleanup.executor`: finding, deleting and waiting with openstacksdk;
* ``python3 -m coe_provider.cleanup``: the delete step, configured by its environment.
"""
