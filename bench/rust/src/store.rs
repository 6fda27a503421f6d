//! The Account event store on DynamoDB through aws-sdk-dynamodb, doing what hotcore's
//! DynamoDB store does on item layout 2 (see `item`): load a stream with one Query newest
//! first (`Limit` = the snapshot interval), paging on until the first item that carries a
//! valid snapshot, and fold the events after it; append a command's events conditionally
//! on their versions being free (one PutItem, or one TransactWriteItems for several), the
//! snapshot riding on the last event when one is due.

use std::fmt;
use std::time::SystemTime;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use crate::contracts::{AccountEvent, AccountState, CommandAck};
use crate::domain;
use crate::item::{
    BadItem, EventItem, Recent, StoredEvent, envelope_of, event_item, id_hash, item_from,
    request_token, snapshot_body, to_item, valid_snapshot,
};

/// DynamoDB's limit on the actions of one TransactWriteItems call.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;

/// Why a store operation failed.
#[derive(Debug)]
pub enum StoreError {
    /// Another command appended at the expected version first; reload and decide again.
    Conflict {
        stream_id: String,
        expected_version: u64,
    },
    /// The command would need more actions than one transaction allows.
    TooManyEvents { events: usize },
    /// A stored item is not an Account event.
    BadItem(BadItem),
    /// DynamoDB (or the way to it) failed; the message carries the AWS error code.
    Aws(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Conflict {
                stream_id,
                expected_version,
            } => write!(
                f,
                "stream {stream_id} moved past version {expected_version} while the command was decided"
            ),
            StoreError::TooManyEvents { events } => write!(
                f,
                "{events} events exceed DynamoDB's {MAX_TRANSACTION_ACTIONS} actions per transaction"
            ),
            StoreError::BadItem(e) => e.fmt(f),
            StoreError::Aws(message) => write!(f, "DynamoDB request failed: {message}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<BadItem> for StoreError {
    fn from(e: BadItem) -> Self {
        StoreError::BadItem(e)
    }
}

fn aws<E: std::error::Error>(e: E) -> StoreError {
    StoreError::Aws(DisplayErrorContext(e).to_string())
}

/// A stream folded into its state, the version the next event must follow, the version
/// of the snapshot the load started from (0: none) and the commands the stream remembers
/// (the snapshot's list, then the loaded events' commands, oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub state: AccountState,
    pub version: u64,
    pub snapshot_version: u64,
    pub recent: Vec<Recent>,
}

impl Loaded {
    /// What the stream remembers of a command id, if it remembers it.
    pub fn find(&self, command_id: &str) -> Option<&Recent> {
        let key = id_hash(command_id);
        self.recent.iter().rev().find(|r| r.key == key)
    }
}

/// Tracing metadata written on every event of one command, and its fingerprint.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub command_id: String,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    pub actor: String,
    pub fingerprint: String,
}

/// One Account table of event items.
#[derive(Debug, Clone)]
pub struct AccountStore {
    client: Client,
    table: String,
    /// The load's first page size: the snapshot interval, as hotcore.
    page_size: i32,
}

impl AccountStore {
    pub fn new(client: Client, table: impl Into<String>, snapshot_every: u64) -> Self {
        AccountStore {
            client,
            table: table.into(),
            page_size: snapshot_every.clamp(1, i32::MAX as u64) as i32,
        }
    }

