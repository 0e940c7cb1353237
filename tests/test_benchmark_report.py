"""The figures README.md, docs/design.md and benchmarks/README.md generate from benchmark
results match the committed results (benchmarks/report.py --check), on any clone."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("benchmark_report", BENCHMARKS / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_documents_match_the_committed_results(report, capsys):
    assert report.main(["--check"]) == 0, capsys.readouterr().out


def test_every_figure_of_readme_and_docs_has_its_results(report):
    # Only benchmarks/README.md's own tables may be excused (UNBACKED); what README.md and
    # docs/ quote must come from a committed JSON.
    for path, blocks in report.INLINE.items():
        for name, (source, _) in blocks.items():
            assert (report.RESULTS / f"{source}.json").is_file(), (path.name, name)
            assert name not in report.UNBACKED


def test_check_catches_a_changed_figure_and_a_missing_file(report, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(report.RESULTS, results)
    assert report.stale_documents(results) == [] and report.missing_results(results) == []
    doc = json.loads((results / "recovery_options.json").read_text())
    doc["summary"]["clean fifth stage pa"][0] += 1.0  # a figure README.md quotes
    (results / "recovery_options.json").write_text(json.dumps(doc))
    assert report.stale_documents(results) != []
    (results / "bench_baselines.json").unlink()
    assert any("bench_baselines.json" in m for m in report.missing_results(results))
