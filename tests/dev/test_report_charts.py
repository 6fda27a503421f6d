"""The charts render from a committed results.json: linear axes, values written on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_charts_render_from_the_committed_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.axes import Axes

    from bench import report

    drawn: list[Axes] = []
    original = Axes.set_xlim

    def record(self: Axes, *args: Any, **kwargs: Any) -> Any:
        drawn.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "set_xlim", record)
    results = json.loads((ROOT / "bench/report/results.json").read_text())
    assert report.charts(results, tmp_path) == ["coldstart.png", "throughput.png"]
    assert all(
        (tmp_path / name).stat().st_size > 10_000 for name in ("coldstart.png", "throughput.png")
    )
    assert drawn
    for ax in drawn:
        assert ax.get_xscale() == "linear"
        texts = [t.get_text() for t in ax.texts]
        assert texts
        assert all(t.split()[1].startswith("ms") for t in texts)  # every bar says its value
    targets = [line.get_label() for ax in drawn for line in ax.get_lines()]
    assert any("0.3x naive" in t for t in targets)
    assert any("25x faster than boto3" in t for t in targets)
