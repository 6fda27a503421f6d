//! Decoding raw DynamoDB Query response pages (the JSON 1.0 bytes DynamoDB sends) and
//! folding them: the Rust side of the fold benchmark, run on the very bytes the Python
//! benchmarks decode.
//!
//! Two decoders, both plain serde over `serde_json`:
//! - [`Decoder::Typed`]: straight from the bytes into typed wire structs (`{"S": ...}`
//!   wrappers), then into [`StoredEvent`]. What a Rust team writes when it reads the
//!   bytes itself; the fair counterpart of hotcore's msgspec decoder.
//! - [`Decoder::AttributeValues`]: the bytes into the SDK's `AttributeValue` maps, then
//!   serde_dynamo into [`StoredEvent`]. The shape of the Lambda's own load path (the SDK
//!   parses into `AttributeValue`s, serde_dynamo maps them), with serde standing in for
//!   the SDK's internal JSON parser, which is not public.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::contracts::{AccountEvent, AccountState};
use crate::domain;
use crate::item::{BadItem, Item, StoredEvent, event_from_item};

/// Which decoder turns a page's bytes into stored events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    Typed,
    AttributeValues,
}

impl FromStr for Decoder {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "typed" => Ok(Decoder::Typed),
            "attribute-values" => Ok(Decoder::AttributeValues),
            other => Err(format!(
                "unknown decoder {other:?}: expected \"typed\" or \"attribute-values\""
            )),
        }
    }
}

/// A page could not be decoded into Account events.
#[derive(Debug)]
pub enum PageError {
    Json(serde_json::Error),
    Item(BadItem),
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageError::Json(e) => write!(f, "Query page is not valid DynamoDB JSON: {e}"),
            PageError::Item(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PageError {}

impl From<serde_json::Error> for PageError {
    fn from(e: serde_json::Error) -> Self {
        PageError::Json(e)
    }
}

impl From<BadItem> for PageError {
    fn from(e: BadItem) -> Self {
        PageError::Item(e)
    }
}

// ---- typed decoder: one small struct per attribute-value shape -------------------------

#[derive(Deserialize)]
struct S {
    #[serde(rename = "S")]
    s: String,
}

#[derive(Deserialize)]
struct N {
    #[serde(rename = "N")]
    n: String,
}

/// A string attribute that may be stored as NULL (msgspec writes `None` fields).
#[derive(Deserialize)]
enum NullableS {
    #[serde(rename = "S")]
    S(String),
    #[serde(rename = "NULL")]
    Null(#[allow(dead_code)] bool),
}

#[derive(Deserialize)]
struct M<T> {
    #[serde(rename = "M")]
    m: T,
}

#[derive(Deserialize)]
struct WireData {
    #[serde(rename = "type")]
    event_type: S,
    #[serde(default)]
    owner_id: Option<S>,
    #[serde(default)]
    amount: Option<N>,
    #[serde(default)]
    reference: Option<NullableS>,
}

#[derive(Deserialize)]
struct WireItem {
    stream_id: S,
    version: N,
    #[serde(rename = "type")]
    event_type: S,
    data: M<WireData>,
    command_id: S,
    correlation_id: S,
    #[serde(default)]
    causation_id: Option<S>,
    timestamp: S,
    actor: S,
}

#[derive(Deserialize)]
struct TypedPage {
    #[serde(rename = "Items", default)]
    items: Vec<WireItem>,
}

fn number<T: FromStr>(n: &N, what: &str) -> Result<T, BadItem> {
    n.n.parse()
        .map_err(|_| BadItem(format!("{what} {:?} is not an integer in range", n.n)))
}

fn required<'a, T>(field: &'a Option<T>, event_type: &str, name: &str) -> Result<&'a T, BadItem> {
    field
        .as_ref()
        .ok_or_else(|| BadItem(format!("{event_type} event without {name}")))
}

impl WireItem {
    fn into_stored(self) -> Result<StoredEvent, BadItem> {
        let data = self.data.m;
        let kind = data.event_type.s.as_str();
        let reference = |r: Option<NullableS>| match r {
            Some(NullableS::S(s)) => Some(s),
            Some(NullableS::Null(_)) | None => None,
        };
        let event = match kind {
            "AccountOpened" => AccountEvent::AccountOpened {
                owner_id: required(&data.owner_id, kind, "owner_id")?.s.clone(),
            },
            "Deposited" => AccountEvent::Deposited {
                amount: number(required(&data.amount, kind, "amount")?, "amount")?,
                reference: reference(data.reference),
            },
            "Withdrawn" => AccountEvent::Withdrawn {
                amount: number(required(&data.amount, kind, "amount")?, "amount")?,
                reference: reference(data.reference),
            },
            "AccountClosed" => AccountEvent::AccountClosed {},
            other => return Err(BadItem(format!("unknown event type {other:?}"))),
        };
        if self.event_type.s != kind {
            return Err(BadItem(format!(
                "type {:?} does not match its data {kind:?}",
                self.event_type.s
            )));
        }
        Ok(StoredEvent {
            stream_id: self.stream_id.s,
            version: number(&self.version, "version")?,
            event_type: self.event_type.s,
            data: event,
            command_id: self.command_id.s,
            correlation_id: self.correlation_id.s,
            causation_id: self.causation_id.map(|c| c.s),
            timestamp: self.timestamp.s,
            actor: self.actor.s,
        })
    }
}

// ---- attribute-value decoder: the SDK's AttributeValue from its JSON form ---------------

/// The SDK's `AttributeValue`, deserializable from DynamoDB JSON (`{"S": "x"}`, ...).
struct Av(AttributeValue);

impl<'de> Deserialize<'de> for Av {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AvVisitor)
    }
}

