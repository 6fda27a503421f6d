//! The work of the two Account Lambdas, independent of the Lambda runtime: configuration
//! from the environment, the command flow (load, fold, decide, conditional append, retry
//! on a lost race, snapshot) and the query (load, fold), as hotcore's runtime does them.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::time::Duration;

use aws_config::BehaviorVersion;
use lambda_runtime::Diagnostic;

use serde_json::json;

use crate::contracts::{
    AccountView, CommandAck, CommandOutcome, CommandRequest, GetAccount, Rejection,
};
use crate::domain;
use crate::item::fingerprint;
use crate::store::{AccountStore, Metadata, StoreError};

/// How many times a command is decided before giving up on a stream that keeps moving
/// (hotcore's default).
pub const MAX_ATTEMPTS: u32 = 8;
/// The first backoff cap after a lost race; it doubles with every attempt (hotcore's).
const BACKOFF: Duration = Duration::from_millis(5);

/// Why a command or query could not be answered (a rejection is an answer, not an error).
#[derive(Debug)]
pub enum HandlerError {
    /// The environment lacks a setting the function needs.
    Config(String),
    /// Every attempt lost the race for the next version of the stream.
    ConcurrencyConflict {
        stream_id: String,
        attempts: u32,
    },
    Store(StoreError),
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::Config(message) => f.write_str(message),
            HandlerError::ConcurrencyConflict {
                stream_id,
                attempts,
            } => write!(
                f,
                "stream {stream_id} kept changing: gave up after {attempts} attempts"
            ),
            HandlerError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for HandlerError {}

impl From<StoreError> for HandlerError {
    fn from(e: StoreError) -> Self {
        HandlerError::Store(e)
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::Config(_) => "ConfigurationError",
            HandlerError::ConcurrencyConflict { .. } => "ConcurrencyConflict",
            HandlerError::Store(StoreError::BadItem(_)) => "CorruptStream",
            HandlerError::Store(StoreError::TooManyEvents { .. }) => "TransactionTooLarge",
            HandlerError::Store(_) => "StoreError",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// The Account service of one execution environment: built once at init, reused by
/// every invocation.
#[derive(Debug, Clone)]
pub struct Account {
    pub store: AccountStore,
    /// A snapshot rides on a command's last event once the stream is this many events
    /// past the snapshot its load started from (or past 0), as in hotcore.
    pub snapshot_every: u64,
}

impl Account {
    /// Builds the service from the environment: the table from `ACCOUNT_TABLE` (or
    /// hotcore's `HOTCORE_TABLE`), `HOTCORE_SNAPSHOT_EVERY` (default 12, as hotcore), and
    /// the SDK's own settings (`AWS_REGION`, static credentials, and
    /// `AWS_ENDPOINT_URL_DYNAMODB` for an emulator).
    pub async fn from_env() -> Result<Self, HandlerError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let table = var("ACCOUNT_TABLE").or_else(|| var("HOTCORE_TABLE")).ok_or_else(|| {
            HandlerError::Config(
                "ACCOUNT_TABLE (or HOTCORE_TABLE) is not set: it must name the Account event table".into(),
            )
        })?;
        let raw_every = var("HOTCORE_SNAPSHOT_EVERY").unwrap_or_else(|| "12".into());
        let snapshot_every = raw_every.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            HandlerError::Config(format!(
                "HOTCORE_SNAPSHOT_EVERY must be a positive integer, got {raw_every:?}"
            ))
        })?;
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Ok(Account {
            store: AccountStore::new(
                aws_sdk_dynamodb::Client::new(&config),
                table,
                snapshot_every,
            ),
            snapshot_every,
        })
    }

