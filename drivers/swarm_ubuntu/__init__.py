"""swarm_ubuntu: Docker Swarm mode on Ubuntu (and Debian) cloud images."""

from .driver import SwarmUbuntuCluster
from .labels import SwarmLabels

__all__ = ["SwarmLabels", "SwarmUbuntuCluster"]
