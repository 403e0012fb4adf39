"""Object serialization: the frame, XLANG, PICKLE5, RAW and ERROR formats (DESIGN.md section 5).

The byte format is specified in tests/xlang/README.md and pinned by the vectors next to it.
"""

from __future__ import annotations

import logging

from .contained_refs import record_contained_ref
from .frame import FrameError, SerializedObject, frame_format
from .serializer import (
    ErrorValue,
    ForeignValue,
    check_frame,
    deserialize,
    serialize,
    serialize_error,
    serialize_foreign,
    serialize_raw,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ErrorValue",
    "ForeignValue",
    "FrameError",
    "SerializedObject",
    "check_frame",
    "deserialize",
    "frame_format",
    "record_contained_ref",
    "serialize",
    "serialize_error",
    "serialize_foreign",
    "serialize_raw",
]
