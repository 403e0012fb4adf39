"""The committed Python stubs match proto/, and the protos follow the wire conventions."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_stubs_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_each_proto_has_package_and_java_options() -> None:
    for path in sorted((ROOT / "proto").glob("*.proto")):
        text = path.read_text()
        assert "package ray.rpc;" in text, path.name
        assert "option java_multiple_files = true;" in text, path.name
        assert 'option java_package = "io.ray.rpc";' in text, path.name
        assert re.search(r'option java_outer_classname = "\w+Proto";', text), path.name
        assert len(re.findall(r"^service ", text, re.M)) <= 1, f"{path.name}: one service per file"


def test_every_rpc_has_its_own_request_and_reply() -> None:
    for path in sorted((ROOT / "proto").glob("*.proto")):
        text = path.read_text()
        for name, req, rep in re.findall(r"rpc (\w+)\((\w+)\) returns \((?:stream )?(\w+)\)", text):
            assert req == f"{name}Request", f"{path.name}: {name} takes {req}"
            if rep != "PubMessage":  # Subscribe streams the pub/sub messages themselves
                assert rep == f"{name}Reply", f"{path.name}: {name} returns {rep}"
