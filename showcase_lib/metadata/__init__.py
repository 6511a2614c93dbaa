"""Metadata for AI-call cost allocation: the schema, validators, the pattern catalog, the audit.

What a notebook or a user needs is here, in five groups; the implementation sits in private
modules (``_fields`` the table, ``_checks`` shared by both validation paths, ``_validate`` one
dict, ``_batch`` a frame, ``_patterns``, ``_audit``, ``_antipatterns``, ``_corpus``...).

* **The schema**: :data:`FIELDS` (name -> field spec: required (the plan's four) or
  recommended, allowed values or format, length limit, wire and OpenTelemetry names),
  :func:`fields_table` its view for the book, the pydantic model :class:`Metadata` and its
  :func:`json_schema`.
* **Validation**: :func:`validate` one dict (a :class:`Report` of :class:`Issue`),
  :func:`validate_many` a frame; :class:`Validator` and the :func:`rule` decorator add business
  rules, two of them ready-made (:data:`enterprise_needs_subscription`,
  :data:`production_needs_trace`) and one against reference data (:func:`registry_rule`);
  :class:`MetadataError` carries an invalid report.
* **The pattern catalog**: :data:`PATTERNS` (name -> pattern with ``build``, ``example``,
  ``run``) and :func:`catalog` its table.
* **The audit**: :func:`audit` a frame of records (findings, cardinality and its growth, split
  spellings, hierarchy conflicts, double counting, payload); :func:`normalise` repairs split
  spellings; :func:`payload_bytes` sizes each record's metadata.
* **Measuring on data**: :func:`make_corpus` (labelled mistakes; ``corpus.score(validator)``)
  and :func:`inject` (one of the :data:`ANTIPATTERNS`, or all of them).

Example:
    >>> from showcase_lib.metadata import validate
    >>> validate({"customer_id": "cust_0001", "organization_id": "org_001",
    ...           "product_id": "product_a", "feature_id": "chat"}).ok
    True
    >>> [name for name, f in FIELDS.items() if f.required]
    ['customer_id', 'organization_id', 'product_id', 'feature_id']
    >>> sorted(PATTERNS)[:3]
    ['ab_test', 'agents', 'ecommerce']
"""

from showcase_lib.metadata._antipatterns import ANTIPATTERNS, inject
from showcase_lib.metadata._audit import audit, normalise, payload_bytes
from showcase_lib.metadata._checks import Issue, MetadataError, Report, rule
from showcase_lib.metadata._corpus import make_corpus
from showcase_lib.metadata._fields import FIELDS, fields_table
from showcase_lib.metadata._model import Metadata, json_schema
from showcase_lib.metadata._patterns import PATTERNS, catalog
from showcase_lib.metadata._rules import (
    enterprise_needs_subscription,
    production_needs_trace,
    registry_rule,
)
from showcase_lib.metadata._validate import Validator, validate, validate_many

__all__ = [
    "ANTIPATTERNS",
    "FIELDS",
    "PATTERNS",
    "Issue",
    "Metadata",
    "MetadataError",
    "Report",
    "Validator",
    "audit",
    "catalog",
    "enterprise_needs_subscription",
    "fields_table",
    "inject",
    "json_schema",
    "make_corpus",
    "normalise",
    "payload_bytes",
    "production_needs_trace",
    "registry_rule",
    "rule",
    "validate",
    "validate_many",
]
