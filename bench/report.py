"""REPORT.md, the charts (matplotlib, PNG) and the raw JSON of one ``hotcore bench`` run.

Every ratio is against hotcore (compiled) = 1.0 within the same run. The issue's
targets stand next to the values they judge, and a missed target is called a miss.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from bench import coldstart, cost
from bench.builds import BenchPaths

__all__ = ["cost_table", "headline_table", "targets", "write_report"]

IMPLEMENTATIONS = ["hotcore-compiled", "hotcore-pure", "naive-python", "rust"]
LABELS = {
    "hotcore-compiled": "hotcore (compiled)",
    "hotcore-pure": "hotcore (pure Python)",
    "naive-python": "naive Python (boto3 + pydantic + Powertools)",
    "rust": "Rust (lambda_runtime + aws-sdk-dynamodb)",
    "hello-python": "hello world, python3.13",
    "hello-rust": "hello world, Rust",
}
THROUGHPUT_LABELS = {
    "boto3": "boto3 parser + TypeDeserializer + dict fold",
    "naive": "naive baseline: boto3 + TypeDeserializer + pydantic",
    "json": "json + hand mapping",
    "orjson": "orjson + hand mapping",
    "msgspec-pure": "hotcore: msgspec + interpreted reducer",
    "msgspec-compiled": "hotcore: msgspec + compiled reducer",
    "rust-typed": "Rust: serde_json into typed structs",
    "rust-attribute-values": "Rust: serde into SDK AttributeValues + serde_dynamo",
}


# -- numbers ------------------------------------------------------------------------------


def _cold(results: dict[str, Any], name: str, key: str = "total_median") -> float:
    value: float = results["cold_summary"][name][key]
    return value


def _throughput(results: dict[str, Any], implementation: str, case: str, kind: str) -> float | None:
    for row in results["throughput"]["rows"]:
        if row["implementation"] == implementation and row["case"] == case and row["kind"] == kind:
            seconds: float = row["seconds"]
            return seconds
    return None


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or base == 0:
        return "n/a"
    return f"{value / base:.2f}x"


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f} ms" if value >= 1 else f"{value * 1000:.0f} µs"


def lambda_perf(paths: BenchPaths) -> dict[str, Any]:
    with (paths.bench / "lambda-perf.toml").open("rb") as file:
        return tomllib.load(file)


def projection(results: dict[str, Any], published: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Published hello-world init of the runtime + the measured increment over its hello world.

    The Python hello world measured here runs under awslambdaric, as the published one
    does, so what hotcore's bootstrap saves shows in the increment. Functions measured
    over HTTPS (``-https``) project best: Lambda always reaches DynamoDB over TLS.
    """
    init = published["init_ms"]
    found: dict[str, dict[str, float]] = {}
    for name in results["cold_summary"]:
        if name.startswith("hello-"):
            continue
        runtime = "rust" if name.startswith("rust/") else "python"
        increment = _cold(results, name) - _cold(results, f"hello-{runtime}")
        found[name] = {
            "published_hello_ms": float(init[runtime]),
            "increment_ms": increment,
            "projected_ms": float(init[runtime]) + increment,
        }
    return found


def _cpu_sources(
    results: dict[str, Any],
) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Warm and init CPU per function kind from the benchmark's runs of hotcore (compiled),
    where it ran that function; the others keep the CPU measured with the counts."""
    warm_runs = results.get("warm", {})
    cold_runs = results.get("cold_summary", {})
    cpu: dict[str, float] = {}
    init: dict[str, float] = {}
    source: dict[str, str] = {}
    for kind in ("command", "query"):
        name = f"hotcore-compiled/{kind}"
        if name in warm_runs:
            cpu[kind] = warm_runs[name]["cpu_ms"]
            source[kind] = f"the benchmark's warm invocations of {name}"
        if name in cold_runs:
            init[kind] = cold_runs[name]["cpu_median"]
    if "command" in init:
        for kind in ("events", "publisher"):
            init[kind] = init["command"]  # same layer and bootstrap; not started on its own
    for kind in ("command", "query", "events", "publisher"):
        source.setdefault(kind, "measured in-process with the counts (pure Python, no network)")
    return cpu, init, source


def cost_table(
    results: dict[str, Any], prices: cost.Prices, measured: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Each measured kind priced per million, the per-implementation Lambda rows of the
    headline, and issue 19's targets against the basis (``bench.metered`` measures)."""
    cpu, init, sources = _cpu_sources(results)
    kinds = {k: cost.price_kind(u, prices, cpu=cpu, init_cpu=init) for k, u in measured.items()}
    a = prices.assumptions
    rows: list[dict[str, Any]] = []
    for implementation in IMPLEMENTATIONS:
        for kind, measured_kind in (("command", "single-event"), ("query", "query")):
            name = f"{implementation}/{kind}"
            if name not in results.get("warm", {}) or measured_kind not in measured:
                continue
            function = {**measured[measured_kind]["lambda"][kind], "invocations": 1.0}
            warm_cpu = results["warm"][name]["cpu_ms"]
            init_cpu = results.get("cold_summary", {}).get(name, {}).get("cpu_median", 0.0)
            lam = cost.lambda_usd({kind: function}, {kind: warm_cpu}, {kind: init_cpu}, prices)
            rows.append(
                {
                    "implementation": implementation,
                    "kind": kind,
                    "billed_ms": cost.billed_ms(warm_cpu, function, a, a.memory_mb),
                    "lambda_usd": lam,
                }
            )
    table: dict[str, Any] = {
        "prices_date": prices.date,
        "region": prices.region,
        "sources": prices.sources,
        "assumptions": msgspec.to_builtins(prices.assumptions),
        "basis": msgspec.to_builtins(prices.basis),
        "cpu_sources": sources,
        "measured": measured,
        "kinds": {k: msgspec.to_builtins(v) for k, v in kinds.items()},
        "rows": rows,
        "snapstart_cache_month_usd": cost.snapstart_cache_usd_per_month(prices),
    }
    if "single-event" in measured:
        table["targets"] = _cost_targets(measured["single-event"], prices, cpu, init)
    return table


