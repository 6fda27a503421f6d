"""hotcore's benchmarks: baselines (naive/, rust/), throughput suites (throughput/), the report."""
