"""Build the clusters described in this stack's coe:clusters configuration."""

from coe_provider.program import main

main()