struct AvVisitor;

fn blob<E: de::Error>(b64: &str) -> Result<Blob, E> {
    aws_smithy_types::base64::decode(b64)
        .map(Blob::new)
        .map_err(|e| E::custom(format!("binary attribute is not base64: {e}")))
}

impl<'de> Visitor<'de> for AvVisitor {
    type Value = Av;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DynamoDB attribute value such as {\"S\": \"text\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Av, A::Error> {
        let Some(tag) = map.next_key::<String>()? else {
            return Err(de::Error::custom("empty attribute value"));
        };
        let value = match tag.as_str() {
            "S" => AttributeValue::S(map.next_value()?),
            "N" => AttributeValue::N(map.next_value()?),
            "BOOL" => AttributeValue::Bool(map.next_value()?),
            "NULL" => AttributeValue::Null(map.next_value()?),
            "B" => AttributeValue::B(blob(&map.next_value::<String>()?)?),
            "SS" => AttributeValue::Ss(map.next_value()?),
            "NS" => AttributeValue::Ns(map.next_value()?),
            "BS" => AttributeValue::Bs(
                map.next_value::<Vec<String>>()?
                    .iter()
                    .map(|b| blob(b))
                    .collect::<Result<_, _>>()?,
            ),
            "M" => AttributeValue::M(
                map.next_value::<HashMap<String, Av>>()?
                    .into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect(),
            ),
            "L" => AttributeValue::L(
                map.next_value::<Vec<Av>>()?
                    .into_iter()
                    .map(|v| v.0)
                    .collect(),
            ),
            other => {
                return Err(de::Error::custom(format!(
                    "unknown attribute type {other:?}"
                )));
            }
        };
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("attribute value with more than one type"));
        }
        Ok(Av(value))
    }
}

#[derive(Deserialize)]
struct AvPage {
    #[serde(rename = "Items", default)]
    items: Vec<HashMap<String, Av>>,
}

fn into_item(raw: HashMap<String, Av>) -> Item {
    raw.into_iter().map(|(k, v)| (k, v.0)).collect()
}

// ---- pages -> events -> state -----------------------------------------------------------

/// Decodes the events of one Query response page, in the page's order.
pub fn decode_page(bytes: &[u8], decoder: Decoder) -> Result<Vec<StoredEvent>, PageError> {
    match decoder {
        Decoder::Typed => {
            let page: TypedPage = serde_json::from_slice(bytes)?;
            page.items
                .into_iter()
                .map(|item| item.into_stored().map_err(PageError::from))
                .collect()
        }
        Decoder::AttributeValues => {
            let page: AvPage = serde_json::from_slice(bytes)?;
            page.items
                .into_iter()
                .map(|item| event_from_item(into_item(item)).map_err(PageError::from))
                .collect()
        }
    }
}

/// The result of decoding and folding a stream's pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    pub state: AccountState,
    pub events: u64,
    pub version: u64,
}

/// Decodes every page of one stream, oldest first, and folds its events into the state.
///
/// The account id is the first event's stream id (empty for a stream with no events).
/// Versions must run gap-free from 1, as the store writes them.
pub fn decode_and_fold(pages: &[&[u8]], decoder: Decoder) -> Result<Folded, PageError> {
    let mut folded: Option<Folded> = None;
    for page in pages {
        for stored in decode_page(page, decoder)? {
            let f = folded.get_or_insert_with(|| Folded {
                state: domain::initial(&stored.stream_id),
                events: 0,
                version: 0,
            });
            if stored.version != f.version + 1 || stored.stream_id != f.state.account_id {
                return Err(PageError::Item(BadItem(format!(
                    "expected {}@{}, found {}@{}: pages must hold one stream, oldest first",
                    f.state.account_id,
                    f.version + 1,
                    stored.stream_id,
                    stored.version
                ))));
            }
            domain::evolve(&mut f.state, &stored.data);
            f.events += 1;
            f.version = stored.version;
        }
    }
    Ok(folded.unwrap_or_else(|| Folded {
        state: domain::initial(""),
        events: 0,
        version: 0,
    }))
}

