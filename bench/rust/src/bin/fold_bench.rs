//! `fold-bench [--decoder typed|attribute-values] [--iterations N] FILE...`
//!
//! Reads raw DynamoDB Query response pages (JSON documents, concatenated or one per line,
//! across one or more files, oldest first, one stream), then times decode + fold of all
//! of them and prints one JSON object: `{"events", "ns_total", ...}`.

use std::process::ExitCode;

use account_baseline::bench::fold_bench;
use account_baseline::wire::{Decoder, split_documents};

const USAGE: &str = "usage: fold-bench [--decoder typed|attribute-values] [--iterations N] FILE...";

fn run() -> Result<String, String> {
    let mut decoder = Decoder::Typed;
    let mut iterations = 1u32;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--decoder" => {
                decoder = args.next().ok_or(USAGE)?.parse()?;
            }
            "--iterations" => {
                let n = args.next().ok_or(USAGE)?;
                iterations =
                    n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("--iterations must be a positive integer, got {n:?}")
                    })?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n{USAGE}"));
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        return Err(USAGE.to_owned());
    }
    let contents = files
        .iter()
        .map(|f| std::fs::read(f).map_err(|e| format!("cannot read {f}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut pages = Vec::new();
    for (file, bytes) in files.iter().zip(&contents) {
        pages.extend(split_documents(bytes).map_err(|e| format!("{file}: not JSON: {e}"))?);
    }
    let result = fold_bench(&pages, decoder, iterations).map_err(|e| e.to_string())?;
    serde_json::to_string(&result).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run() {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("fold-bench: {message}");
            ExitCode::from(2)
        }
    }
}
