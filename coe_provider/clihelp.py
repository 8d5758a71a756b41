"""The help text of each ``coe`` command: a one-line summary, paragraphs, and examples.

typer keeps every line break of a help text (in the command list too), so a docstring wrapped
at the source's line length showed up cut in mid-sentence. Each paragraph here is one line
that the terminal wraps; only the examples have line breaks, one command each.
"""

from __future__ import annotations

HELP_OPTIONS = ["-h", "--help"]
"""Both spellings print a command's help."""


def command_help(summary: str, *paragraphs: str, examples: tuple[str, ...]) -> str:
    """A help text: ``summary`` (the command list shows it), then ``paragraphs`` (each
    without line breaks), then ``examples``, one per line."""
    for text in (summary, *paragraphs):
        assert "\n" not in text, "a help paragraph is one line: the terminal wraps it"
    return "\n\n".join([summary, *paragraphs,
                        "Examples:\n" + "\n".join(f"  {example}" for example in examples)])


APP = ("Container orchestration clusters on OpenStack: validate, plan offline, diff plans, "
       "check health, import from Magnum.")
"""The ``coe`` command's own help."""

DRIVERS = command_help(
    "List every registered COE driver and what it provides.",
    examples=("coe drivers", "coe drivers --json"))

VALIDATE = command_help(
    "Check every cluster of a stack file, cluster file or template file.",
    "Exit 1 listing every broken rule, all in one run, one 'path: rule' line each. A template "
    "file (templateFile:) is recognised and checked as one, for each registered driver. "
    "Warnings (a Kubernetes minor out of upstream support) are printed and fail only with "
    "--strict.",
    examples=("coe validate Pulumi.prod.yaml", "coe validate k8s-template.yaml",
              "coe validate Pulumi.prod.yaml --strict"))

SCHEMA = command_help(
    "Print the JSON Schema of stack files (or cluster or template files) for editors.",
    examples=("coe schema --output coe.schema.json", "coe schema --kind template"))

PLAN = command_help(
    "Run the program offline under Pulumi's mocks runtime and show what it would build.",
    "No cloud and no credentials are needed: a Kubernetes stack without a Keystone URL is "
    "planned with a placeholder, and a note says so.",
    examples=("coe plan Pulumi.prod.yaml",
              "coe plan Pulumi.prod.yaml --json plan.json --markdown plan.md",
              "coe plan Pulumi.prod.yaml --state before.json --json after.json"))

IMAGES = command_help(
    "List every image, chart, package repository and file each cluster will fetch.",
    "What to copy into the mirrors of an air-gapped cloud before the first pulumi up: images "
    "with their tags (under container_infra_prefix when set), charts with their repository "
    "and version, the APT repositories and the files the nodes download. The upstream column "
    "names where a mirrored artifact is published. Clusters are read as new clusters.",
    examples=("coe images Pulumi.prod.yaml",
              "coe images Pulumi.prod.yaml --json | jq -r '.clusters[].images[].upstream'"))

DIFF = command_help(
    "Compare two plans by URN: creates, deletes, updates and replacements.",
    examples=("coe diff before.json after.json",
              "coe diff before.json after.json --fail-on replace,delete --markdown diff.md"))

AUDIT = command_help(
    "coe-provider's policies (the policy pack's) on an offline plan: what faces outside the "
    "cluster, whether every secret is marked secret, and the cluster rules.",
    "--strict exits 4 on a mandatory violation; --policy-config takes the file pulumi preview "
    "takes as --policy-pack-config (enforcement levels, allowed CIDRs).",
    examples=("coe audit Pulumi.prod.yaml", "coe audit plan.json --strict",
              "coe audit Pulumi.prod.yaml --strict --policy-config policy-config.json"))

STATUS = command_help(
    "Each cluster's health as its COE reports it: HEALTHY, UNHEALTHY or UNKNOWN.",
    "Per node: ready or not, and why (Magnum's health_status). Exit 0 healthy, 5 unhealthy, "
    "6 unreachable; the worst cluster decides.",
    examples=("pulumi stack output --json --show-secrets | coe status -",
              "coe status outputs.json --cluster prod --consoles"))

CLEANUP = command_help(
    "Delete (or list) what a cluster's cloud provider made in OpenStack.",
    "The load balancers, floating IPs, ports and volumes the cloud controller manager and "
    "Cinder CSI made, as pulumi destroy removes them after the servers. It needs only the "
    "non-secret cloudCleanup output; credentials come from clouds.yaml or OS_*.",
    examples=("pulumi stack output --json | coe cleanup - --dry-run",
              "coe cleanup outputs.json --cluster prod"))

IMPORT = command_help(
    "Import clusters from other tools.",
    examples=("coe import magnum --template template.json --output k8s-template.yaml",))

IMPORT_MAGNUM = command_help(
    "Turn a Magnum cluster template (and cluster) into a template or stack file.",
    "A report lists every field; exit 1 when a field that changes the cluster cannot be "
    "carried. The documents come from files, or from the Magnum API (--cloud / "
    "--cluster-template). Writing into an existing stack file adds this cluster under "
    "coe:clusters and keeps everything else; --force replaces a cluster of the same name.",
    examples=(
        "coe import magnum --template template.json --output k8s-template.yaml",
        "coe import magnum --template template.json --cluster cluster.json "
        "--nodegroups nodegroups.json --output Pulumi.prod.yaml",
        "coe import magnum --cloud mycloud --cluster prod --output Pulumi.prod.yaml "
        "--template-output k8s-template.yaml"))
