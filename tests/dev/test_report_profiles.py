"""The profiles `make bench` writes into the report: the read by stage, a cold start by phase."""

from __future__ import annotations

import json
from pathlib import Path

from hotcore_dev.history import write_account_cases

ROOT = Path(__file__).resolve().parents[2]


def test_the_stages_add_up_to_the_whole_read_and_the_report_shows_them(tmp_path: Path) -> None:
    from bench import report
    from bench.throughput.stages import stages

    write_account_cases(tmp_path, {"small": 400}, page_limit=16_000)
    rows = stages("first-page", 2, tmp_path)
    labels = [label for label, _, _ in rows]
    assert labels[0].startswith("page decode")
    assert labels[-1] == "whole decode + fold"
    assert rows[-1][2] == 1.0
    assert len(rows) == 7
    assert all(ns > 0 for _, ns, _ in rows)

    results = json.loads((ROOT / "bench/report/results.json").read_text())
    results["throughput"]["stages"] = [
        {"stage": label, "ns_per_event": ns, "share": share} for label, ns, share in rows
    ]
    text = report._read_profile(results)
    assert "| whole decode + fold |" in text
    assert "| 100% |" in text
    del results["throughput"]["stages"]
    assert report._read_profile(results) == ""


def test_the_report_splits_a_command_cold_start_into_its_phases() -> None:
    from bench import report

    results = json.loads((ROOT / "bench/report/results.json").read_text())
    summary = results["cold_summary"]
    text = report._cold_start_parts(results)
    ours = summary["hotcore-compiled/command"]
    handler = ours["init_median"] - summary["hello-hotcore"]["init_median"]
    assert f"| {handler:.1f} |" in text
    gap = ours["total_median"] - summary["rust/command"]["total_median"]
    assert f"The gap to Rust is {gap:.1f} ms" in text
