//! The Account event store on DynamoDB through aws-sdk-dynamodb: load a stream (paginated
//! Query, folded page by page) and append a command's events atomically, conditional on
//! the expected version, together with the command's idempotency record.

use std::fmt;
use std::time::SystemTime;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use crate::contracts::{AccountEvent, AccountState, CommandAck};
use crate::domain;
use crate::item::{
    BadItem, CommandRecord, StoredEvent, command_record_key, event_from_item, record_from_item,
    to_item,
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
                "{events} events and the command record exceed DynamoDB's {MAX_TRANSACTION_ACTIONS} actions per transaction"
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

    /// Loads and folds a stream. Strongly consistent reads for the command path (it
    /// decides on the state), eventually consistent ones for queries (half the read cost).
    pub async fn load(&self, stream_id: &str, consistent: bool) -> Result<Loaded, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#s = :s")
            .expression_attribute_names("#s", "stream_id")
            .expression_attribute_values(":s", AttributeValue::S(stream_id.to_owned()))
            .consistent_read(consistent)
            .into_paginator()
            .send();
        let mut loaded = Loaded {
            state: domain::initial(stream_id),
            version: 0,
        };
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

    /// Appends the events of one command after `expected_version`, with its idempotency
    /// record, in one transaction: all or nothing.
    ///
    /// Every Put is conditional on its key being free, so a concurrent writer makes the
    /// whole transaction fail ([`StoreError::Conflict`]), and a re-sent command id fails on
    /// the record, whose old value DynamoDB returns with the cancellation (`ALL_OLD`), so a
    /// duplicate is told apart without another read.
    pub async fn append(
        &self,
        stream_id: &str,
        expected_version: u64,
        events: &[AccountEvent],
        metadata: &Metadata,
    ) -> Result<Appended, StoreError> {
        if events.len() + 1 > MAX_TRANSACTION_ACTIONS {
            return Err(StoreError::TooManyEvents {
                events: events.len(),
            });
        }
        // Account items are far below the 400 KB item and 4 MB transaction limits
        // (ids <= 128 and references <= 500 characters), so no size check is needed.
        let timestamp = DateTime::from(SystemTime::now())
            .fmt(DateTimeFormat::DateTime)
            .map_err(aws)?;
        let mut actions = Vec::with_capacity(events.len() + 1);
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
            actions.push(self.put_if_absent(to_item(&stored).map_err(aws)?, false)?);
        }
        let version = expected_version + events.len() as u64;
        let record = CommandRecord::new(
            &metadata.command_id,
            stream_id,
            version,
            events.len() as u64,
        );
        actions.push(self.put_if_absent(to_item(&record).map_err(aws)?, true)?);

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
                let failed = |i: usize| {
                    reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
                };
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
                if (0..events.len()).any(failed) {
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

    fn put_if_absent(
        &self,
        item: crate::item::Item,
        return_old: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#v)")
            .expression_attribute_names("#v", "version");
        if return_old {
            put = put.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(aws)?)
            .build())
    }
}
