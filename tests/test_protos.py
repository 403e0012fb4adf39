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


RPC = re.compile(
    r"rpc\s+(\w+)\s*\(\s*(?:stream\s+)?(\w+)\s*\)\s*returns\s*\(\s*(?:stream\s+)?(\w+)\s*\)"
)


def test_every_rpc_has_its_own_request_and_reply() -> None:
    """Streaming rpcs included: every rpc takes <Rpc>Request and returns <Rpc>Reply."""
    seen = 0
    for path in sorted((ROOT / "proto").glob("*.proto")):
        text = path.read_text()
        declared = len(re.findall(r"^\s*rpc\s", text, re.M))
        found = RPC.findall(text)
        assert len(found) == declared, f"{path.name}: an rpc line the check cannot read"
        for name, req, rep in found:
            assert req == f"{name}Request", f"{path.name}: {name} takes {req}"
            assert rep == f"{name}Reply", f"{path.name}: {name} returns {rep}"
        seen += len(found)
    assert seen >= 40


def test_every_rpc_documents_caller_callee_and_failure() -> None:
    for path in sorted((ROOT / "proto").glob("*.proto")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if not line.strip().startswith("rpc "):
                continue
            comment = []
            j = i - 1
            while j >= 0 and lines[j].strip().startswith("//"):
                comment.append(lines[j])
                j -= 1
            text = " ".join(comment)
            name = line.split()[1].split("(")[0]
            for word in ("Caller:", "Callee:", "Failure:"):
                assert word in text, f"{path.name}: rpc {name} does not say {word}"
