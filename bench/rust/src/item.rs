//! hotcore's DynamoDB item layout 2 (its docs/store.md), mapped with serde_dynamo and serde_json.
//!
//! One item per event, the only kind of item in the table: `stream_id` (S, partition key),
//! `version` (N, sort key, from 1, gap-free), `type` (S), `e` (S: the envelope JSON, the
//! bytes hotcore publishes as EventBridge `Detail`: `stream_id`, `version`, `type`,
//! `schema_version` (omitted when 1), `data` (the event, tagged), `command_id`,
//! `correlation_id`, `causation_id` (omitted when none), `timestamp` (RFC 3339 UTC),
//! `actor`), `f` (S: the fingerprint of the command that produced it) and, on the last
//! event of a command that made one due, `s` (S: a snapshot of the state after it:
//! `{"v": state version, "h": state schema hash, "state": {...}, "recent": base64}`, where
//! `recent` packs the stream's last 64 commands, 21 bytes each). No command records: a
//! re-sent command id is found among the loaded events or in the snapshot's `recent`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::contracts::{AccountCommand, AccountEvent, AccountState};

/// A DynamoDB item as the SDK hands it over.
pub type Item = HashMap<String, AttributeValue>;

/// The state version hotcore's Account aggregate declares: snapshots of another are ignored.
pub const STATE_VERSION: u32 = 1;
/// The hash hotcore gives the JSON Schema of its Account state
/// (`hotcore.store.codec.state_schema_hash(AccountState)`): snapshots written by either side
/// are read by the other.
pub const STATE_SCHEMA_HASH: &str = "e1f5f2225310a6ca";
/// How many commands a snapshot's `recent` list keeps.
pub const RECENT_COMMANDS: usize = 64;
const RECENT_BYTES: usize = 8 + 8 + 4 + 1;

fn one() -> u32 {
    1
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

/// One stored event with its metadata (hotcore's `Envelope`), the item's `e`, in its
/// field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub stream_id: String,
    pub version: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub schema_version: u32,
    pub data: AccountEvent,
    pub command_id: String,
    pub correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    pub timestamp: String,
    pub actor: String,
}

/// An event item's attributes, the envelope still JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventItem {
    pub stream_id: String,
    pub version: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub e: String,
    pub f: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
}

/// A command the stream remembers: the SHA-256 of its id (8 bytes), its fingerprint (the
/// first 16 hex digits when it comes from a snapshot's list), the version after it and
/// its event count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    pub key: [u8; 8],
    pub fingerprint: String,
    pub version: u64,
    pub events: u64,
}

/// The item's snapshot attribute, in the order hotcore writes it (version and hash first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotBody {
    pub v: u32,
    pub h: String,
    pub state: AccountState,
    #[serde(default)]
    pub recent: String,
}

/// The item is not what this store writes (wrong shape, or disagreeing with its envelope).
#[derive(Debug)]
pub struct BadItem(pub String);

impl std::fmt::Display for BadItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stored item is not a valid Account event: {}", self.0)
    }
}

impl std::error::Error for BadItem {}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a command id, 8 bytes: how a snapshot's `recent` list names a command.
pub fn id_hash(command_id: &str) -> [u8; 8] {
    let digest = Sha256::digest(command_id.as_bytes());
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    key
}

/// The command's fingerprint, as hotcore computes it: SHA-256 of its JSON with sorted keys
/// (serde_json's `Value` keeps object keys sorted), the first 16 bytes in hex.
pub fn fingerprint(command: &AccountCommand) -> String {
    let canonical = serde_json::to_value(command)
        .and_then(|value| serde_json::to_vec(&value))
        .expect("a command always serializes");
    hex(&Sha256::digest(&canonical)[..16])
}

/// A hash of a transaction's content, as its `ClientRequestToken` (at most 36 characters):
/// a retry of the same request is a no-op, any other transaction gets another token.
pub fn request_token(items: &[EventItem]) -> String {
    let mut hasher = Sha256::new();
    for item in items {
        hasher.update(item.e.as_bytes());
        hasher.update(item.f.as_bytes());
        hasher.update(item.s.as_deref().unwrap_or("").as_bytes());
    }
    hex(&hasher.finalize()[..18])
}

