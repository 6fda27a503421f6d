"""Benchmarks: cold start, decode + fold throughput and cost, against a naive-Python and a Rust
baseline, with a report and charts (``hotcore bench``), and the fold profiler for a user's
own aggregate (``hotcore bench fold``).

Run from a hotcore checkout: the baselines (``bench/naive``, ``bench/rust``), the
handlers and the test emulator live there. Nothing in a Lambda handler imports this
package.

- ``history``: valid event histories generated with an aggregate's own decider, and
  the DynamoDB Query pages that hold them.
- ``builds``: the compiled and pure-Python layers and the Rust binaries under test.
- ``coldstart``: fresh process to first response through the local Lambda harness,
  ``-X importtime`` totals.
- ``cost``: request units from item sizes, and the cost per million requests.
- ``report``: REPORT.md, the charts and the raw JSON.
- ``run``: ``hotcore bench`` itself; ``fold``: ``hotcore bench fold``.
"""
