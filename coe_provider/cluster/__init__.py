"""The cluster: the base component (the contract every driver fills in), the driver registry,
and the OpenStack building blocks the base wires (network, security groups, load balancer,
servers, bastion, API route, node removal, keys and certificates, names)."""
