//! The DynamoDB item layout shared with hotcore's DynamoDB store, mapped with serde_dynamo.
//!
//! One item per event: `stream_id` (S, partition key), `version` (N, sort key, from 1,
//! gap-free), `type` (S), `data` (M: the event's fields with `type` again), `command_id`,
//! `correlation_id`, `causation_id` (absent when there is none), `timestamp` (RFC 3339
//! UTC) and `actor`. In the same table, as hotcore's store writes them: one idempotency
//! record per accepted command, `stream_id` = `command#<command_id>`, `version` = 0, with
//! `ref_stream`, `ref_version` and `events` saying where the command's events went; and
//! snapshots, `stream_id` = `<stream_id>#snapshot`, `version` = the version folded in,
//! with `state` (the state as JSON text).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::contracts::{AccountEvent, CommandAck};

/// A DynamoDB item as the SDK hands it over.
pub type Item = HashMap<String, AttributeValue>;

/// Partition key prefix of the command idempotency records.
pub const COMMAND_RECORD_PREFIX: &str = "command#";

/// One stored event with its metadata (hotcore's `Envelope`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub stream_id: String,
    pub version: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: AccountEvent,
    pub command_id: String,
    pub correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    pub timestamp: String,
    pub actor: String,
}

/// Where the events of one accepted command went; the first outcome a retry gets back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRecord {
    pub stream_id: String,
    pub version: u64,
    pub ref_stream: String,
    pub ref_version: u64,
    pub events: u64,
}

impl CommandRecord {
    pub fn new(command_id: &str, stream_id: &str, version: u64, events: u64) -> Self {
        CommandRecord {
            stream_id: command_record_key(command_id),
            version: 0,
            ref_stream: stream_id.to_owned(),
            ref_version: version,
            events,
        }
    }

    /// The ack the command got the first time.
    pub fn ack(&self) -> CommandAck {
        CommandAck {
            command_id: self
                .stream_id
                .strip_prefix(COMMAND_RECORD_PREFIX)
                .unwrap_or(&self.stream_id)
                .to_owned(),
            stream_id: self.ref_stream.clone(),
            version: self.ref_version,
            events: self.events,
        }
    }
}

/// A folded state saved so that loads start from it instead of from version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotItem {
    pub stream_id: String,
    pub version: u64,
    /// The state as JSON text, the same text hotcore writes (msgspec field order).
    pub state: String,
}

/// Partition key of a stream's snapshots.
pub fn snapshot_key(stream_id: &str) -> String {
    format!("{stream_id}#snapshot")
}

/// Partition key of a command's idempotency record.
pub fn command_record_key(command_id: &str) -> String {
    format!("{COMMAND_RECORD_PREFIX}{command_id}")
}

/// The item is not what this store writes (wrong shape, or `type` disagrees with `data`).
#[derive(Debug)]
pub struct BadItem(pub String);

impl std::fmt::Display for BadItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stored item is not a valid Account event: {}", self.0)
    }
}

impl std::error::Error for BadItem {}

/// Decodes one stored event, checking that `type` agrees with the type inside `data`.
pub fn event_from_item(item: Item) -> Result<StoredEvent, BadItem> {
    let stored: StoredEvent =
        serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| BadItem(e.to_string()))?;
    if stored.event_type != stored.data.type_name() {
        return Err(BadItem(format!(
            "{}@{}: type {:?} does not match its data {:?}",
            stored.stream_id,
            stored.version,
            stored.event_type,
            stored.data.type_name()
        )));
    }
    Ok(stored)
}

/// Encodes a value (event or record) as an item.
pub fn to_item<T: Serialize>(value: &T) -> Result<Item, serde_dynamo::Error> {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(value)
}

/// Decodes a snapshot item.
pub fn snapshot_from_item(item: Item) -> Result<SnapshotItem, BadItem> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| BadItem(e.to_string()))
}

