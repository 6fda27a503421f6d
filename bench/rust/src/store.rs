//! The Account event store on DynamoDB through aws-sdk-dynamodb, doing what hotcore's
//! DynamoDB store does: load a stream (newest snapshot, then a paginated Query of the
//! events after it, folded page by page), append a command's events atomically,
//! conditional on the expected version, with the command's idempotency record, and save
//! snapshots.

use std::fmt;
use std::time::SystemTime;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use crate::contracts::{AccountEvent, AccountState, CommandAck};
use crate::domain;
use crate::item::{
    BadItem, CommandRecord, SnapshotItem, StoredEvent, command_record_key, event_from_item,
    record_from_item, snapshot_from_item, snapshot_key, to_item,
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
    /// A stored item is not an Account event or record.
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
                "{events} events, the command record and the version check exceed DynamoDB's {MAX_TRANSACTION_ACTIONS} actions per transaction"
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

/// A stream folded into its state, and the version the next event must follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub state: AccountState,
    pub version: u64,
}

/// Tracing metadata written on every event of one command.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub command_id: String,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    pub actor: String,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The events are stored; the ack names the new version.
    Committed(CommandAck),
    /// The command id was seen before: nothing was written, this is the first outcome.
    Duplicate(CommandAck),
}

/// One Account table: events and command records.
#[derive(Debug, Clone)]
pub struct AccountStore {
    client: Client,
    table: String,
}

