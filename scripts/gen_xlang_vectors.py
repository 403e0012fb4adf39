"""Writes the cross-language test vectors in tests/xlang/ from their manifest.

Each entry of ``tests/xlang/vectors.json`` describes a value in typed JSON (see
``tests/xlang/README.md``); this script rebuilds the value in Python, serializes it with the Python
serializer and writes the frame to ``tests/xlang/<name>.bin``. The .bin files are committed and are
the spec that the Python, Java and C++ tests check.

Usage:
    python scripts/gen_xlang_vectors.py          # (re)write the .bin files
    python scripts/gen_xlang_vectors.py --check  # exit 1 if any .bin file is missing or stale
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
VECTOR_DIR = ROOT / "tests" / "xlang"
MANIFEST = VECTOR_DIR / "vectors.json"

if str(ROOT / "python") not in sys.path:
    sys.path.insert(0, str(ROOT / "python"))

from ray._private.generated import common_pb2  # noqa: E402
from ray._private.serialization import (  # noqa: E402
    SerializedObject,
    serialize,
    serialize_error,
    serialize_raw,
)


def load_manifest(path: Path = MANIFEST) -> list[dict[str, Any]]:
    """Reads the vector manifest.

    Args:
        path: The manifest file.

    Returns:
        The list of vector entries (dicts with ``name``, ``format`` and ``value``).
    """
    with open(path, encoding="utf-8") as f:
        return json.load(f)["vectors"]


def value_from_json(node: dict[str, Any]) -> Any:
    """Rebuilds a Python value from its typed-JSON form.

    Args:
        node: A one-key dict such as ``{"int": "42"}`` or ``{"list": [...]}``.

    Returns:
        The Python value (numpy arrays for ``array`` nodes).

    Raises:
        ValueError: If the node has an unknown or missing type key.
    """
    if len(node) != 1:
        raise ValueError(f"typed JSON node must have exactly one key: {node!r}")
    ((kind, payload),) = node.items()
    if kind == "null":
        return None
    if kind == "bool":
        return bool(payload)
    if kind == "int":
        return int(payload)
    if kind == "float":
        return float.fromhex(payload)
    if kind == "str":
        return payload
    if kind == "bytes_hex":
        return bytes.fromhex(payload)
    if kind == "list":
        return [value_from_json(item) for item in payload]
    if kind == "map":
        return {value_from_json(key): value_from_json(item) for key, item in payload}
    if kind == "array":
        import numpy as np

        from ray._private.serialization.xlang import DTYPE_NAMES

        codes = {name: code for code, name in DTYPE_NAMES.items()}
        data = bytes.fromhex(payload["data_hex"])
        array = np.frombuffer(data, dtype=np.dtype(codes[payload["dtype"]]))
        return array.reshape(tuple(payload["shape"])).copy()
    raise ValueError(f"unknown typed JSON kind {kind!r}")


def error_from_json(node: dict[str, Any]) -> common_pb2.ErrorInfo:
    """Builds an ``ErrorInfo`` from its JSON form (enum fields by name).

    Args:
        node: A dict of ``ErrorInfo`` fields; ``type`` and ``language`` are enum value names.

    Returns:
        The ``ErrorInfo`` message.
    """
    info = common_pb2.ErrorInfo()
    for field, payload in node.items():
        if field == "type":
            info.type = common_pb2.ErrorType.Value(payload)
        elif field == "language":
            info.language = common_pb2.Language.Value(payload)
        elif field.endswith("_hex"):
            setattr(info, field[: -len("_hex")], bytes.fromhex(payload))
        else:
            setattr(info, field, payload)
    return info


def expected_value(vector: dict[str, Any]) -> Any:
    """Returns what ``deserialize()`` of the vector's frame gives in Python.

    Args:
        vector: A manifest entry.

    Returns:
        The Python value, the RAW bytes, or the ``ErrorInfo`` for ERROR vectors.
    """
    node = vector["value"]
    if vector["format"] == "ERROR":
        return error_from_json(node["error"])
    return value_from_json(node)


def serialize_vector(vector: dict[str, Any]) -> SerializedObject:
    """Serializes a manifest entry with the Python serializer.

    Args:
        vector: A manifest entry.

    Returns:
        The serialized object whose frame is the vector's .bin file.

    Raises:
        ValueError: If the serializer picks a different format than the manifest says.
    """
    fmt = vector["format"]
    if fmt == "RAW":
        return serialize_raw(value_from_json(vector["value"]))
    if fmt == "ERROR":
        return serialize_error(error_from_json(vector["value"]["error"]))
    obj = serialize(value_from_json(vector["value"]))
    wanted = common_pb2.ObjectFormat.Value(f"OBJECT_FORMAT_{fmt}")
    if obj.format != wanted:
        raise ValueError(f"vector {vector['name']}: serializer chose format {obj.format}")
    return obj


def main(argv: list[str] | None = None) -> int:
    """Writes (or with ``--check`` verifies) every vector file.

    Args:
        argv: Command line arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    args = parser.parse_args(argv)
    vectors = load_manifest()
    names = [vector["name"] for vector in vectors]
    if len(set(names)) != len(names):
        logger.error("duplicate vector names in %s", MANIFEST)
        return 1
    stale = []
    for vector in vectors:
        frame = serialize_vector(vector).to_bytes()
        path = VECTOR_DIR / f"{vector['name']}.bin"
        if args.check:
            if not path.exists() or path.read_bytes() != frame:
                stale.append(path.name)
        elif not path.exists() or path.read_bytes() != frame:
            path.write_bytes(frame)
            logger.info("wrote %s (%d bytes)", path.relative_to(ROOT), len(frame))
    extra = sorted(p.name for p in VECTOR_DIR.glob("*.bin") if p.stem not in set(names))
    if extra:
        logger.error("vector files not in the manifest: %s", ", ".join(extra))
        return 1
    if stale:
        logger.error("missing or stale vector files: %s", ", ".join(stale))
        return 1
    logger.info("%d vectors %s", len(vectors), "match" if args.check else "up to date")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
