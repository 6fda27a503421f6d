//! The fold benchmark as a library function: time decode + fold of raw Query pages, so the
//! Python benchmarks can compare per-event cost with Rust serde on the same bytes.

use std::hint::black_box;
use std::time::Instant;

use serde::Serialize;

use crate::contracts::AccountState;
use crate::wire::{Decoder, PageError, decode_and_fold};

/// What one benchmark run measured. `ns_total` is the median pass (one pass decodes and
/// folds every page once); `ns_min` the fastest.
#[derive(Debug, Clone, Serialize)]
pub struct FoldBench {
    pub events: u64,
    pub ns_total: u64,
    pub ns_min: u64,
    pub ns_per_event: f64,
    pub pages: usize,
    pub bytes: usize,
    pub iterations: u32,
    pub decoder: &'static str,
    /// The folded state, so a caller can check every implementation agrees.
    pub state: AccountState,
}

/// Decodes and folds `pages` `iterations` times (at least once) and reports the timings.
pub fn fold_bench(
    pages: &[&[u8]],
    decoder: Decoder,
    iterations: u32,
) -> Result<FoldBench, PageError> {
    let iterations = iterations.max(1);
    let mut passes = Vec::with_capacity(iterations as usize);
    let mut last = None;
    for _ in 0..iterations {
        let start = Instant::now();
        let folded = decode_and_fold(black_box(pages), decoder)?;
        passes.push(start.elapsed().as_nanos() as u64);
        last = Some(black_box(folded));
    }
    let folded = last.expect("at least one pass ran");
    passes.sort_unstable();
    let median = passes[passes.len() / 2];
    Ok(FoldBench {
        events: folded.events,
        ns_total: median,
        ns_min: passes[0],
        ns_per_event: if folded.events == 0 {
            0.0
        } else {
            median as f64 / folded.events as f64
        },
        pages: pages.len(),
        bytes: pages.iter().map(|p| p.len()).sum(),
        iterations,
        decoder: match decoder {
            Decoder::Typed => "typed",
            Decoder::AttributeValues => "attribute-values",
        },
        state: folded.state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_events_bytes_and_the_folded_state() {
        let page = br#"{"Items":[{"stream_id":{"S":"a"},"version":{"N":"1"},"type":{"S":"AccountOpened"},"e":{"S":"{\"stream_id\":\"a\",\"version\":1,\"type\":\"AccountOpened\",\"data\":{\"type\":\"AccountOpened\",\"owner_id\":\"o\"},\"command_id\":\"c\",\"correlation_id\":\"c\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"actor\":\"x\"}"},"f":{"S":"0123456789abcdef0123456789abcdef"}}],"Count":1}"#;
        let result = fold_bench(&[page], Decoder::Typed, 3).unwrap();
        assert_eq!(result.events, 1);
        assert_eq!(result.pages, 1);
        assert_eq!(result.bytes, page.len());
        assert_eq!(result.iterations, 3);
        assert!(result.ns_min <= result.ns_total);
        assert_eq!(result.state.owner_id, "o");
    }

    #[test]
    fn a_bad_page_is_an_error_not_a_timing() {
        assert!(fold_bench(&[b"{\"Items\":[{}]}"], Decoder::Typed, 1).is_err());
    }
}
