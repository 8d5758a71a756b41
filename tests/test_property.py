"""Property: any spec that validation accepts builds under the mocks runtime and passes
``coe audit --strict``."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coe_provider.cluster.registry import driver_names
from coe_provider.plan.audit import audit_plan
from coe_provider.plan.document import build_plan
from coe_provider.plan.runner import config_from_stack_file, run_program_directory
from coe_provider.spec.errors import SpecError
from coe_provider.spec.validation import resolve_clusters
from tests.conftest import REPO

KEYSTONE = {"openstack:authUrl": "https://keystone.test:5000/v3"}
EXAMPLES_RUN: list[int] = []

group_names = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).filter(lambda n: n != "master")
cidrs = st.sampled_from(["0.0.0.0/0", "203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"])


@st.composite
def node_groups(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(group_names, min_size=0, max_size=3, unique=True))
    groups = []
    for name in names:
        count = draw(st.integers(0, 4))
        group: dict[str, Any] = {"name": name, "count": count,
                                 "minCount": draw(st.integers(0, count)),
                                 "maxCount": draw(st.integers(count, 10))}
        live_max = count + 3
        group["remove"] = draw(st.lists(st.integers(0, live_max), max_size=2, unique=True))
        if draw(st.booleans()):
            group["flavor"] = "m1.large"
        groups.append(group)
    return groups


@st.composite
def clusters(draw: st.DrawFn) -> dict[str, Any]:
    masters = draw(st.sampled_from([1, 1, 3, 5]))
    fixed = draw(st.booleans())
    template: dict[str, Any] = {
        "image": "ubuntu-24.04", "flavor": "m1.medium", "externalNetwork": "public",
        "masterLbEnabled": masters > 1 or draw(st.booleans()),
        "floatingIpEnabled": draw(st.booleans()),
        "apiAllowedCidrs": draw(st.lists(cidrs, min_size=1, max_size=2, unique=True)),
        "sshAllowedCidrs": draw(st.lists(cidrs.filter(lambda c: not c.endswith("/0")),
                                         max_size=2, unique=True)),
        "dockerVolumeSize": draw(st.sampled_from([0, 20])),
        "etcdVolumeSize": draw(st.sampled_from([0, 5])),
        "bootVolumeSize": draw(st.sampled_from([0, 30])),
    }
    if fixed:
        template["fixedNetwork"] = "tenant-net"
    return {
        "driver": draw(st.sampled_from(driver_names())),
        "template": template,
        "masterCount": masters,
        "nodeGroups": draw(node_groups()),
    }


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cluster=clusters())
def test_accepted_specs_build_and_pass_the_strict_audit(cluster: dict[str, Any]) -> None:
    coe = {"clusters": {"prop": cluster}}
    try:
        resolve_clusters(coe, REPO)
    except SpecError:
        return  # refused specs are the corpus's business
    config, secret_keys = config_from_stack_file(
        {"config": {"coe:clusters": coe["clusters"], **KEYSTONE}})
    run = run_program_directory(REPO, "property", config, secret_keys)
    plan = json.loads(build_plan(run).dumps())
    report = audit_plan(plan)
    assert report.failures == [], [f.as_json() for f in report.failures]
    servers = [r for r in plan["resources"] if r["type"].endswith("instance:Instance")]
    expected = cluster["masterCount"] + sum(g["count"] for g in cluster["nodeGroups"])
    assert len(servers) == expected
    EXAMPLES_RUN.append(1)