impl AccountStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        AccountStore {
            client,
            table: table.into(),
        }
    }

    /// Loads and folds a stream: from its newest snapshot if it has one, then every event
    /// after it. Reads are strongly consistent, as in hotcore (the command path decides on
    /// the state; hotcore's query path uses the same load).
    pub async fn load(&self, stream_id: &str) -> Result<Loaded, StoreError> {
        let mut loaded = match self.load_snapshot(stream_id).await? {
            Some(snapshot) => snapshot,
            None => Loaded {
                state: domain::initial(stream_id),
                version: 0,
            },
        };
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("stream_id = :s AND #v >= :v")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":s", AttributeValue::S(stream_id.to_owned()))
            .expression_attribute_values(":v", AttributeValue::N((loaded.version + 1).to_string()))
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws)?;
            for item in page.items.unwrap_or_default() {
                let stored = event_from_item(item)?;
                if stored.version != loaded.version + 1 {
                    return Err(BadItem(format!(
                        "stream {stream_id} has version {} after {}: versions must be gap-free",
                        stored.version, loaded.version
                    ))
                    .into());
                }
                domain::evolve(&mut loaded.state, &stored.data);
                loaded.version = stored.version;
            }
        }
        Ok(loaded)
    }

    /// The newest snapshot of a stream, if any.
    pub async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Loaded>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("stream_id = :s")
            .expression_attribute_values(":s", AttributeValue::S(snapshot_key(stream_id)))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(aws)?;
        let Some(item) = page.items.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        let snapshot = snapshot_from_item(item)?;
        let state: AccountState = serde_json::from_str(&snapshot.state).map_err(|e| {
            BadItem(format!(
                "snapshot {stream_id}@{} is not an Account state: {e}",
                snapshot.version
            ))
        })?;
        if state.account_id != stream_id {
            return Err(BadItem(format!(
                "snapshot of {stream_id} holds the state of {}",
                state.account_id
            ))
            .into());
        }
        Ok(Some(Loaded {
            state,
            version: snapshot.version,
        }))
    }

    /// Saves a snapshot of `state` at `version`. Snapshots are append-only too: one that
    /// exists already at this version is left as it is.
    pub async fn save_snapshot(
        &self,
        state: &AccountState,
        version: u64,
    ) -> Result<(), StoreError> {
        let snapshot = SnapshotItem {
            stream_id: snapshot_key(&state.account_id),
            version,
            state: serde_json::to_string(state).map_err(aws)?,
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&snapshot).map_err(aws)?))
            .condition_expression("attribute_not_exists(#v)")
            .expression_attribute_names("#v", "version")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.into_service_error() {
                PutItemError::ConditionalCheckFailedException(_) => Ok(()),
                other => Err(aws(other)),
            },
        }
    }

    /// Appends the events of one command after `expected_version`, with its idempotency
    /// record, in one transaction: all or nothing.
    ///
    /// The same transaction as hotcore's: a Put per event, conditional on its key being
    /// free, so a concurrent writer makes the whole transaction fail
    /// ([`StoreError::Conflict`]); the command record, conditional on being new, so a
    /// re-sent command id fails on it and DynamoDB returns the first outcome with the
    /// cancellation (`ALL_OLD`), told apart from a conflict without another read; and,
    /// after version 0, a check that the previous event exists, so an expected version
    /// ahead of the stream cannot leave a gap.
    pub async fn append(
        &self,
        stream_id: &str,
        expected_version: u64,
        events: &[AccountEvent],
        metadata: &Metadata,
    ) -> Result<Appended, StoreError> {
        if events.len() + 2 > MAX_TRANSACTION_ACTIONS {
            return Err(StoreError::TooManyEvents {
                events: events.len(),
            });
        }
        // Account items are far below the 400 KB item and 4 MB transaction limits
        // (ids of at most 256 and references of at most 500 characters): no size check.
        let timestamp = DateTime::from(SystemTime::now())
            .fmt(DateTimeFormat::DateTime)
            .map_err(aws)?;
        let mut actions = Vec::with_capacity(events.len() + 2);
        for (offset, event) in events.iter().enumerate() {
            let stored = StoredEvent {
                stream_id: stream_id.to_owned(),
                version: expected_version + 1 + offset as u64,
                event_type: event.type_name().to_owned(),
                data: event.clone(),
                command_id: metadata.command_id.clone(),
                correlation_id: metadata.correlation_id.clone(),
                causation_id: metadata.causation_id.clone(),
                timestamp: timestamp.clone(),
                actor: metadata.actor.clone(),
            };
            actions.push(self.put_if_absent(to_item(&stored).map_err(aws)?, "version")?);
        }
        let version = expected_version + events.len() as u64;
        let record = CommandRecord::new(
            &metadata.command_id,
            stream_id,
            version,
            events.len() as u64,
        );
        actions.push(self.put_if_absent(to_item(&record).map_err(aws)?, "stream_id")?);
        if expected_version > 0 {
            let previous = ConditionCheck::builder()
                .table_name(&self.table)
                .key("stream_id", AttributeValue::S(stream_id.to_owned()))
                .key("version", AttributeValue::N(expected_version.to_string()))
                .condition_expression("attribute_exists(#v)")
                .expression_attribute_names("#v", "version")
                .build()
                .map_err(aws)?;
            actions.push(
                TransactWriteItem::builder()
                    .condition_check(previous)
                    .build(),
            );
        }

        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Appended::Committed(record.ack())),
            Err(err) => {
                let err = err.into_service_error();
                let TransactWriteItemsError::TransactionCanceledException(cancelled) = &err else {
                    return Err(aws(err));
                };
                let reasons = cancelled.cancellation_reasons();
                let code = |i: usize| reasons.get(i).and_then(|r| r.code());
                let failed = |i: usize| code(i) == Some("ConditionalCheckFailed");
                // the previous event is missing: the expected version is ahead of the stream
                if expected_version > 0 && failed(events.len() + 1) {
                    return Err(StoreError::Conflict {
                        stream_id: stream_id.to_owned(),
                        expected_version,
                    });
                }
                if failed(events.len()) {
                    let old = reasons[events.len()].item().cloned();
                    let first = match old {
                        Some(item) => Some(record_from_item(item)?.ack()),
                        // Not every emulator returns ALL_OLD items: read the record instead.
                        None => self.recorded_outcome(&metadata.command_id).await?,
                    };
                    if let Some(ack) = first {
                        return Ok(Appended::Duplicate(ack));
                    }
                }
                // another transaction holds one of these items right now: a race as well
                if (0..events.len()).any(failed)
                    || (0..reasons.len()).any(|i| code(i) == Some("TransactionConflict"))
                {
                    return Err(StoreError::Conflict {
                        stream_id: stream_id.to_owned(),
                        expected_version,
                    });
                }
                Err(aws(err))
            }
        }
    }

    /// The ack a command id got when it was first accepted, if it was.
    pub async fn recorded_outcome(
        &self,
        command_id: &str,
    ) -> Result<Option<CommandAck>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(
                "stream_id",
                AttributeValue::S(command_record_key(command_id)),
            )
            .key("version", AttributeValue::N("0".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws)?;
        match output.item {
            Some(item) => Ok(Some(record_from_item(item)?.ack())),
            None => Ok(None),
        }
    }

    /// A Put conditional on the item not existing yet (`key` is one of its key
    /// attributes), returning the existing item when the condition fails.
    fn put_if_absent(
        &self,
        item: crate::item::Item,
        key: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", key)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(aws)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}