    /// Loads and folds a stream: newest first until the first valid snapshot (or the
    /// stream's start), then the events after it, oldest first. Reads are strongly
    /// consistent, as in hotcore (the command path decides on the state; hotcore's query
    /// path uses the same load).
    pub async fn load(&self, stream_id: &str) -> Result<Loaded, StoreError> {
        let mut newest_first: Vec<EventItem> = Vec::new();
        let mut found: Option<(u64, AccountState, Vec<Recent>)> = None;
        let mut start_key = None;
        let mut limit = Some(self.page_size);
        'pages: loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("stream_id = :s")
                .expression_attribute_values(":s", AttributeValue::S(stream_id.to_owned()))
                .scan_index_forward(false)
                .consistent_read(true)
                .set_limit(limit)
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(aws)?;
            for raw in page.items.unwrap_or_default() {
                let item = item_from(raw)?;
                if let Some((state, recent)) = valid_snapshot(&item) {
                    found = Some((item.version, state, recent));
                    break 'pages;
                }
                newest_first.push(item);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => break,
            }
            // no valid snapshot near the top: read the rest in 1 MB pages
            limit = None;
        }
        let (snapshot_version, state, mut recent) =
            found.unwrap_or_else(|| (0, domain::initial(stream_id), Vec::new()));
        if state.account_id != stream_id {
            return Err(BadItem(format!(
                "snapshot of {stream_id} holds the state of {}",
                state.account_id
            ))
            .into());
        }
        let mut loaded = Loaded {
            state,
            version: snapshot_version,
            snapshot_version,
            recent: Vec::new(),
        };
        for item in newest_first.iter().rev() {
            let stored = envelope_of(item)?;
            if stored.version != loaded.version + 1 {
                return Err(BadItem(format!(
                    "stream {stream_id} has version {} after {}: versions must be gap-free",
                    stored.version, loaded.version
                ))
                .into());
            }
            domain::evolve(&mut loaded.state, &stored.data);
            loaded.version = stored.version;
            let key = id_hash(&stored.command_id);
            match recent.last_mut() {
                Some(last) if last.key == key && last.fingerprint == item.f => {
                    last.version = stored.version;
                    last.events += 1;
                }
                _ => recent.push(Recent {
                    key,
                    fingerprint: item.f.clone(),
                    version: stored.version,
                    events: 1,
                }),
            }
        }
        loaded.recent = recent;
        Ok(loaded)
    }

    /// Appends the events of one command after the loaded version, all or nothing; with
    /// `snapshot`, the state after them rides on the last event's item.
    ///
    /// The same requests as hotcore's: one event is one PutItem conditional on its version
    /// being free; several are one TransactWriteItems of such puts, its token a hash of its
    /// content. Gap-free because the expected version is a top this load read, and event
    /// items are never deleted. A failed condition is [`StoreError::Conflict`]: the caller
    /// reloads, and finds its own command there if an earlier attempt landed.
    pub async fn append(
        &self,
        loaded: &Loaded,
        stream_id: &str,
        events: &[AccountEvent],
        metadata: &Metadata,
        snapshot: Option<&AccountState>,
    ) -> Result<CommandAck, StoreError> {
        if events.len() > MAX_TRANSACTION_ACTIONS {
            return Err(StoreError::TooManyEvents {
                events: events.len(),
            });
        }
        // Account items are far below the 400 KB item and 4 MB transaction limits
        // (ids of at most 256 and references of at most 500 characters): no size check.
        let expected_version = loaded.version;
        let timestamp = DateTime::from(SystemTime::now())
            .fmt(DateTimeFormat::DateTime)
            .map_err(aws)?;
        let mut items = Vec::with_capacity(events.len());
        for (offset, event) in events.iter().enumerate() {
            let stored = StoredEvent {
                stream_id: stream_id.to_owned(),
                version: expected_version + 1 + offset as u64,
                event_type: event.type_name().to_owned(),
                schema_version: event.schema_version(),
                data: event.clone(),
                command_id: metadata.command_id.clone(),
                correlation_id: metadata.correlation_id.clone(),
                causation_id: metadata.causation_id.clone(),
                timestamp: timestamp.clone(),
                actor: metadata.actor.clone(),
            };
            items.push(event_item(&stored, &metadata.fingerprint)?);
        }
        let ack = CommandAck {
            command_id: metadata.command_id.clone(),
            stream_id: stream_id.to_owned(),
            version: expected_version + events.len() as u64,
            events: events.len() as u64,
        };
        if let (Some(state), Some(last)) = (snapshot, items.last_mut()) {
            let mut window = loaded.recent.clone();
            window.push(Recent {
                key: id_hash(&metadata.command_id),
                fingerprint: metadata.fingerprint.clone(),
                version: ack.version,
                events: ack.events,
            });
            last.s = Some(snapshot_body(state, &window).map_err(aws)?);
        }
        let conflict = || StoreError::Conflict {
            stream_id: stream_id.to_owned(),
            expected_version,
        };
        if items.len() == 1 {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_item(&items[0]).map_err(aws)?))
                .condition_expression("attribute_not_exists(version)")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            return match result {
                Ok(_) => Ok(ack),
                Err(err) => match err.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(_) => Err(conflict()),
                    other => Err(aws(other)),
                },
            };
        }
        let mut actions = Vec::with_capacity(items.len());
        for item in &items {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(item).map_err(aws)?))
                .condition_expression("attribute_not_exists(version)")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(aws)?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .client_request_token(request_token(&items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(ack),
            Err(err) => match err.into_service_error() {
                // a version is taken, or another transaction holds one of these items
                TransactWriteItemsError::TransactionCanceledException(_)
                | TransactWriteItemsError::IdempotentParameterMismatchException(_) => {
                    Err(conflict())
                }
                other => Err(aws(other)),
            },
        }
    }
}