def _cost_targets(
    single: dict[str, Any], prices: cost.Prices, cpu: dict[str, float], init: dict[str, float]
) -> dict[str, Any]:
    """Issue 19's two targets, at the basis's prices."""
    basis = prices.basis
    at_basis = cost.basis_prices(prices)
    full = cost.price_kind(single, at_basis, cpu=cpu, init_cpu=init)
    like = cost.like_for_like(single, at_basis, cpu=cpu, init_cpu=init)
    limit = basis.single_event_usd * basis.target_ratio
    wru = single["dynamodb_wru"]
    reads = single["strongly_consistent_reads"]
    return {
        "wru": wru,
        "strongly_consistent_reads": reads,
        "rru": single["dynamodb_rru"],
        "dynamodb_met": wru <= 2 and reads <= 1,
        "like_for_like_usd": like,
        "full_usd": full.total_usd,
        "limit_usd": limit,
        "like_for_like_met": like <= limit,
        "full_met": full.total_usd <= limit,
        "full_lines": {line.service: line.usd for line in full.lines},
    }


def _cost(results: dict[str, Any], implementation: str, kind: str, key: str) -> float:
    for row in results["cost"]["rows"]:
        if row["implementation"] == implementation and row["kind"] == kind:
            value: float = row[key]
            return value
    raise KeyError(f"{implementation}/{kind}")


