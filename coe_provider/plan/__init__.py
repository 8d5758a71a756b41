"""Offline plan: run a Pulumi program under the mocks runtime and record its resource graph."""
