"""What users write: the pydantic models of templates, clusters and node groups, their
cross-field checks and label rules, stack configuration and YAML loading, the JSON Schema
and the generated reference, and the one-line errors all of them raise."""
