"""The repository is itself a Pulumi project: `pulumi up` builds the clusters in coe:clusters."""

from coe_provider.program import main

main()