/// Splits a file holding one or more JSON documents (concatenated, or one per line) into
/// each document's bytes, so that timing covers decoding only.
pub fn split_documents(bytes: &[u8]) -> Result<Vec<&[u8]>, serde_json::Error> {
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<de::IgnoredAny>();
    let mut start = 0;
    while let Some(doc) = stream.next() {
        doc?;
        let end = stream.byte_offset();
        docs.push(bytes[start..end].trim_ascii());
        start = end;
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::AccountStatus;

    fn item(version: u64, data: &str) -> String {
        let kind = data.split('"').nth(5).unwrap().to_owned();
        format!(
            r#"{{"stream_id":{{"S":"acc-1"}},"version":{{"N":"{version}"}},"type":{{"S":"{kind}"}},"data":{{"M":{data}}},"command_id":{{"S":"c{version}"}},"correlation_id":{{"S":"c{version}"}},"timestamp":{{"S":"2026-01-02T03:04:05Z"}},"actor":{{"S":"alice"}}}}"#
        )
    }

    fn page(items: &[String], last_key: bool) -> String {
        let lek = if last_key {
            r#","LastEvaluatedKey":{"stream_id":{"S":"acc-1"},"version":{"N":"2"}}"#
        } else {
            ""
        };
        format!(
            r#"{{"Count":{n},"Items":[{}],"ScannedCount":{n}{lek}}}"#,
            items.join(","),
            n = items.len()
        )
    }

    fn history() -> (String, String) {
        let first = page(
            &[
                item(
                    1,
                    r#"{"type":{"S":"AccountOpened"},"owner_id":{"S":"cust-1"}}"#,
                ),
                item(
                    2,
                    r#"{"type":{"S":"Deposited"},"amount":{"N":"100"},"reference":{"NULL":true}}"#,
                ),
            ],
            true,
        );
        let second = page(
            &[
                item(
                    3,
                    r#"{"type":{"S":"Withdrawn"},"amount":{"N":"30"},"reference":{"S":"rent"}}"#,
                ),
                item(4, r#"{"type":{"S":"Deposited"},"amount":{"N":"5"}}"#),
            ],
            false,
        );
        (first, second)
    }

    #[test]
    fn both_decoders_fold_the_same_pages_to_the_same_state() {
        let (first, second) = history();
        let pages = [first.as_bytes(), second.as_bytes()];
        for decoder in [Decoder::Typed, Decoder::AttributeValues] {
            let folded = decode_and_fold(&pages, decoder).unwrap();
            assert_eq!(folded.events, 4, "{decoder:?}");
            assert_eq!(folded.version, 4);
            assert_eq!(folded.state.account_id, "acc-1");
            assert_eq!(folded.state.status, AccountStatus::Open);
            assert_eq!(folded.state.owner_id, "cust-1");
            assert_eq!(folded.state.balance, 75);
        }
    }

    #[test]
    fn both_decoders_give_identical_stored_events() {
        let (first, _) = history();
        let typed = decode_page(first.as_bytes(), Decoder::Typed).unwrap();
        let generic = decode_page(first.as_bytes(), Decoder::AttributeValues).unwrap();
        assert_eq!(typed, generic);
        assert_eq!(
            typed[1].data,
            AccountEvent::Deposited {
                amount: 100,
                reference: None
            }
        );
    }

    #[test]
    fn a_gap_in_versions_is_an_error() {
        let (_, second) = history();
        let err = decode_and_fold(&[second.as_bytes()], Decoder::Typed).unwrap_err();
        assert!(err.to_string().contains("oldest first"), "{err}");
    }

    #[test]
    fn an_empty_page_folds_to_a_new_account() {
        let empty = page(&[], false);
        let folded = decode_and_fold(&[empty.as_bytes()], Decoder::AttributeValues).unwrap();
        assert_eq!(folded.events, 0);
        assert_eq!(folded.state.status, AccountStatus::New);
    }

    #[test]
    fn a_missing_amount_is_an_error_in_both_decoders() {
        let bad = page(&[item(1, r#"{"type":{"S":"Deposited"}}"#)], false);
        for decoder in [Decoder::Typed, Decoder::AttributeValues] {
            assert!(decode_page(bad.as_bytes(), decoder).is_err(), "{decoder:?}");
        }
    }

    #[test]
    fn a_mismatched_type_is_an_error_in_both_decoders() {
        let bad = page(
            &[item(1, r#"{"type":{"S":"AccountClosed"}}"#).replace(
                r#""type":{"S":"AccountClosed"},"data""#,
                r#""type":{"S":"Deposited"},"data""#,
            )],
            false,
        );
        for decoder in [Decoder::Typed, Decoder::AttributeValues] {
            let err = decode_page(bad.as_bytes(), decoder).unwrap_err();
            assert!(
                err.to_string().contains("does not match"),
                "{decoder:?}: {err}"
            );
        }
    }

    #[test]
    fn documents_split_on_concatenation_and_newlines() {
        let (first, second) = history();
        let file = format!("{first}\n{second}\n");
        let docs = split_documents(file.as_bytes()).unwrap();
        assert_eq!(docs, [first.as_bytes(), second.as_bytes()]);
        let glued = format!("{first}{second}");
        assert_eq!(split_documents(glued.as_bytes()).unwrap().len(), 2);
        assert!(split_documents(b"{\"Items\": [").is_err());
    }
}
