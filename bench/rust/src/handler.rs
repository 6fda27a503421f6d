//! The work of the two Account Lambdas, independent of the Lambda runtime: configuration
//! from the environment, the command flow (load, fold, decide, conditional append, retry
//! on a lost race) and the query (load, fold).

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::time::Duration;

use aws_config::BehaviorVersion;
use lambda_runtime::Diagnostic;

use crate::contracts::{AccountState, CommandOutcome, CommandRequest, GetAccount};
use crate::domain;
use crate::store::{AccountStore, Appended, Metadata, StoreError};

/// How often a command is decided again after losing a race for the next version.
pub const MAX_ATTEMPTS: u32 = 5;

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

/// Builds the store from the environment: `ACCOUNT_TABLE`, plus the SDK's own settings
/// (`AWS_REGION`, static credentials, `AWS_ENDPOINT_URL_DYNAMODB` for an emulator).
pub async fn store_from_env() -> Result<AccountStore, HandlerError> {
    let table = std::env::var("ACCOUNT_TABLE")
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            HandlerError::Config(
                "ACCOUNT_TABLE is not set: it must name the Account event table".into(),
            )
        })?;
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    Ok(AccountStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        table,
    ))
}

/// A random delay in `[0, cap)`: full jitter, so racing writers spread out.
fn jitter(cap: Duration) -> Duration {
    let random = RandomState::new().hash_one(std::time::Instant::now());
    let nanos = cap.as_nanos().max(1) as u64;
    Duration::from_nanos(random % nanos)
}

/// Runs one command: load the stream (strongly consistent), fold, decide, append.
///
/// Idempotency: a re-sent command id returns the first outcome and appends nothing. When
/// the decision accepts, the append's condition on the command record catches the
/// duplicate; when it rejects, the record is read, because a command that was accepted
/// once may be refused by the state it produced (a repeated withdrawal, say).
pub async fn execute(
    store: &AccountStore,
    request: &CommandRequest,
) -> Result<CommandOutcome, HandlerError> {
    let stream_id = request.command.account_id().as_str();
    let metadata = Metadata {
        command_id: request.command_id.to_string(),
        correlation_id: request
            .correlation_id
            .as_ref()
            .unwrap_or(&request.command_id)
            .to_string(),
        causation_id: request.causation_id.as_ref().map(ToString::to_string),
        actor: request
            .actor
            .clone()
            .map(String::from)
            .unwrap_or_else(|| "anonymous".to_owned()),
    };
    for attempt in 1..=MAX_ATTEMPTS {
        let loaded = store.load(stream_id, true).await?;
        let events = match domain::decide(&loaded.state, &request.command) {
            Ok(events) => events,
            Err(rejection) => {
                return Ok(match store.recorded_outcome(&metadata.command_id).await? {
                    Some(first) => CommandOutcome::Accepted(first),
                    None => CommandOutcome::Rejected(rejection),
                });
            }
        };
        match store
            .append(stream_id, loaded.version, &events, &metadata)
            .await
        {
            Ok(Appended::Committed(ack) | Appended::Duplicate(ack)) => {
                return Ok(CommandOutcome::Accepted(ack));
            }
            Err(StoreError::Conflict { .. }) if attempt < MAX_ATTEMPTS => {
                tracing::info!(
                    stream_id,
                    attempt,
                    "lost the race for the next version; retrying"
                );
                tokio::time::sleep(jitter(Duration::from_millis(10 << attempt))).await;
            }
            Err(StoreError::Conflict { .. }) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Err(HandlerError::ConcurrencyConflict {
        stream_id: stream_id.to_owned(),
        attempts: MAX_ATTEMPTS,
    })
}

/// Answers a query: load the stream (eventually consistent) and fold it.
pub async fn query(
    store: &AccountStore,
    request: &GetAccount,
) -> Result<AccountState, HandlerError> {
    Ok(store.load(request.account_id.as_str(), false).await?.state)
}
