//! Rust baseline for hotcore's benchmarks: the Account aggregate with the same rules and
//! the same DynamoDB item layout as hotcore, as a typical Rust team writes it
//! (lambda_runtime, serde, aws-sdk-dynamodb, serde_dynamo).
//!
//! The binaries in `src/bin` are thin: `account-command` and `account-query` are the two
//! Lambdas, `hello` the bare-runtime baseline, `fold-bench` the decode+fold benchmark.

pub mod bench;
pub mod contracts;
pub mod domain;
pub mod handler;
pub mod item;
pub mod store;
pub mod wire;