/// Decodes a command record.
pub fn record_from_item(item: Item) -> Result<CommandRecord, BadItem> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| BadItem(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.to_owned())
    }

    fn deposited_item() -> Item {
        HashMap::from([
            ("stream_id".into(), s("acc-1")),
            ("version".into(), n("2")),
            ("type".into(), s("Deposited")),
            (
                "data".into(),
                AttributeValue::M(HashMap::from([
                    ("type".into(), s("Deposited")),
                    ("amount".into(), n("5")),
                    ("reference".into(), AttributeValue::Null(true)),
                ])),
            ),
            ("command_id".into(), s("cmd-2")),
            ("correlation_id".into(), s("cmd-2")),
            ("timestamp".into(), s("2026-01-02T03:04:05.123456Z")),
            ("actor".into(), s("alice")),
        ])
    }

    #[test]
    fn an_event_is_written_in_the_shared_item_layout() {
        let stored = StoredEvent {
            stream_id: "acc-1".into(),
            version: 2,
            event_type: "Deposited".into(),
            data: AccountEvent::Deposited {
                amount: 5,
                reference: None,
            },
            command_id: "cmd-2".into(),
            correlation_id: "cmd-2".into(),
            causation_id: None,
            timestamp: "2026-01-02T03:04:05.123456Z".into(),
            actor: "alice".into(),
        };
        assert_eq!(to_item(&stored).unwrap(), deposited_item());
    }

    #[test]
    fn a_stored_item_decodes_to_the_event() {
        let stored = event_from_item(deposited_item()).unwrap();
        assert_eq!(stored.version, 2);
        assert_eq!(stored.causation_id, None);
        assert_eq!(
            stored.data,
            AccountEvent::Deposited {
                amount: 5,
                reference: None
            }
        );
    }

    #[test]
    fn closed_and_opened_events_round_trip() {
        for data in [
            AccountEvent::AccountClosed {},
            AccountEvent::AccountOpened {
                owner_id: "cust-9".into(),
            },
            AccountEvent::Withdrawn {
                amount: 7,
                reference: Some("rent".into()),
            },
        ] {
            let stored = StoredEvent {
                stream_id: "acc-1".into(),
                version: 1,
                event_type: data.type_name().into(),
                data: data.clone(),
                command_id: "c".into(),
                correlation_id: "c".into(),
                causation_id: Some("e-1".into()),
                timestamp: "2026-01-02T03:04:05Z".into(),
                actor: "a".into(),
            };
            let item = to_item(&stored).unwrap();
            let AttributeValue::M(fields) = &item["data"] else {
                panic!("data is not a map: {:?}", item["data"]);
            };
            assert_eq!(fields["type"], s(data.type_name()));
            assert_eq!(event_from_item(item).unwrap(), stored);
        }
    }

    #[test]
    fn a_type_that_disagrees_with_its_data_is_refused() {
        let mut item = deposited_item();
        item.insert("type".into(), s("Withdrawn"));
        let err = event_from_item(item).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[test]
    fn an_unknown_event_type_is_refused() {
        let mut item = deposited_item();
        item.insert(
            "data".into(),
            AttributeValue::M(HashMap::from([("type".into(), s("Frozen"))])),
        );
        assert!(event_from_item(item).is_err());
    }

    #[test]
    fn the_command_record_gives_back_the_first_ack() {
        let record = CommandRecord::new("cmd-7", "acc-1", 12, 1);
        let item = to_item(&record).unwrap();
        assert_eq!(item["stream_id"], s("command#cmd-7"));
        assert_eq!(item["version"], n("0"));
        assert_eq!(item["ref_version"], n("12"));
        assert_eq!(item["ref_stream"], s("acc-1"));
        let ack = record_from_item(item).unwrap().ack();
        assert_eq!(
            ack,
            CommandAck {
                command_id: "cmd-7".into(),
                stream_id: "acc-1".into(),
                version: 12,
                events: 1
            }
        );
    }
}
