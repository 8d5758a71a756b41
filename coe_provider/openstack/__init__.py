"""Cloud access for code that runs outside the engine's providers (the readiness gate, the
cleanup, ``coe status``, ``coe import magnum``): clouds.yaml / OS_* / the stack's provider
settings, and openstacksdk connections made from them."""
