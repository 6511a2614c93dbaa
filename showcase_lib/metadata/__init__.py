"""Metadata for AI-call cost allocation: the schema, validators, the pattern catalog, the audit.

Example:
    >>> from showcase_lib.metadata import validate
    >>> validate({"customer_id": "cust_0001", "organization_id": "org_001",
    ...           "product_id": "product_a", "feature_id": "chat",
    ...           "environment": "production"}).ok
    True
"""

from showcase_lib.metadata.batch import BatchReport, validate_many
from showcase_lib.metadata.fields import (
    ENUM_FIELDS,
    EXTENSIONS,
    FIELD_NAMES,
    FIELDS,
    FIELDS_BY_NAME,
    MAX_LENGTH,
    RECOMMENDED_FIELDS,
    REQUIRED_FIELDS,
    TASK_TYPES,
    FieldSpec,
    fields_table,
)
from showcase_lib.metadata.model import Metadata, json_schema
from showcase_lib.metadata.pii import mask_value, pii_kinds
from showcase_lib.metadata.rules import (
    EXAMPLE_RULES,
    enterprise_needs_subscription,
    production_needs_trace,
    registry_rule,
)
from showcase_lib.metadata.validate import (
    DEFAULT_VALIDATOR,
    Issue,
    MetadataError,
    Report,
    Rule,
    Validator,
    present,
    rule,
    validate,
)

__all__ = [
    "DEFAULT_VALIDATOR",
    "ENUM_FIELDS",
    "EXAMPLE_RULES",
    "EXTENSIONS",
    "FIELDS",
    "FIELDS_BY_NAME",
    "FIELD_NAMES",
    "MAX_LENGTH",
    "RECOMMENDED_FIELDS",
    "REQUIRED_FIELDS",
    "TASK_TYPES",
    "BatchReport",
    "FieldSpec",
    "Issue",
    "Metadata",
    "MetadataError",
    "Report",
    "Rule",
    "Validator",
    "enterprise_needs_subscription",
    "fields_table",
    "json_schema",
    "mask_value",
    "pii_kinds",
    "present",
    "production_needs_trace",
    "registry_rule",
    "rule",
    "validate",
    "validate_many",
]
