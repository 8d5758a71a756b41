"""A cluster described in Python: build the spec models, instantiate the driver directly."""

import pulumi
from coe_provider_drivers.k8s_ubuntu import KubernetesUbuntuCluster

from coe_provider import ClusterSpec, ClusterTemplate, NodeGroupSpec

config = pulumi.Config()
workers = config.get_int("workers") or 2

spec = ClusterSpec(
    template=ClusterTemplate(
        image="ubuntu-24.04",
        flavor="m1.medium",
        master_flavor="m1.large",
        external_network="public",
        master_lb_enabled=True,
        etcd_volume_size=10,
        api_allowed_cidrs=["203.0.113.0/24"],
        labels={"kube_tag": "v1.36.4", "cni": "calico",
                "openstack_auth_url": "https://keystone.example.com:5000/v3"},
    ),
    master_count=3,
    node_groups=[NodeGroupSpec(name="app", count=workers, min_count=1, max_count=20)],
)

cluster = KubernetesUbuntuCluster("app", spec)

pulumi.export("apiAddress", cluster.api_address)
pulumi.export("kubeconfig", cluster.extensions["kubeconfig"])
pulumi.export("detail", cluster.detail())
