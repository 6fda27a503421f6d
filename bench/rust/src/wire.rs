//! Decoding raw DynamoDB Query response pages (the JSON 1.0 bytes DynamoDB sends) and
//! folding them: the Rust side of the fold benchmark, run on the very bytes the Python
//! benchmarks decode.
//!
//! Two decoders, both plain serde over `serde_json`:
//! - [`Decoder::Typed`]: straight from the bytes into typed wire structs (`{"S": ...}`
//!   wrappers) for the items of layout 2, then each envelope (`e`) into a typed struct of
//!   what a load needs (version, command id, the event enum; the other fields skipped by
//!   the parser). What a Rust team writes when it reads the bytes itself; the fair
//!   counterpart of hotcore's read path, which reads the same of each envelope.
//! - [`Decoder::AttributeValues`]: the bytes into the SDK's `AttributeValue` maps, then
//!   serde_dynamo into the item and serde_json into the whole envelope. The shape of the
//!   Lambda's own load path (the SDK parses into `AttributeValue`s, serde_dynamo maps
//!   them), with serde standing in for the SDK's internal JSON parser, which is not public.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::contracts::{AccountEvent, AccountState};
use crate::domain;
use crate::item::{BadItem, Item, event_from_item};

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

/// An event item of layout 2 as a Query page holds it (`s`, a snapshot, is skipped: the
/// benchmark's pages are a whole-stream read).
#[derive(Deserialize)]
struct WireItem {
    stream_id: S,
    version: N,
    #[serde(rename = "type")]
    event_type: S,
    e: S,
    #[allow(dead_code)]
    f: S,
}

/// What a state load needs of an envelope (its other fields are skipped by the parser),
/// like hotcore's `LoadedEvent`.
#[derive(Deserialize)]
struct LoadedEnvelope {
    version: u64,
    command_id: String,
    data: AccountEvent,
}

#[derive(Deserialize)]
struct TypedPage {
    #[serde(rename = "Items", default)]
    items: Vec<WireItem>,
}

/// One event of a page, as a load folds it: whose, which version, which command, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEvent {
    pub stream_id: String,
    pub version: u64,
    pub command_id: String,
    pub data: AccountEvent,
}

impl WireItem {
    fn into_event(self) -> Result<PageEvent, BadItem> {
        let version: u64 = self.version.n.parse().map_err(|_| {
            BadItem(format!(
                "version {:?} is not an integer in range",
                self.version.n
            ))
        })?;
        let envelope: LoadedEnvelope = serde_json::from_str(&self.e.s).map_err(|e| {
            BadItem(format!(
                "{}@{version}: the envelope does not decode: {e}",
                self.stream_id.s
            ))
        })?;
        if envelope.version != version || envelope.data.type_name() != self.event_type.s {
            return Err(BadItem(format!(
                "{}@{version} ({}) holds the envelope of version {} ({})",
                self.stream_id.s,
                self.event_type.s,
                envelope.version,
                envelope.data.type_name()
            )));
        }
        Ok(PageEvent {
            stream_id: self.stream_id.s,
            version,
            command_id: envelope.command_id,
            data: envelope.data,
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
pub fn decode_page(bytes: &[u8], decoder: Decoder) -> Result<Vec<PageEvent>, PageError> {
    match decoder {
        Decoder::Typed => {
            let page: TypedPage = serde_json::from_slice(bytes)?;
            page.items
                .into_iter()
                .map(|item| item.into_event().map_err(PageError::from))
                .collect()
        }
        Decoder::AttributeValues => {
            let page: AvPage = serde_json::from_slice(bytes)?;
            page.items
                .into_iter()
                .map(|item| -> Result<PageEvent, PageError> {
                    let stored = event_from_item(into_item(item))?;
                    Ok(PageEvent {
                        stream_id: stored.stream_id,
                        version: stored.version,
                        command_id: stored.command_id,
                        data: stored.data,
                    })
                })
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
        let kind = data.split('"').nth(3).unwrap().to_owned();
        let envelope = format!(
            r#"{{"stream_id":"acc-1","version":{version},"type":"{kind}","data":{data},"command_id":"c{version}","correlation_id":"c{version}","timestamp":"2026-01-02T03:04:05Z","actor":"alice"}}"#
        );
        let e = serde_json::to_string(&envelope).unwrap();
        format!(
            r#"{{"stream_id":{{"S":"acc-1"}},"version":{{"N":"{version}"}},"type":{{"S":"{kind}"}},"e":{{"S":{e}}},"f":{{"S":"0123456789abcdef0123456789abcdef"}}}}"#
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
                item(1, r#"{"type":"AccountOpened","owner_id":"cust-1"}"#),
                item(
                    2,
                    r#"{"type":"Deposited","amount":100,"memo":null,"currency":"EUR"}"#,
                ),
            ],
            true,
        );
        let second = page(
            &[
                item(3, r#"{"type":"Withdrawn","amount":30,"reference":"rent"}"#),
                item(4, r#"{"type":"Deposited","amount":5}"#),
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
    fn both_decoders_give_identical_events() {
        let (first, _) = history();
        let typed = decode_page(first.as_bytes(), Decoder::Typed).unwrap();
        let generic = decode_page(first.as_bytes(), Decoder::AttributeValues).unwrap();
        assert_eq!(typed, generic);
        assert_eq!(typed[1].command_id, "c2");
        assert_eq!(
            typed[1].data,
            AccountEvent::Deposited {
                amount: 100,
                memo: None,
                currency: "EUR".into()
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
        let bad = page(&[item(1, r#"{"type":"Deposited"}"#)], false);
        for decoder in [Decoder::Typed, Decoder::AttributeValues] {
            assert!(decode_page(bad.as_bytes(), decoder).is_err(), "{decoder:?}");
        }
    }

    #[test]
    fn a_mismatched_type_is_an_error_in_both_decoders() {
        let bad = page(
            &[item(1, r#"{"type":"AccountClosed"}"#).replace(
                r#""type":{"S":"AccountClosed"},"e""#,
                r#""type":{"S":"Deposited"},"e""#,
            )],
            false,
        );
        for decoder in [Decoder::Typed, Decoder::AttributeValues] {
            let err = decode_page(bad.as_bytes(), decoder).unwrap_err();
            assert!(
                err.to_string().contains("holds the envelope"),
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
