"""Record <-> Revenium wire mapping (transitional re-export; the wire issue replaces this body).

Example:
    >>> from showcase_lib.wire import encode_body
    >>> encode_body({"a": 1})
    b'{"a":1}'
"""

from __future__ import annotations

import json
from typing import Any

from showcase_lib.metering.wire import (  # noqa: F401
    MAPPING,
    FieldError,
    WireError,
    format_time,
    frame_to_wire,
    mapping_table,
    record_to_wire,
    validate_wire,
    wire_to_frame,
    wire_to_record,
)

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def encode_body(body: Any) -> bytes:
    """Compact UTF-8 JSON bytes of a wire body (what the tracker and backfill send).

    Example:
        >>> encode_body({"model": "gpt-4o-mini", "inputTokenCount": 10})
        b'{"model":"gpt-4o-mini","inputTokenCount":10}'
    """
    return _ENCODE(body).encode("utf-8")
