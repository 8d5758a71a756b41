"""k8s_ubuntu: Kubernetes (kubeadm) on Ubuntu cloud images."""

from .driver import KubernetesUbuntuCluster
from .labels import KubernetesLabels

__all__ = ["KubernetesLabels", "KubernetesUbuntuCluster"]
