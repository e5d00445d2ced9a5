"""Hostile manifests up to 5 MB: each gets its located error, in bounded memory, never a traceback.

The corpus (`tests/_hostile.py`) is validated once, in a fresh process whose peak
resident memory (VmHWM) is read at the end, so the 200 MB bound covers every
stage and every case. Time is not asserted here (see `benchmarks/bench_validate.py`):
the bound on time comes from the limits in `dsl/bounded_yaml.py`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _hostile import Case, cases

ROOT = Path(__file__).resolve().parent.parent
MAX_RSS_MB = 200

# Runs in the child: validate and render every case, one file at a time, then report peak memory.
_CHILD = r"""
import json, resource, sys, tempfile
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
from _hostile import cases
from compiler.validate import validate_file
from dsl.formats import render
results = {}
with tempfile.TemporaryDirectory() as tmp:
    for case in cases():
        path = Path(tmp) / f"{case.name}.yaml"
        path.write_bytes(case.build())
        report = validate_file(path)
        results[case.name] = {"diagnostics": [d.as_dict() for d in report.diagnostics],
                              "text": render(report.diagnostics, "text", 1)}
        path.unlink()
# VmHWM is this process's own peak; ru_maxrss would start at the parent's size (kept across fork and exec)
status = Path("/proc/self/status")
hwm = [line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmHWM:")] \
    if status.exists() else []
peak_kb = int(hwm[0]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"results": results, "max_rss_mb": peak_kb / 1024}))
"""


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


CASES = list(cases())


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_hostile_manifest_gets_its_located_error(case: Case, corpus: dict[str, Any]) -> None:
    found = corpus["results"][case.name]["diagnostics"]
    errors = [d for d in found if d["severity"] == "error"]

    assert [d["code"] for d in errors[:1]] == ([case.code] if case.code else [])
    assert all(d["line"] >= 1 and d["column"] >= 1 for d in found)
    assert not any(d["code"] == "X001" for d in found)


def test_hostile_corpus_stays_under_200_mb(corpus: dict[str, Any]) -> None:
    assert corpus["max_rss_mb"] < MAX_RSS_MB


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_hostile_manifest_text_output_is_short_and_printable(case: Case, corpus: dict[str, Any]) -> None:
    text = corpus["results"][case.name]["text"]

    assert all(len(line) <= 200 for line in text.splitlines() if line.startswith("   | "))
    assert all(ch.isprintable() for line in text.splitlines() for ch in line)


@pytest.mark.parametrize(("name", "where", "message"), [
    pytest.param("billion_laughs", (11, 19), "YAML aliases in this document expand to more than 10000 values",
                 id="alias-bomb-at-the-alias"),
    pytest.param("aliases_in_conditions", (13, 27), "YAML aliases in this document expand to more than 10000 values",
                 id="aliases-in-conditions-at-the-alias"),
    pytest.param("recursive_alias", (7, 21), "recursive YAML alias", id="recursive-alias-at-the-alias"),
    pytest.param("random_bytes_60kb", (1, 2),
                 "the file is not UTF-8 text: byte 0xa6 here is not valid UTF-8 (invalid start byte)",
                 id="binary-garbage-at-the-first-bad-byte"),
    pytest.param("integer_of_400_digits", (6, 19), "spec.sizing.stake was a number of 1329 bits, too large to compute with",
                 id="huge-integer-at-the-value"),
    pytest.param("flow_sequences_10000_deep", (7, 72), "the document is nested more than 64 levels deep",
                 id="deep-flow-at-the-65th-level"),
    pytest.param("block_sequences_10000_deep", (8, 129), "the document is nested more than 64 levels deep",
                 id="deep-block-at-the-65th-level"),
    pytest.param("not_utf8_in_a_comment", (8, 22),
                 "the file is not UTF-8 text: byte 0xe9 here is not valid UTF-8 (invalid continuation byte)",
                 id="non-utf8-at-the-byte"),
    pytest.param("nul_bytes_60kb", (7, 11),
                 "YAML syntax error: unacceptable character #x0000: special characters are not allowed",
                 id="nul-at-the-byte"),
    pytest.param("line_of_60kb", (7, 60212), "unknown indicator 'rsii_14'", id="long-line-at-the-term"),
    pytest.param("empty_documents_60kb", (102, 1),
                 "the file holds more than 100 documents, the limit for a manifest file", id="documents"),
    pytest.param("flow_numbers_5mb", (1, 1), "the file is larger than 64 KiB, the limit for a manifest",
                 id="size"),
])
def test_hostile_manifest_error_is_pinned(name: str, where: tuple[int, int], message: str,
                                          corpus: dict[str, Any]) -> None:
    first = corpus["results"][name]["diagnostics"][0]

    assert ((first["line"], first["column"]), first["message"]) == (where, message)
