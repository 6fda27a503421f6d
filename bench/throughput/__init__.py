"""pytest-benchmark suites: decode + fold throughput and the append path's encode cost."""
