"""Bootstrap rendering shared by every driver: cloud-config assembly and common shell code."""

from coe_provider.bootstrap.cloudconfig import (
    NOVA_USER_DATA_LIMIT,
    ProxySettings,
    UserDataTooLarge,
    render_cloud_config,
)

__all__ = ["NOVA_USER_DATA_LIMIT", "ProxySettings", "UserDataTooLarge", "render_cloud_config"]