    /// Runs one command: load the stream, fold, decide, append (with a snapshot when one
    /// is due).
    ///
    /// Idempotency, as hotcore's: a command id the stream remembers (among the loaded
    /// events, or in the snapshot's list of recent commands) is answered without deciding:
    /// the same command (same fingerprint) gets its first outcome and appends nothing,
    /// another command under that id is refused (`command-id-reused`).
    pub async fn execute(&self, request: &CommandRequest) -> Result<CommandOutcome, HandlerError> {
        let store = &self.store;
        let stream_id = request.command.account_id().as_str();
        let command_id = request
            .command_id
            .as_ref()
            .map(|id| id.as_str().to_owned())
            .unwrap_or_else(new_command_id);
        let metadata = Metadata {
            correlation_id: request
                .correlation_id
                .as_ref()
                .map(|id| id.as_str().to_owned())
                .unwrap_or_else(|| command_id.clone()),
            causation_id: request
                .causation_id
                .as_ref()
                .map(|id| id.as_str().to_owned()),
            actor: request
                .actor
                .clone()
                .map(String::from)
                .unwrap_or_else(|| "direct".to_owned()),
            fingerprint: fingerprint(&request.command),
            command_id,
        };
        for attempt in 0..MAX_ATTEMPTS {
            let loaded = store.load(stream_id).await?;
            if let Some(seen) = loaded.find(&metadata.command_id) {
                let first = CommandAck {
                    command_id: metadata.command_id.clone(),
                    stream_id: stream_id.to_owned(),
                    version: seen.version,
                    events: seen.events,
                };
                return Ok(if metadata.fingerprint.starts_with(&seen.fingerprint) {
                    CommandOutcome::Accepted(first)
                } else {
                    CommandOutcome::Rejected(command_id_reused(&first))
                });
            }
            let events = match domain::decide(&loaded.state, &request.command) {
                Ok(events) => events,
                Err(rejection) => return Ok(CommandOutcome::Rejected(rejection)),
            };
            let due = loaded.version + events.len() as u64 - loaded.snapshot_version
                >= self.snapshot_every;
            let snapshot = due.then(|| domain::fold(loaded.state.clone(), &events));
            match store
                .append(&loaded, stream_id, &events, &metadata, snapshot.as_ref())
                .await
            {
                Ok(ack) => return Ok(CommandOutcome::Accepted(ack)),
                Err(StoreError::Conflict { .. }) => {
                    tracing::info!(
                        stream_id,
                        attempt,
                        "lost the race for the next version; retrying"
                    );
                    // Full jitter, as hotcore: 5 ms * 2^attempt at most.
                    tokio::time::sleep(jitter(BACKOFF * 2u32.pow(attempt))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(HandlerError::ConcurrencyConflict {
            stream_id: stream_id.to_owned(),
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Answers a query: load the stream and fold it.
    pub async fn query(&self, request: &GetAccount) -> Result<AccountView, HandlerError> {
        let stream_id = request.account_id.as_str();
        let loaded = self.store.load(stream_id).await?;
        Ok(AccountView {
            stream_id: stream_id.to_owned(),
            version: loaded.version,
            state: loaded.state,
        })
    }
}

/// hotcore's rejection of a command id already used for another command on the stream.
fn command_id_reused(first: &CommandAck) -> Rejection {
    let data = json!({
        "command_id": first.command_id,
        "stream_id": first.stream_id,
        "version": first.version,
    });
    Rejection {
        rule: "command-id-reused".to_owned(),
        message: format!(
            "command id {:?} was already used on {:?} for a different command; send this command with a new id",
            first.command_id, first.stream_id
        ),
        data: match data {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a json! object"),
        },
    }
}

/// A random delay in `[0, cap)`: full jitter, so racing writers spread out.
fn jitter(cap: Duration) -> Duration {
    let random = RandomState::new().hash_one(std::time::Instant::now());
    let nanos = cap.as_nanos().max(1) as u64;
    Duration::from_nanos(random % nanos)
}

/// A fresh random UUID (version 4), for commands sent without an id (as hotcore does).
pub fn new_command_id() -> String {
    // RandomState is seeded from the OS once per thread and differs on every call: good
    // enough for ids without pulling in a random-number crate.
    let state = RandomState::new();
    let mut bits = (u128::from(state.hash_one(1u8)) << 64) | u128::from(state.hash_one(2u8));
    bits = (bits & !(0xF << 76)) | (0x4 << 76); // version 4
    bits = (bits & !(0x3 << 62)) | (0x2 << 62); // RFC 4122 variant
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_command_ids_are_distinct_v4_uuids() {
        let a = new_command_id();
        let b = new_command_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]), "{a}");
        assert!(crate::contracts::Ref::try_from(a).is_ok());
    }

    #[test]
    fn jitter_stays_below_its_cap() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_millis(5)) < Duration::from_millis(5));
        }
    }
}
