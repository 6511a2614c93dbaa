"""Metadata for AI-call cost allocation: the schema, validators, the pattern catalog, the audit.

What a notebook or a user needs is here; the implementation sits in private modules
(``_checks`` shared by both validation paths, ``_validate`` one dict, ``_batch`` a frame,
``_patterns``, ``_audit``, ``_antipatterns``, ``_corpus``...).

Example:
    >>> from showcase_lib.metadata import validate
    >>> validate({"customer_id": "cust_0001", "organization_id": "org_001",
    ...           "product_id": "product_a", "feature_id": "chat",
    ...           "environment": "production"}).ok
    True
    >>> sorted(PATTERNS)[:3]
    ['ab_test', 'agents', 'ecommerce']
"""

from showcase_lib.metadata._antipatterns import ANTIPATTERNS, inject, inject_all
from showcase_lib.metadata._audit import (
    Audit,
    audit,
    cardinality,
    cardinality_growth,
    double_counting,
    hierarchy_conflicts,
    normalise,
    payload_bytes,
)
from showcase_lib.metadata._batch import BatchReport
from showcase_lib.metadata._checks import Issue, MetadataError, Report, Rule, rule
from showcase_lib.metadata._corpus import MISTAKE_KINDS, make_corpus, score
from showcase_lib.metadata._model import Metadata, json_schema
from showcase_lib.metadata._patterns import PATTERNS, Pattern, bucket, catalog
from showcase_lib.metadata._rules import (
    enterprise_needs_subscription,
    production_needs_trace,
    registry_rule,
)
from showcase_lib.metadata._validate import Validator, validate, validate_many

# The schema's facts (owned by ``fields``, re-exported so one import serves a notebook).
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

__all__ = [
    "ANTIPATTERNS",
    "ENUM_FIELDS",
    "EXTENSIONS",
    "FIELDS",
    "FIELDS_BY_NAME",
    "FIELD_NAMES",
    "MAX_LENGTH",
    "MISTAKE_KINDS",
    "PATTERNS",
    "RECOMMENDED_FIELDS",
    "REQUIRED_FIELDS",
    "TASK_TYPES",
    "Audit",
    "BatchReport",
    "FieldSpec",
    "Issue",
    "Metadata",
    "MetadataError",
    "Pattern",
    "Report",
    "Rule",
    "Validator",
    "audit",
    "bucket",
    "cardinality",
    "cardinality_growth",
    "catalog",
    "double_counting",
    "enterprise_needs_subscription",
    "fields_table",
    "hierarchy_conflicts",
    "inject",
    "inject_all",
    "json_schema",
    "make_corpus",
    "normalise",
    "payload_bytes",
    "production_needs_trace",
    "registry_rule",
    "rule",
    "score",
    "validate",
    "validate_many",
]