/// The snapshot's `recent`: 21 bytes per command, base64.
pub fn pack_recent(window: &[Recent]) -> String {
    let start = window.len().saturating_sub(RECENT_COMMANDS);
    let mut packed = Vec::with_capacity((window.len() - start) * RECENT_BYTES);
    for recent in &window[start..] {
        packed.extend_from_slice(&recent.key);
        for at in (0..16).step_by(2) {
            let byte = recent.fingerprint.get(at..at + 2).unwrap_or("00");
            packed.push(u8::from_str_radix(byte, 16).unwrap_or(0));
        }
        packed.extend_from_slice(&(recent.version as u32).to_be_bytes());
        packed.push(recent.events as u8);
    }
    aws_smithy_types::base64::encode(packed)
}

fn unpack_recent(text: &str) -> Option<Vec<Recent>> {
    let packed = aws_smithy_types::base64::decode(text).ok()?;
    if packed.len() % RECENT_BYTES != 0 {
        return None;
    }
    Some(
        packed
            .chunks(RECENT_BYTES)
            .map(|entry| Recent {
                key: entry[..8].try_into().expect("8 bytes"),
                fingerprint: hex(&entry[8..16]),
                version: u32::from_be_bytes(entry[16..20].try_into().expect("4 bytes")) as u64,
                events: entry[20] as u64,
            })
            .collect(),
    )
}

/// The snapshot body for a state and the stream's recent commands.
pub fn snapshot_body(state: &AccountState, window: &[Recent]) -> Result<String, serde_json::Error> {
    serde_json::to_string(&SnapshotBody {
        v: STATE_VERSION,
        h: STATE_SCHEMA_HASH.to_owned(),
        state: state.clone(),
        recent: pack_recent(window),
    })
}

/// The item's snapshot and recent commands, or None if it has none valid for this code
/// (another state version or schema, or not decodable: the load reads on past it).
pub fn valid_snapshot(item: &EventItem) -> Option<(AccountState, Vec<Recent>)> {
    let body: SnapshotBody = serde_json::from_str(item.s.as_deref()?).ok()?;
    if body.v != STATE_VERSION || body.h != STATE_SCHEMA_HASH {
        return None;
    }
    Some((body.state, unpack_recent(&body.recent)?))
}

/// Decodes one event item's attributes.
pub fn item_from(item: Item) -> Result<EventItem, BadItem> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| BadItem(e.to_string()))
}

/// Decodes an item's envelope, checking it is the envelope of this item.
pub fn envelope_of(item: &EventItem) -> Result<StoredEvent, BadItem> {
    let stored: StoredEvent = serde_json::from_str(&item.e).map_err(|e| {
        BadItem(format!(
            "{}@{}: the envelope does not decode: {e}",
            item.stream_id, item.version
        ))
    })?;
    if stored.stream_id != item.stream_id
        || stored.version != item.version
        || stored.event_type != item.event_type
        || stored.event_type != stored.data.type_name()
    {
        return Err(BadItem(format!(
            "{}@{} ({}) holds the envelope of {}@{} ({}, data {})",
            item.stream_id,
            item.version,
            item.event_type,
            stored.stream_id,
            stored.version,
            stored.event_type,
            stored.data.type_name()
        )));
    }
    Ok(stored)
}

/// Decodes one stored event from its item (the attributes, then the envelope).
pub fn event_from_item(item: Item) -> Result<StoredEvent, BadItem> {
    envelope_of(&item_from(item)?)
}

/// The item of one event as hotcore's store writes it.
pub fn event_item(stored: &StoredEvent, fingerprint: &str) -> Result<EventItem, BadItem> {
    Ok(EventItem {
        stream_id: stored.stream_id.clone(),
        version: stored.version,
        event_type: stored.event_type.clone(),
        e: serde_json::to_string(stored).map_err(|e| BadItem(e.to_string()))?,
        f: fingerprint.to_owned(),
        s: None,
    })
}

