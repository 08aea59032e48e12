//! Benchmarks only: see the `benches/` targets of this package.