def targets(results: dict[str, Any], published: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met."""
    found: list[dict[str, Any]] = []

    def add(name: str, goal: str, value: float | None, text: str, met: bool | None) -> None:
        found.append({"target": name, "goal": goal, "value": value, "text": text, "met": met})

    hot, naive = _cold(results, "hotcore-compiled/command"), _cold(results, "naive-python/command")
    ratio = hot / naive
    add("cold start vs naive Python (command)", "<= 0.30x", ratio, f"{ratio:.2f}x", ratio <= 0.3)
    rust = _cold(results, "rust/command")
    add(
        "cold start vs Rust, raw local ratio (command)",
        "reported",
        hot / rust,
        f"{hot / rust:.2f}x ({hot:.1f} ms vs {rust:.1f} ms)",
        None,
    )
    for row in coldstart.ratios(results["cold_summary"]):
        if row["goal"] is not None:
            add(
                row["ratio"], f"<= {row['goal']}x", row["value"], f"{row['value']:.2f}x", row["met"]
            )
    proj = projection(results, published)
    over = "-https" if "hotcore-compiled/command-https" in proj else ""
    ph = proj[f"hotcore-compiled/command{over}"]["projected_ms"]
    pr = proj[f"rust/command{over}"]["projected_ms"]
    add(
        f"Lambda projection vs Rust + aws-sdk (command{', HTTPS' if over else ''})",
        "hotcore <= Rust",
        ph / pr,
        f"{ph:.0f} ms vs {pr:.0f} ms ({ph / pr:.2f}x)",
        ph <= pr,
    )
    case = "first-page"
    compiled = _throughput(results, "msgspec-compiled", case, "decode+fold")
    boto3 = _throughput(results, "boto3", case, "decode+fold")
    if compiled and boto3:
        speedup = boto3 / compiled
        add(
            "1 MB page decode+fold vs boto3",
            ">= 25x faster",
            speedup,
            f"{speedup:.1f}x faster",
            speedup >= 25,
        )
    for stream in ("first-page", *sorted(c for c in results["throughput"]["cases"] if c != case)):
        ours = _throughput(results, "msgspec-compiled", stream, "decode+fold")
        theirs = _throughput(results, "rust-typed", stream, "decode+fold")
        if ours and theirs:
            slower = ours / theirs
            label = "1 MB page" if stream == case else f"{stream} stream"
            add(
                f"{label} decode+fold vs Rust (serde, typed)",
                "<= 1.0x Rust's time",
                slower,
                f"{slower:.2f}x Rust's time",
                slower <= 1.0,
            )
    longest = max(
        results["throughput"]["cases"], key=lambda c: results["throughput"]["cases"][c]["events"]
    )
    pure_fold = _throughput(results, "reducer-pure", longest, "fold-only")
    compiled_fold = _throughput(results, "reducer-compiled", longest, "fold-only")
    if pure_fold and compiled_fold:
        speedup = pure_fold / compiled_fold
        add(
            f"compiled reducer vs interpreted (Account, fold only, {longest})",
            ">= 2.5x",
            speedup,
            f"{speedup:.1f}x faster",
            speedup >= 2.5,
        )
    for name, figures in sorted(results["throughput"].get("reducers", {}).items()):
        if figures.get("speedup") is None:
            continue
        add(
            f"compiled reducer vs interpreted ({name}, fold only, {figures['events']} events)",
            ">= 2.5x",
            figures["speedup"],
            f"{figures['speedup']:.1f}x faster",
            figures["speedup"] >= 2.5,
        )
    publish = {r["implementation"]: r for r in results["throughput"].get("publish", [])}
    ours_publish = publish.get("hotcore")
    if ours_publish and "naive" in publish:
        ratio = publish["naive"]["us_per_record"] / ours_publish["us_per_record"]
        add(
            "Streams publisher per record (decode + PutEvents entry) vs naive",
            "reported",
            ratio,
            f"{ours_publish['us_per_record']:.2f} µs vs {publish['naive']['us_per_record']:.2f} µs "
            + (f"({ratio:.1f}x faster)" if ratio >= 1 else f"({1 / ratio:.1f}x slower)"),
            None,
        )
    floor = results.get("import_floor", {})
    for module, found_floor in floor.items():
        ms = found_floor["median_ms"]
        add(
            f"handler import incl. init over a msgspec-only interpreter ({module})",
            "<= 15 ms",
            ms,
            f"{ms:.1f} ms",
            ms <= 15,
        )
    if not floor:
        imports = results["imports"]["hotcore-compiled/command"]["ms"]
        add(
            "handler imports over the bare runtime (command, compiled)",
            "<= 15 ms",
            imports,
            f"{imports:.1f} ms",
            imports <= 15,
        )
    found += cost_targets(results)
    return found


def headline_table(results: dict[str, Any]) -> str:
    """The README's table: cold start, 1 MB decode+fold and cost, hotcore = 1.0."""
    base_cold = _cold(results, "hotcore-compiled/command")
    rows = [
        "| implementation | cold start, command (median / p90) | vs hotcore | peak RSS "
        "| 1 MB page decode+fold | vs hotcore | Lambda $ per 1M commands | vs hotcore |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    throughput_of = {
        "hotcore-compiled": "msgspec-compiled",
        "hotcore-pure": "msgspec-pure",
        "naive-python": "naive",
        "rust": "rust-attribute-values",
    }
    base_fold = _throughput(results, "msgspec-compiled", "first-page", "decode+fold")
    base_cost = _cost(results, "hotcore-compiled", "command", "lambda_usd")
    for implementation in IMPLEMENTATIONS:
        name = f"{implementation}/command"
        summary = results["cold_summary"][name]
        fold = _throughput(results, throughput_of[implementation], "first-page", "decode+fold")
        lam = _cost(results, implementation, "command", "lambda_usd")
        rows.append(
            f"| {LABELS[implementation]} | {summary['total_median']:.1f} / "
            f"{summary['total_p90']:.1f} ms | {_ratio(summary['total_median'], base_cold)} "
            f"| {summary['rss_median']:.0f} MiB | {_ms(None if fold is None else fold * 1000)} "
            f"| {_ratio(fold, base_fold)} | ${lam:.2f} | {_ratio(lam, base_cost)} |"
        )
    return "\n".join(rows)


# -- charts -------------------------------------------------------------------------------


#: One look per family, so compiled and pure hotcore, Rust and the rest read apart at a
#: glance (and in grey print: the hatching differs too).
_STYLE: dict[str, dict[str, Any]] = {
    "hotcore-compiled": {"color": "#1f4e9c", "hatch": ""},
    "hotcore-pure": {"color": "#8fb3e8", "hatch": "//"},
    "rust": {"color": "#d9822b", "hatch": ""},
    "rust-other": {"color": "#f2c494", "hatch": "\\\\"},
    "naive": {"color": "#9a9a9a", "hatch": ""},
    "other": {"color": "#cfcfcf", "hatch": ".."},
}
_THROUGHPUT_STYLE = {
    "msgspec-compiled": "hotcore-compiled",
    "msgspec-pure": "hotcore-pure",
    "rust-typed": "rust",
    "rust-attribute-values": "rust-other",
    "naive": "naive",
    "boto3": "naive",
}
_COLD_STYLE = {
    "hotcore-compiled/command": "hotcore-compiled",
    "hotcore-pure/command": "hotcore-pure",
    "rust/command": "rust",
    "naive-python/command": "naive",
}


def _bars(
    ax: Any,
    labels: list[str],
    values: list[float],
    styles: list[str],
    texts: list[str],
    ends: list[float] | None = None,
) -> None:
    """Horizontal bars, top to bottom as given, each with its value written past its end."""
    positions = list(range(len(labels)))[::-1]
    for y, value, style in zip(positions, values, styles, strict=True):
        look = _STYLE[style]
        ax.barh(y, value, color=look["color"], hatch=look["hatch"], edgecolor="#333333")
    ax.set_yticks(positions, labels, fontsize=9)
    ends = ends or values
    top = max(ends)
    for y, end, text in zip(positions, ends, texts, strict=True):
        ax.text(end + top * 0.012, y, text, va="center", fontsize=8)
    ax.set_xlim(0, top * 1.3)
    ax.grid(axis="x", alpha=0.3)


def _target(ax: Any, x: float, text: str, style: str = "--") -> None:
    """A target as a red vertical line, named in the panel's legend."""
    ax.axvline(x, color="#c0392b", linestyle=style, linewidth=1.3, label=text)


def charts(results: dict[str, Any], folder: Path) -> list[str]:
    """coldstart.png and throughput.png, linear axes in the README's units; their names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)

    # Cold start of the command function: median bars, p90 whiskers, the 0.3x target.
    summary = results["cold_summary"]
    names = [n for n in (*_COLD_STYLE, "hello-python", "hello-rust") if n in summary]
    names.sort(key=lambda n: summary[n]["total_median"])
    medians = [summary[n]["total_median"] for n in names]
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(names) + 1.8))
    labels = [LABELS.get(n.removesuffix("/command"), n) for n in names]
    p90 = [summary[n]["total_p90"] for n in names]
    _bars(
        ax,
        labels,
        medians,
        [_COLD_STYLE.get(n, "other") for n in names],
        [f"{m:,.1f} ms (p90 {p:,.1f})" for m, p in zip(medians, p90, strict=True)],
        ends=p90,
    )
    positions = list(range(len(names)))[::-1]
    whiskers = [[0.0] * len(names), [p - m for p, m in zip(p90, medians, strict=True)]]
    ax.errorbar(
        medians, positions, xerr=whiskers, fmt="none", ecolor="#333333", capsize=3, linewidth=1
    )
    if "naive-python/command" in summary:
        goal = 0.3 * summary["naive-python/command"]["total_median"]
        _target(ax, goal, f"target: at most 0.3x naive Python's median = {goal:.0f} ms")
        ax.legend(loc="center right", fontsize=8)
    ax.set_xlabel("fresh runtime process to first answer, ms (bar: median, whisker: p90)")
    runs = len(next(iter(results["cold"].values())))
    ax.set_title(
        f"Cold start of the command function ({runs} runs each, local harness + moto)", pad=18
    )
    fig.tight_layout()
    fig.savefig(folder / "coldstart.png", dpi=110)
    plt.close(fig)

    # Decode + fold: one panel per stream, ms for the whole stream (the first page is the
    # README's "1 MB page"), the targets drawn where they are.
    cases = list(results["throughput"]["cases"])
    rows = [r for r in results["throughput"]["rows"] if r["kind"] == "decode+fold"]
    implementations = [i for i in THROUGHPUT_LABELS if any(r["implementation"] == i for r in rows)]
    fig, axes = plt.subplots(len(cases), 1, figsize=(10, 3.3 * len(cases) + 0.6))
    for ax, case in zip(list(axes) if len(cases) > 1 else [axes], cases, strict=True):
        ms = {
            r["implementation"]: r["seconds"] * 1000
            for r in rows
            if r["case"] == case and r["implementation"] in implementations
        }
        order = sorted(ms, key=ms.__getitem__)
        _bars(
            ax,
            [THROUGHPUT_LABELS[i] for i in order],
            [ms[i] for i in order],
            [_THROUGHPUT_STYLE.get(i, "other") for i in order],
            [f"{ms[i]:,.1f} ms" for i in order],
        )
        info = results["throughput"]["cases"][case]
        what = "one 1 MB Query page" if case == "first-page" else f"a {case}-event stream"
        ax.set_title(
            f"{what}: {info['events']:,} events in {info['pages']} page(s), "
            f"{info['bytes'] / 1e6:.1f} MB of response JSON",
            fontsize=10,
            loc="left",
        )
        if case == "first-page" and "boto3" in ms and "rust-typed" in ms:
            fast, near = ms["boto3"] / 25, ms["rust-typed"] * 1.5
            _target(ax, fast, f"target: 25x faster than boto3 = {fast:.1f} ms")
            _target(ax, near, f"target: within 1.5x of Rust typed = {near:.1f} ms", ":")
            ax.legend(loc="center right", fontsize=8)
        ax.set_xlabel("ms to decode and fold, lower is better")
    fig.suptitle("Decode + fold of DynamoDB Query responses into the Account state")
    fig.tight_layout()
    fig.savefig(folder / "throughput.png", dpi=110)
    plt.close(fig)
    return ["coldstart.png", "throughput.png"]


# -- the report ---------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _load(machine: dict[str, Any]) -> str:
    load = machine.get("load_average_at_start")
    if not load:
        return ""
    return f" (load average {load[0]:.1f} on {machine['cores']} cores when the run started)"


def render(results: dict[str, Any], published: dict[str, Any], chart_dir: str) -> str:
    m = results["machine"]
    s = results["settings"]
    out: list[str] = []
    add = out.append
    add("# hotcore benchmark report\n")
    add(
        f"Run {results['started']}, {results['duration_s']} s, "
        f"{'quick mode' if s['quick'] else 'full run'} (`hotcore bench"
        f"{' --quick' if s['quick'] else ''}`). Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, {m['arch']}, Linux {m['kernel']}, Python {m['python']}, "
        f"{m['rustc']}. The machine is shared and noisy{_load(m)}: absolute times vary from "
        "run to run; the ratios, all taken within this one run, are what to read. hotcore "
        "(compiled) is 1.0 in every ratio.\n"
    )
    add("## Headline\n")
    add(headline_table(results) + "\n")
    add(
        "Cold start: fresh runtime process to first response, local Lambda harness, against "
        "the moto DynamoDB emulator (load, fold, decide a withdrawal, conditional append). "
        "1 MB page: one DynamoDB Query page of Account events (DynamoDB's 1 MB of items), "
        "decoded and folded; Rust's column is its Lambda's own load path (serde into the "
        "SDK's AttributeValues, then serde_dynamo). Lambda $: the Lambda share of the cost "
        "model below; DynamoDB, EventBridge and AppSync cost the same for all four.\n"
    )
    add("## Targets\n")
    rows = []
    for t in targets(results, published):
        verdict = "—" if t["met"] is None else ("met" if t["met"] else "**missed**")
        rows.append([t["target"], t["goal"], t["text"], verdict])
    add(_table(["target (issue 8)", "goal", "measured", ""], rows) + "\n")
    missed = [t for t in targets(results, published) if t["met"] is False]
    if missed:
        add(
            "Where a target is missed, it is missed on this machine in this run; the gap is "
            "hotcore's to close, and this benchmark is the proof either way.\n"
        )
    add("## Cold start\n")
    add(f"![cold start per implementation]({chart_dir}/coldstart.png)\n")
    base = _cold(results, "hotcore-compiled/command")
    rows = []
    for name, summary in sorted(
        results["cold_summary"].items(), key=lambda kv: kv[1]["total_median"]
    ):
        rows.append(
            [
                name,
                f"{summary['total_median']:.1f}",
                f"{summary['total_p90']:.1f}",
                f"{summary['init_median']:.1f}",
                f"{summary['invoke_median']:.1f}",
                f"{summary['cpu_median']:.0f}",
                f"{summary['rss_median']:.1f}",
                _ratio(summary["total_median"], base),
            ]
        )
    add(
        _table(
            [
                "function",
                "total median ms",
                "p90 ms",
                "init ms",
                "first invoke ms",
                "CPU ms",
                "peak RSS MiB",
                "vs hotcore command",
            ],
            rows,
        )
        + "\n"
    )
    add(
        f"{s['runs']} cold starts per function, interleaved. total = process start -> first "
        "answer; init = -> first poll of the Runtime API; CPU = user + system time of the "
        "runtime process over its life (wait4); peak RSS = VmHWM when it answered. Every "
        "answer was checked: each withdrawal accepted, each query answering the same state. "
        f"Each command loads its own stream of {results['seed_events']} events. The emulator "
        f"itself takes {results['emulator_ms']['load']:.1f} ms for the load's Query (newest "
        "first, strongly consistent; item layout 2) (median, timed from the benchmark "
        "process), plus the conditional PutItem of a command: much of every first invoke is "
        "the emulator's time, the same for all implementations.\n"
    )
    add("### Lambda projection\n")
    proj = projection(results, published)
    rows = [
        [
            name,
            f"{p['published_hello_ms']:.0f}",
            f"{p['increment_ms']:.1f}",
            f"{p['projected_ms']:.0f}",
        ]
        for name, p in proj.items()
    ]
    add(
        _table(
            ["function", "published hello init ms", "measured increment ms", "projected ms"], rows
        )
        + "\n"
    )
    add(
        f"Published hello-world inits: {published['source']}, {published['date']} "
        f"(python3.13 {published['init_ms']['python']:.0f} ms, Rust on provided.al2023 "
        f"{published['init_ms']['rust']:.0f} ms; `bench/lambda-perf.toml`). The increment is "
        "each implementation's median cold start minus its own runtime's hello world in this "
        "harness. It is a projection, measured on x86_64, not a measurement on Lambda arm64.\n"
    )
    add("### Bootstraps and HTTPS\n")
    rows = [
        [
            row["ratio"],
            f"{row['value']:.2f}x",
            f"<= {row['goal']}x" if row["goal"] else "reported",
            f"{row['top_ms']:.1f} / {row['bottom_ms']:.1f}",
        ]
        for row in coldstart.ratios(results["cold_summary"])
    ]
    add(_table(["ratio of median cold starts", "value", "target", "ms / ms"], rows) + "\n")
    add(_cold_start_parts(results))
    add(
        "Python functions start as the managed python3.13 runtime starts them: its bootstrap "
        "script, the base interpreter without this checkout's venv (boto3 in the runtime's "
        "site-packages, awslambdaric in LAMBDA_RUNTIME_DIR, the naive baseline's Powertools "
        "and pydantic in its own layer folder). `hotcore-compiled` runs under hotcore's "
        "bootstrap (the layer's exec wrapper, `AWS_LAMBDA_EXEC_WRAPPER=/opt/hotcore-bootstrap`), "
        "`hotcore-compiled-awslambdaric` the same code under awslambdaric. `-https` functions "
        "reach the emulator through a TLS terminator on 127.0.0.1 (`hotcore_dev.tls`, its own "
        "process) whose certificate a fresh test CA signed; each implementation trusts that CA "
        "the way its SDK is told to (hotcore `HOTCORE_CA_BUNDLE`, boto3 `AWS_CA_BUNDLE`, the "
        "Rust SDK `SSL_CERT_FILE`), so each pays its own TLS setup and handshake, as on "
        "Lambda. docs/coldstart.md explains the parts of a cold start.\n"
    )
    add("## Import time\n")
    rows = []
    for name, found in results["imports"].items():
        top = ", ".join(f"{p} {ms:.1f}" for p, ms in found["top"][:5])
        rows.append([name, str(found["modules"]), f"{found['ms']:.1f}", top])
    add(
        _table(["handler", "modules beyond hello", "import ms", "largest packages (ms)"], rows)
        + "\n"
    )
    add(
        "`-X importtime` self times summed over the modules a handler imports beyond the "
        "hello world of the same bootstrap, in the real runtime process, median per module "
        f"over {s['importtime_runs']} cold start(s). importtime's own overhead inflates "
        "these a little.\n"
    )
    floor_rows = [
        [module, f"{found['median_ms']:.1f}", f"{found['min_ms']:.1f}", " ".join(found["modules"])]
        for module, found in results.get("import_floor", {}).items()
    ]
    if floor_rows:
        add(
            _table(
                ["handler", "median ms", "min ms", "modules it loads beyond msgspec"], floor_rows
            )
            + "\n"
        )
        add(
            "The issue's floor: the handler's import, its init included, timed in a fresh "
            "`-S -I` interpreter that has imported msgspec alone (the floor of any msgspec "
            "handler), with only the layer and the handlers on the path.\n"
        )
    rows = [[label, f"{ms:.1f}"] for label, ms in results["import_pieces"].items()]
    add(_table(["import on its own (after the runtime's own imports)", "ms"], rows) + "\n")
    tokens = results.get("token_verify")
    if tokens:
        steps = {
            "import": "import hotcore.entrypoints.tokens",
            "first": "first verification (pinned JWKS parsed, RSA-2048, claims)",
            "warm": "a later verification",
        }
        rows = [
            [label, f"{tokens[key]['median_ms']:.2f}", f"{tokens[key]['min_ms']:.2f}"]
            for key, label in steps.items()
        ]
        add(_table(["end-user ID token, per command function", "median ms", "min ms"], rows))
        add(
            f"\nWhat a mutation carrying an ID token adds ({tokens['runs']} fresh `-S -I` "
            "interpreters, the command path already imported; `bench/token_verify.py`): the "
            "token module and the first verification on the first such request, a later "
            "verification on every one after (docs/security.md).\n"
        )
    add(
        "hotcore's handlers use none of Powertools: they write JSON logs and EMF metric "
        "lines with msgspec (`hotcore.entrypoints.observability`), parse events with msgspec "
        "Structs and talk to DynamoDB through their own SigV4 client. The rows above are "
        "what each piece would add to a cold start.\n"
    )
    add("## Decode + fold throughput\n")
    add(f"![decode + fold throughput]({chart_dir}/throughput.png)\n")
    for case, info in results["throughput"]["cases"].items():
        base_t = _throughput(results, "msgspec-compiled", case, "decode+fold")
        rows = []
        for row in sorted(
            (
                r
                for r in results["throughput"]["rows"]
                if r["case"] == case and r["kind"] == "decode+fold"
            ),
            key=lambda r: r["seconds"],
        ):
            rows.append(
                [
                    THROUGHPUT_LABELS.get(row["implementation"], row["implementation"]),
                    _ms(row["seconds"] * 1000),
                    f"{row['ns_per_event']:.0f}",
                    f"{row['mb_per_s']:.0f}",
                    _ratio(row["seconds"], base_t),
                ]
            )
        add(
            f"**{case}**: {info['events']} events, {info['pages']} page(s), "
            f"{info['bytes'] / 1e6:.1f} MB of response JSON\n"
        )
        add(
            _table(["implementation", "fastest round", "ns/event", "MB/s", "time vs hotcore"], rows)
            + "\n"
        )
    rows = []
    for row in results["throughput"]["rows"]:
        if row["kind"] == "fold-only":
            rows.append(
                [
                    row["implementation"],
                    row["case"],
                    _ms(row["seconds"] * 1000),
                    f"{row['ns_per_event']:.0f}",
                ]
            )
    add("Fold alone (events already decoded), interpreted vs compiled reducer:\n")
    add(_table(["reducer", "stream", "fastest round", "ns/event"], rows) + "\n")
    reducers = results["throughput"].get("reducers", {})
    if reducers:
        rows = []
        for name, r in sorted(reducers.items()):
            interpreted, compiled = r["interpreted"], r["compiled"]
            rows.append(
                [
                    name,
                    str(r["events"]),
                    f"{interpreted['fold_ns_per_event']:.1f}" if interpreted else "n/a",
                    f"{compiled['fold_ns_per_event']:.1f}" if compiled else "n/a",
                    f"{r['speedup']:.2f}x" if r["speedup"] else "n/a",
                    f"{r['decode_ns_per_event']:.0f}",
                    "; ".join(r["advice"]) or "none",
                ]
            )
        add(
            "Every aggregate's reducer on a generated stream (`hotcore bench fold NAME "
            "--in-process` on the compiled build; the interpreted fold is the same source, "
            "its pure twin), with the store's page read per event and what "
            "`hotcore bench fold` says keeps mypyc from speeding the reducer up:\n"
        )
        add(
            _table(
                [
                    "aggregate",
                    "events",
                    "interpreted ns/event",
                    "compiled ns/event",
                    "compiled speedup",
                    "page read ns/event",
                    "advice",
                ],
                rows,
            )
            + "\n"
        )
    add(_where_the_time_goes(results) + "\n")
    profile = _read_profile(results)
    if profile:
        add(profile)
    rows = [[r["implementation"], f"{r['us']:.1f}"] for r in results["throughput"]["append"]]
    add("Append path, one Withdrawn event to the PutItem request bytes (no network):\n")
    add(_table(["implementation", "µs per append"], rows) + "\n")
    loads = results["throughput"].get("snapshot_load", [])
    if loads:
        rows = [
            [r["implementation"], f"{r['bytes'] / 1024:.1f} KB", f"{r['us']:.1f}"] for r in loads
        ]
        add(
            "A command's state load at steady state (snapshot every 12): one Query page of "
            "the newest 12 items, newest first, the oldest carrying the snapshot (state and "
            "64 recent commands); hotcore's `load_latest` + `fold_latest` against the naive "
            "baseline's `load` (boto3's parser included) on the same bytes:\n"
        )
        add(_table(["implementation", "page", "µs per load"], rows) + "\n")
    publish = results["throughput"].get("publish", [])
    if publish:
        rows = [
            [r["implementation"], str(r["records"]), f"{r['us_per_record']:.2f}"] for r in publish
        ]
        add(
            "Streams publisher, a batch of DynamoDB Streams INSERTs to PutEvents entries "
            "(per-record decode + entry build; no request): hotcore checks each `NewImage`'s "
            "envelope against its item and passes the stored JSON on as `Detail`, and gives "
            "each command's last entry the subscribers' copy of its events (decoded against "
            "their contract, upcast, shaped as the GraphQL API's objects, re-encoded: the one "
            "AppSync publish per command of issue 19); the naive baseline "
            "(`bench/naive/publisher.py`) runs `TypeDeserializer` and pydantic on it and "
            "builds no subscribers' copy. In this bench each record is a command of its own, "
            "so every entry pays for that copy:\n"
        )
        add(_table(["implementation", "records", "µs per record"], rows) + "\n")
    add(
        "Same bytes for everyone: the pages are written once (`hotcore_dev.history`, items "
        "exactly as the DynamoDB store writes them, cut at 1 MB of items as DynamoDB counts "
        "them) and every implementation, Rust's `fold-bench` included, reads those files and "
        "must fold them to the same state before it is timed. Every figure is the fastest "
        "round (on a shared machine load only adds time; a median moved by 2x between two "
        "builds running the same decoder in one run): Python, pytest-benchmark's minimum of "
        f"at least {s['rounds']} rounds (up to 30, about a second of them) after a warm-up, "
        f"GC off; Rust, fold-bench's fastest of {max(s['rounds'], 20)} passes, run once "
        "before and once after the Python suites, the "
        "faster kept (the machine's load changes over minutes; the choice favours Rust). "
        "Item layout 2 makes an event item about 317 bytes as DynamoDB counts it (the "
        "envelope JSON in `e`, the fingerprint in `f`): 3,324 events fill a 1 MB page, and "
        "boto3's share of the work "
        "shrinks (one string attribute per event instead of a map of typed values).\n"
    )
    add(cost_section(results) + "\n")
    add("## What this does not show\n")
    add(
        "- Invoke times include the emulator's latency, and moto is slower than DynamoDB "
        "(about 1 ms per item a Query returns); the cost model assumes AWS's round trips "
        "instead of using moto's.\n"
        "- Everything runs on x86_64 here; Lambda's target is arm64 (Graviton). The Rust "
        "baseline builds for arm64 too (tools/cross/rust-arm64.sh) but is timed on x86_64 "
        "here (see bench/rust/README.md).\n"
        "- The harness starts runtimes on a warm page cache: a Lambda cold start also "
        "downloads and unpacks the code and layers.\n"
    )
    return "\n".join(out)


# -- the cost model (issue 19) -------------------------------------------------------------

#: The measured kinds' columns of the cost tables, in order.
_COST_SERVICES = (
    "Lambda",
    "DynamoDB",
    "EventBridge",
    "AppSync",
    "Step Functions",
    "CloudWatch Logs",
)


def _usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:.2f}" if value >= 0.005 or value == 0 else f"${value:.3f}"


def cost_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 19's targets, as rows of the report's targets table."""
    c = results.get("cost", {})
    t = c.get("targets")
    if t is None:
        return []
    basis = c["basis"]
    limit = t["limit_usd"]
    return [
        {
            "target": "DynamoDB per single-event command (issue 19)",
            "goal": "<= 2 WRU + 1 strongly consistent read",
            "value": t["wru"],
            "text": f"{t['wru']:.2f} WRU + {t['strongly_consistent_reads']:g} strongly "
            f"consistent Query ({t['rru']:g} RRU); was {basis['write_request_units']:g} WRU "
            f"+ {basis['strongly_consistent_reads']:g} reads",
            "met": t["dynamodb_met"],
        },
        {
            "target": "single-event command per million vs the basis (issue 19)",
            "goal": f"<= {basis['target_ratio']:.2f}x ${basis['single_event_usd']:.2f} = "
            f"${limit:.2f}",
            "value": t["like_for_like_usd"],
            "text": f"${t['like_for_like_usd']:.2f} "
            f"({t['like_for_like_usd'] / basis['single_event_usd']:.2f}x): the lines the "
            "basis counted, at its prices",
            "met": t["like_for_like_met"],
        },
        {
            "target": "the same, everything counted: publisher function, logs (issue 19)",
            "goal": f"<= ${limit:.2f} (the basis left these out)",
            "value": t["full_usd"],
            "text": f"${t['full_usd']:.2f} ({t['full_usd'] / basis['single_event_usd']:.2f}x)",
            "met": t["full_met"],
        },
    ]


def cost_table_markdown(rows: Sequence[Sequence[str]]) -> str:
    """The targets' rows as a table (for the cost step's own report)."""
    return _table(["target (issue 19)", "goal", "measured", ""], rows)


def splice_cost(text: str, results: dict[str, Any], note: str) -> str:
    """A REPORT.md with its cost model section and issue 19's target rows replaced by
    ``results``' (the cost step alone refreshing a committed full run's report); ``note``
    says which run the new part comes from."""
    head, found, rest = text.partition("## Cost model\n")
    if not found:
        raise ValueError("the report has no '## Cost model' section")
    _, found, tail = rest.partition("## What this does not show")
    if not found:
        raise ValueError("the report has no '## What this does not show' section")
    section = cost_section(results).replace("## Cost model\n", f"## Cost model\n\n{note}\n", 1)
    lines = head.splitlines()
    kept = [line for line in lines if "(issue 19)" not in line]
    start = next(i for i, line in enumerate(kept) if line.startswith("| target ("))
    end = start
    while end + 1 < len(kept) and kept[end + 1].startswith("|"):
        end += 1
    rows = [
        f"| {t['target']} | {t['goal']} | {t['text']} | {'met' if t['met'] else '**missed**'} |"
        for t in cost_targets(results)
    ]
    kept[end + 1 : end + 1] = rows
    return "\n".join(kept) + "\n" + section + "\n## What this does not show" + tail


def cost_section(results: dict[str, Any]) -> str:
    """The report's cost model: the measured counts, the dollars, the alternatives."""
    c = results["cost"]
    measured = c["measured"]
    kinds = c["kinds"]
    a = c["assumptions"]
    out: list[str] = ["## Cost model\n"]
    out.append(
        "What one request of each kind asks of AWS, **measured**: each kind ran against the "
        "emulator (`bench/metered.py`) through the real Lambda entry points, the tables' "
        "streams read as the event source mappings read them, the publishers, every delivery "
        "rule and the PlaceOrder state machine; DynamoDB's request units metered as DynamoDB "
        "bills them (`hotcore_dev.capacity`), every Lambda invocation, EventBridge entry, "
        "AppSync operation and state transition counted where the code asks for it. Averaged "
        "over each kind's repetitions, in steady state (a full recent-commands window, a "
        "whole snapshot cycle).\n"
    )
    rows = []
    for u in measured.values():
        lam = u["lambda"]
        invocations = ", ".join(f"{f['invocations']:g} {k}" for k, f in lam.items())
        requests = ", ".join(f"{n:g} {op}" for op, n in u["dynamodb_requests"].items())
        logs = sum(f["invocations"] * f["log_bytes"] for f in lam.values()) + u["sfn_log_bytes"]
        rows.append(
            [
                u["label"],
                requests,
                f"{u['dynamodb_rru']:.3g} ({u['strongly_consistent_rru']:.3g})",
                f"{u['dynamodb_wru']:.3g}",
                invocations,
                f"{u['eventbridge_entries']:g}",
                f"{u['appsync_client_operations']:g} + {u['appsync_publishes']:g}",
                f"{u['appsync_publish_increments'] * a['subscribers_per_stream']:g}",
                f"{u['sfn_transitions']:g}",
                f"{logs / 1024:.1f}",
            ]
        )
    out.append(
        _table(
            [
                "kind",
                "DynamoDB requests",
                "RRU (strongly consistent)",
                "WRU",
                "Lambda invocations",
                "EventBridge entries",
                "AppSync ops (front end + publish)",
                "real-time messages",
                "Step Functions transitions",
                "logs KB",
            ],
            rows,
        )
        + "\n"
    )
    out.append(
        f"USD per million requests of each kind, list prices of {c['prices_date']} "
        f"({c['region']}, `bench/prices.toml`, sources there), {a['subscribers_per_stream']} "
        "subscriber(s) per stream:\n"
    )
    rows = []
    for k in kinds.values():
        by = {line["service"]: line["usd"] for line in k["lines"]}
        rows.append(
            [
                k["label"],
                *[_usd(by[s]) for s in _COST_SERVICES],
                f"**{_usd(k['total_usd'])}**",
                _usd(k["cheapest_usd"]),
            ]
        )
    out.append(
        _table(["kind", *_COST_SERVICES, "total", "with every alternative below"], rows) + "\n"
    )
    out.append(
        "Beside each line, the cheapest alternative a user could pick: what each kind would "
        "cost on that line with it, and what it gives up.\n"
    )
    rows = []
    for service in _COST_SERVICES:
        alternatives = {
            line["alternative"]
            for k in kinds.values()
            for line in k["lines"]
            if line["service"] == service and line["alternative"]
        }
        trade = next(
            (
                line["trade_off"]
                for k in kinds.values()
                for line in k["lines"]
                if line["service"] == service and line["trade_off"]
            ),
            "",
        )
        cells = []
        for k in kinds.values():
            line = next(x for x in k["lines"] if x["service"] == service)
            if line["alternative_usd"] is None:
                cells.append(_usd(line["usd"]))
            else:
                cells.append(f"{_usd(line['usd'])} → {_usd(line['alternative_usd'])}")
        rows.append([service, " / ".join(sorted(alternatives)) or "—", trade, *cells])
        if service == "Lambda":
            rows.append(
                [
                    "Lambda, option",
                    "SnapStart (adds)",
                    f"restores at {a['cold_start_share']:.0%} cold starts (their billed restore "
                    f"time replaces the init's), plus ${c['snapstart_cache_month_usd']:.2f} a "
                    "month per function version for its cache; runs under awslambdaric, not "
                    "hotcore's bootstrap",
                    *[f"+{_usd(k['snapstart_usd'])}" for k in kinds.values()],
                ]
            )
        if service == "AppSync":
            rows.append(
                [
                    "AppSync, per subscriber",
                    "each further subscriber per stream (adds)",
                    "GraphQL subscriptions: $2 per million messages of 5 KB; with AppSync "
                    "Events: $1",
                    *[
                        f"+{_usd(k['subscriber_usd'])} "
                        f"(Events +{_usd(k['subscriber_events_api_usd'])})"
                        for k in kinds.values()
                    ],
                ]
            )
    out.append(
        _table(
            [
                "line",
                "cheapest alternative",
                "what it gives up",
                *[k["label"] for k in kinds.values()],
            ],
            rows,
        )
        + "\n"
    )
    sources = c["cpu_sources"]
    notes = [
        f"Lambda: arm64 at {a['memory_mb']} MB; billed duration = CPU of a warm invocation "
        f"stretched by the CPU share of {a['memory_mb']} MB ({a['full_vcpu_memory_mb']} MB "
        f"buys one vCPU) + {a['dynamodb_request_ms']:g} ms per DynamoDB request, "
        f"{a['eventbridge_request_ms']:g} ms per PutEvents, {a['appsync_request_ms']:g} ms per "
        f"AppSync request, rounded up to the ms; {a['cold_start_share']:.0%} of invocations are "
        "cold and also bill their init CPU. CPU: "
        + "; ".join(f"{kind}: {text}" for kind, text in sources.items())
        + ".",
        "Publishers: one invocation per stream batch as the measured flow produced them (one "
        "command's events at a time; under load a batch holds more records and costs less "
        "per command). The streams' reads by the event source mappings are free.",
        f"Real-time delivery is priced per subscriber: each publish reaches "
        f"{a['subscribers_per_stream']} subscriber(s) of its stream; each further subscriber adds "
        "$2.00 per million publishes (5 KB each) with GraphQL subscriptions, $1.00 with "
        "AppSync Events. A front end's open connection costs $0.08 per million minutes "
        "($0.0035 a month), whatever it receives.",
        "Not counted: data transfer out of AWS, DynamoDB storage, custom metrics ($0.30 per "
        "metric a month, whatever the traffic), X-Ray (the state machine traces; Lambda "
        "tracing is off unless TRACING=active).",
    ]
    out.append("\n".join(f"- {n}" for n in notes) + "\n")
    kinds_notes = [f"- *{u['label']}*: {u['notes']}." for u in measured.values() if u.get("notes")]
    out.append("\n".join(kinds_notes) + "\n")
    return "\n".join(out)


def _where_the_time_goes(results: dict[str, Any]) -> str:
    """One sentence: how much of hotcore's decode + fold is the reducer."""
    cases = results["throughput"]["cases"]
    longest = max(cases, key=lambda c: cases[c]["events"])
    fold = _throughput(results, "reducer-compiled", longest, "fold-only")
    both = _throughput(results, "msgspec-compiled", longest, "decode+fold")
    if fold is None or both is None:
        return "The compiled build was not measured: no fold-only figure."
    share = fold / both * 100
    return (
        f"Where the time goes ({longest}): the compiled reducer is {share:.0f}% of hotcore's "
        f"decode + fold ({fold / cases[longest]['events'] * 1e9:.0f} of "
        f"{both / cases[longest]['events'] * 1e9:.0f} ns per event); the rest is the store's "
        "page read (`hotcore.codec.events`: the items of layout 2 in one pass, then each "
        "envelope's version, command id and data, its contract union checked in full). "
        "Compiling the reducer cannot move this figure much; the read can (`hotcore bench "
        "fold --profile` shows where it spends its time)."
    )


def _cold_start_parts(results: dict[str, Any]) -> str:
    """Where a command's cold start goes, phase by phase (medians of this run), hotcore
    against Rust: the profile behind the cold-start targets."""
    summary = results["cold_summary"]
    pairs = [
        ("hotcore (compiled, own bootstrap)", "hello-hotcore", "hotcore-compiled/command"),
        ("Rust (lambda_runtime)", "hello-rust", "rust/command"),
    ]
    rows = []
    parts: dict[str, list[float]] = {}
    for label, hello, command in pairs:
        if hello not in summary or command not in summary:
            return ""
        start = summary[hello]["init_median"]
        handler = summary[command]["init_median"] - start
        invoke = summary[command]["invoke_median"]
        parts[label] = [start, handler, invoke, summary[command]["total_median"]]
        rows.append([label, *(f"{value:.1f}" for value in parts[label])])
    (ours, rust) = parts.values()
    gap = ours[3] - rust[3]
    if gap <= 0:
        return ""
    shares = ", ".join(
        f"{name} {(a - b) / gap * 100:.0f}%"
        for name, a, b in zip(
            ("the runtime's start", "the handler's import and init", "the first invocation"),
            ours,
            rust,
            strict=False,
        )
    )
    table = _table(
        [
            "command cold start, medians",
            "runtime start to its first poll (hello world's init) ms",
            "handler import and init ms",
            "first invocation ms",
            "total ms",
        ],
        rows,
    )
    return (
        "Where a command's cold start goes (plain HTTP; the phases are differences of this "
        "run's medians, so they are indications, not a trace):\n\n"
        f"{table}\n\n"
        f"The gap to Rust is {gap:.1f} ms: {shares}. The first invocation includes the "
        f"emulator's own {results['emulator_ms']['load']:.1f} ms for the load's Query, the "
        "same for both; the handler's import is listed module by module in the import "
        "tables below.\n"
    )


def _read_profile(results: dict[str, Any]) -> str:
    """The read path's stages, each timed alone (``bench.throughput.stages``): the profile
    behind the decode + fold targets."""
    rows = results["throughput"].get("stages")
    if not rows:
        return ""
    table = _table(
        ["stage", "ns/event", "share of the whole"],
        [[r["stage"], f"{r['ns_per_event']:.0f}", f"{r['share'] * 100:.0f}%"] for r in rows],
    )
    parses = sum(r["share"] for r in rows if "msgspec" in r["stage"]) * 100
    return (
        "Where the 1 MB page's decode + fold goes, stage by stage (compiled build, each "
        "stage timed alone on the same page, stages interleaved, fastest round of each; "
        "`python -m bench.throughput.stages first-page 60`; a profiler's per-call hooks "
        "would inflate the Python loops against the C calls):\n\n"
        f"{table}\n\n"
        f"msgspec's two parses (the page, then each envelope's string, as Rust's serde does) "
        f"are {parses:.0f}% of the whole; what is left to take is the Python between them "
        '(the version check and the patterned classes\' twins, docs/store.md, "Patterns"). '
        "The reducer is the fold row: compiling it moves only that row.\n"
    )


def write_report(results: dict[str, Any], paths: BenchPaths, target: Path) -> Path:
    """REPORT.md in ``target``, charts and results.json in ``target/report``."""
    published = lambda_perf(paths)
    results["projection"] = projection(results, published)
    results["targets"] = targets(results, published)
    folder = target / "report"
    charts(results, folder)
    (folder / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    report = target / "REPORT.md"
    report.write_text(render(results, published, "report"))
    return report