/// Encodes an item's attributes for the SDK.
pub fn to_item(item: &EventItem) -> Result<Item, serde_dynamo::Error> {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::{AccountStatus, Amount, Id};

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.to_owned())
    }

    const ENVELOPE: &str = r#"{"stream_id":"acc-1","version":2,"type":"Deposited","schema_version":2,"data":{"type":"Deposited","amount":5,"memo":null,"currency":"EUR"},"command_id":"cmd-2","correlation_id":"cmd-2","timestamp":"2026-01-02T03:04:05.123456Z","actor":"alice"}"#;

    fn deposited_item() -> Item {
        HashMap::from([
            ("stream_id".into(), s("acc-1")),
            ("version".into(), n("2")),
            ("type".into(), s("Deposited")),
            ("e".into(), s(ENVELOPE)),
            ("f".into(), s("0123456789abcdef0123456789abcdef")),
        ])
    }

    fn deposited() -> StoredEvent {
        StoredEvent {
            stream_id: "acc-1".into(),
            version: 2,
            event_type: "Deposited".into(),
            schema_version: 2,
            data: AccountEvent::Deposited {
                amount: 5,
                memo: None,
                currency: "EUR".into(),
            },
            command_id: "cmd-2".into(),
            correlation_id: "cmd-2".into(),
            causation_id: None,
            timestamp: "2026-01-02T03:04:05.123456Z".into(),
            actor: "alice".into(),
        }
    }

    #[test]
    fn an_event_is_written_in_item_layout_2() {
        let item = event_item(&deposited(), "0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(to_item(&item).unwrap(), deposited_item());
    }

    #[test]
    fn a_stored_item_decodes_to_the_event() {
        assert_eq!(event_from_item(deposited_item()).unwrap(), deposited());
    }

    #[test]
    fn a_version_1_deposit_reads_as_version_2() {
        let v1 = r#"{"stream_id":"acc-1","version":2,"type":"Deposited","data":{"type":"Deposited","amount":5,"reference":"rent"},"command_id":"c","correlation_id":"c","timestamp":"2026-01-02T03:04:05Z","actor":"a"}"#;
        let mut item = deposited_item();
        item.insert("e".into(), s(v1));
        let stored = event_from_item(item).unwrap();
        assert_eq!(
            stored.data,
            AccountEvent::Deposited {
                amount: 5,
                memo: Some("rent".into()),
                currency: "EUR".into()
            }
        );
    }

    #[test]
    fn a_type_that_disagrees_with_its_envelope_is_refused() {
        let mut item = deposited_item();
        item.insert("type".into(), s("Withdrawn"));
        let err = event_from_item(item).unwrap_err();
        assert!(err.to_string().contains("holds the envelope"), "{err}");
        let mut item = deposited_item();
        item.insert("version".into(), n("3"));
        assert!(event_from_item(item).is_err());
    }

    #[test]
    fn an_unknown_event_type_is_refused() {
        let mut item = deposited_item();
        item.insert(
            "e".into(),
            s(&ENVELOPE.replace(r#"{"type":"Deposited","#, r#"{"type":"Frozen","#)),
        );
        assert!(event_from_item(item).is_err());
    }

    #[test]
    fn fingerprints_are_hotcores() {
        // hotcore.store.fingerprint.fingerprint(Withdraw(account_id="a", amount=1))
        let command = AccountCommand::Withdraw {
            account_id: Id::try_from("a".to_owned()).unwrap(),
            amount: Amount::try_from(1).unwrap(),
            reference: None,
        };
        assert_eq!(fingerprint(&command), FINGERPRINT_OF_WITHDRAW_A_1);
    }

    /// Computed by hotcore (Python) for `Withdraw(account_id="a", amount=1)`.
    const FINGERPRINT_OF_WITHDRAW_A_1: &str = "7c8c0c314ad217a1c7f0c28a4a84b555";

    #[test]
    fn a_snapshot_round_trips_with_its_recent_commands() {
        let state = AccountState {
            account_id: "acc-1".into(),
            status: AccountStatus::Open,
            owner_id: "o".into(),
            balance: 7,
        };
        let window = vec![Recent {
            key: id_hash("cmd-1"),
            fingerprint: "0123456789abcdef0123456789abcdef".into(),
            version: 12,
            events: 1,
        }];
        let mut item = event_item(&deposited(), "f").unwrap();
        item.s = Some(snapshot_body(&state, &window).unwrap());
        assert!(item.s.as_ref().unwrap().starts_with(
            r#"{"v":1,"h":"e1f5f2225310a6ca","state":{"account_id":"acc-1","status":"open""#
        ));
        let (read, recent) = valid_snapshot(&item).unwrap();
        assert_eq!(read, state);
        assert_eq!(recent[0].fingerprint, "0123456789abcdef");
        assert_eq!((recent[0].version, recent[0].events), (12, 1));
        assert_eq!(recent[0].key, id_hash("cmd-1"));
        item.s = Some(item.s.unwrap().replace(r#""v":1"#, r#""v":2"#));
        assert!(valid_snapshot(&item).is_none());
    }
}
