"""The metadata schema as a pydantic v2 model, built from the FIELDS table, and its JSON Schema.

The model is the *shape* contract (required keys, types, allowed values, formats, lengths,
extension keys); :func:`showcase_lib.metadata.validate` adds what a schema cannot say:
suggestions, personal-data checks and custom rules.

Example:
    >>> m = Metadata(customer_id="cust_0001", organization_id="org_001",
    ...              product_id="product_a", feature_id="chat", environment="production",
    ...              experiment_id="exp_checkout")
    >>> m.model_dump(exclude_none=True)["experiment_id"]
    'exp_checkout'
    >>> sorted(json_schema()["required"])
    ['customer_id', 'feature_id', 'organization_id', 'product_id']
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    create_model,
    model_validator,
)

from showcase_lib.metadata._fields import (
    EXTENSION_KEY,
    EXTENSION_VALUE,
    FIELDS,
    MAX_LENGTH,
    FieldSpec,
)
from showcase_lib.schema import ALL_COLUMNS

ExtensionText = Annotated[
    str, StringConstraints(strict=True, max_length=MAX_LENGTH, pattern=EXTENSION_VALUE)
]
ExtensionValue = ExtensionText | StrictBool | StrictInt | StrictFloat

_EXT_KEY = re.compile(EXTENSION_KEY)
_RESERVED = frozenset(ALL_COLUMNS) - set(FIELDS)


class _MetadataBase(BaseModel):
    """Extension keys must be snake_case; their values text, numbers or booleans."""

    model_config = ConfigDict(
        extra="allow",
        strict=True,
        title="ReveniumShowcaseMetadata",
        json_schema_extra={"propertyNames": {"pattern": EXTENSION_KEY, "maxLength": 64}},
    )
    __pydantic_extra__: dict[str, ExtensionValue] = Field(init=False)  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key in FIELDS or key in _RESERVED:
                    continue
                if not isinstance(key, str) or not _EXT_KEY.fullmatch(key):
                    raise ValueError(f"extension key {key!r} is not snake_case")
        return data


def _annotation(spec: FieldSpec) -> Any:
    if spec.allowed:
        base: Any = Literal[spec.allowed]  # type: ignore[valid-type]
    else:
        base = Annotated[
            str, StringConstraints(strict=True, max_length=spec.max_length, pattern=spec.pattern)
        ]
    return base if spec.required else base | None


def _field(spec: FieldSpec) -> Any:
    kwargs = {"description": spec.description, "examples": [spec.example]}
    if spec.allowed is None:
        kwargs["max_length"] = spec.max_length
    default = ... if spec.required else None
    return (_annotation(spec), Field(default, **kwargs))


#: The pydantic model of one metadata dict (standard fields + snake_case extensions).
Metadata: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Metadata",
    __base__=_MetadataBase,
    __doc__=(
        "One AI call's metadata as a pydantic model (the rules are those of "
        "showcase_lib.metadata.FIELDS).\n\n"
        "Example:\n"
        "    >>> from showcase_lib.metadata import Metadata\n"
        "    >>> Metadata(customer_id='cust_0001', organization_id='org_001',\n"
        "    ...          product_id='doc_studio', feature_id='chat',\n"
        "    ...          environment='production').environment\n"
        "    'production'\n"
    ),
    **{spec.name: _field(spec) for spec in FIELDS.values()},
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :data:`Metadata`, ready to publish or to use with
    any JSON Schema validator.

    Example:
        >>> s = json_schema()
        >>> s["properties"]["subscription_tier"]["anyOf"][0]["enum"]
        ['starter', 'pro', 'enterprise']
    """
    schema = Metadata.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
