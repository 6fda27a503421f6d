//! Wire contracts of the Account Lambdas: validated field types, commands, events, the
//! request envelopes and the responses. Decoding is validation, as in hotcore's msgspec
//! contracts: a value that breaks a field's constraint fails to deserialize, and the
//! error (with the path lambda_runtime adds) names the field.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest amount a command may carry, in minor units (hotcore's `Amount`: `le=10**15`).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;
/// Longest identifier, in characters (hotcore's `Id`).
pub const MAX_ID_CHARS: usize = 128;
/// Longest command or event reference, in characters (hotcore's `Ref`).
pub const MAX_REF_CHARS: usize = 256;
/// Longest free text such as a payment reference, in characters (hotcore's `Text`).
pub const MAX_TEXT_CHARS: usize = 500;

/// Characters allowed in identifiers. No `#`: the store keeps `#` for its own keys
/// (`command#<id>`, `<stream>#snapshot`).
fn check_identifier(value: &str, max: usize) -> Result<(), String> {
    let chars = value.chars().count();
    if chars == 0 || chars > max {
        return Err(format!(
            "identifier must be 1 to {max} characters long, got {chars}"
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._:@/+=-".contains(c);
    if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "identifier {value:?} contains {bad:?}; allowed are letters, digits and ._:@/+=-"
        ));
    }
    Ok(())
}

/// An identifier of a stream or owner (hotcore's `Id`): 1 to 128 of `A-Za-z0-9._:@/+=-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

impl Id {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Id {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        check_identifier(&value, MAX_ID_CHARS)?;
        Ok(Id(value))
    }
}

impl From<Id> for String {
    fn from(id: Id) -> Self {
        id.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference to a command or event (hotcore's `Ref`): like [`Id`], up to 256 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ref(String);

impl Ref {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Ref {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        check_identifier(&value, MAX_REF_CHARS)?;
        Ok(Ref(value))
    }
}

impl From<Ref> for String {
    fn from(r: Ref) -> Self {
        r.0
    }
}

/// Money in minor units: an integer from 1 to 10^15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Amount(i64);

impl Amount {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Amount {
    type Error = String;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        if value <= 0 || value > MAX_AMOUNT {
            return Err(format!(
                "amount must be greater than 0 and at most {MAX_AMOUNT} minor units, got {value}"
            ));
        }
        Ok(Amount(value))
    }
}

impl From<Amount> for i64 {
    fn from(amount: Amount) -> Self {
        amount.0
    }
}

/// Free text for people (a payment reference): 1 to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl TryFrom<String> for Text {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_TEXT_CHARS {
            return Err(format!(
                "text must be 1 to {MAX_TEXT_CHARS} characters long, got {chars}"
            ));
        }
        Ok(Text(value))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0
    }
}

/// What a caller asks an account to do. Tagged by `type`, like hotcore's contracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum AccountCommand {
    OpenAccount {
        account_id: Id,
        owner_id: Id,
    },
    Deposit {
        account_id: Id,
        amount: Amount,
        #[serde(default)]
        reference: Option<Text>,
    },
    Withdraw {
        account_id: Id,
        amount: Amount,
        #[serde(default)]
        reference: Option<Text>,
    },
    CloseAccount {
        account_id: Id,
    },
}

impl AccountCommand {
    /// The account (and so the stream) the command is addressed to.
    pub fn account_id(&self) -> &Id {
        match self {
            AccountCommand::OpenAccount { account_id, .. }
            | AccountCommand::Deposit { account_id, .. }
            | AccountCommand::Withdraw { account_id, .. }
            | AccountCommand::CloseAccount { account_id } => account_id,
        }
    }
}

/// The ledger's currency: what a version 1 `Deposited` was in (hotcore's `LEDGER_CURRENCY`).
pub const LEDGER_CURRENCY: &str = "EUR";

fn ledger_currency() -> String {
    LEDGER_CURRENCY.to_owned()
}

/// What happened to an account: the envelope's `data`, tagged by `type`, optional fields
/// written as null when absent (msgspec writes every field), in hotcore's field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AccountEvent {
    AccountOpened {
        owner_id: String,
    },
    /// Version 2 (hotcore's): `memo` was `reference` in version 1, `currency` is new. A
    /// version 1 event reads as version 2 (the alias and the default are its upcast).
    Deposited {
        amount: i64,
        #[serde(default, alias = "reference")]
        memo: Option<String>,
        #[serde(default = "ledger_currency")]
        currency: String,
    },
    Withdrawn {
        amount: i64,
        #[serde(default)]
        reference: Option<String>,
    },
    AccountClosed {},
}

impl AccountEvent {
    /// The version of the event's type this code writes (the envelope's `schema_version`).
    pub fn schema_version(&self) -> u32 {
        match self {
            AccountEvent::Deposited { .. } => 2,
            _ => 1,
        }
    }

    /// The event's type name, as stored in the item's `type` attribute.
    pub fn type_name(&self) -> &'static str {
        match self {
            AccountEvent::AccountOpened { .. } => "AccountOpened",
            AccountEvent::Deposited { .. } => "Deposited",
            AccountEvent::Withdrawn { .. } => "Withdrawn",
            AccountEvent::AccountClosed {} => "AccountClosed",
        }
    }
}

/// The Lambda payload of the command function, as hotcore's direct invocation takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    pub command: AccountCommand,
    /// Chosen by the caller, so that re-sending it returns the first outcome and appends
    /// nothing; a fresh random id when absent.
    #[serde(default)]
    pub command_id: Option<Ref>,
    /// Defaults to the command id: a command with no correlation starts a conversation.
    #[serde(default)]
    pub correlation_id: Option<Ref>,
    #[serde(default)]
    pub causation_id: Option<Ref>,
    /// Who sent the command; `direct` when the caller does not say (as in hotcore).
    #[serde(default)]
    pub actor: Option<Text>,
}

/// The Lambda payload of the query function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetAccount {
    pub account_id: Id,
}

/// The lifecycle of an account; `new` means the stream has no event yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    New,
    Open,
    Closed,
}

/// The folded state of one account, as the query function returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    pub account_id: String,
    pub status: AccountStatus,
    pub owner_id: String,
    pub balance: i64,
}

/// The query function's response: the folded state and the version it is at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub stream_id: String,
    pub version: u64,
    pub state: AccountState,
}

/// A command the domain refused: which rule, a sentence for people, and the data involved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub rule: String,
    pub message: String,
    pub data: Map<String, Value>,
}

/// What an accepted command returns: where its events went and the stream's new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAck {
    pub command_id: String,
    pub stream_id: String,
    pub version: u64,
    pub events: u64,
}

/// The command function's response: an ack, or the rejection (a domain outcome, not an
/// error), flattened with an `outcome` field a caller can branch on, as in hotcore:
/// `{"outcome": "accepted", "command_id", ...}` or `{"outcome": "rejected", "rule", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum CommandOutcome {
    Accepted(CommandAck),
    Rejected(Rejection),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(command: Value) -> Result<CommandRequest, serde_json::Error> {
        serde_json::from_value(json!({ "command_id": "cmd-1", "command": command }))
    }

    #[test]
    fn a_withdrawal_request_decodes() {
        let req = request(
            json!({"type": "Withdraw", "account_id": "acc-1", "amount": 5, "reference": null}),
        )
        .unwrap();
        assert_eq!(req.command_id.as_ref().map(Ref::as_str), Some("cmd-1"));
        assert_eq!(req.correlation_id, None);
        assert_eq!(
            req.command,
            AccountCommand::Withdraw {
                account_id: Id::try_from("acc-1".to_owned()).unwrap(),
                amount: Amount::try_from(5).unwrap(),
                reference: None,
            }
        );
        assert_eq!(req.command.account_id().as_str(), "acc-1");
    }

    #[test]
    fn amounts_must_be_positive_and_bounded() {
        for bad in [
            json!(0),
            json!(-3),
            json!(MAX_AMOUNT + 1),
            json!(1.5),
            json!("5"),
        ] {
            let err = request(json!({"type": "Deposit", "account_id": "acc-1", "amount": bad}))
                .expect_err("amount must be refused");
            assert!(
                err.to_string().contains("amount") || err.to_string().contains("invalid"),
                "{err}"
            );
        }
        let err =
            request(json!({"type": "Deposit", "account_id": "acc-1", "amount": 0})).unwrap_err();
        assert!(
            err.to_string().contains("amount must be greater than 0"),
            "{err}"
        );
        assert!(
            request(json!({"type": "Deposit", "account_id": "a", "amount": MAX_AMOUNT})).is_ok()
        );
    }

    #[test]
    fn command_ids_are_references_of_up_to_256_characters() {
        let with = |id: &str| {
            serde_json::from_value::<CommandRequest>(
                json!({"command_id": id, "command": {"type": "CloseAccount", "account_id": "a"}}),
            )
        };
        assert!(with(&"c".repeat(MAX_REF_CHARS)).is_ok());
        assert!(with(&"c".repeat(MAX_REF_CHARS + 1)).is_err());
        assert!(with("a#b").is_err());
        let bare = serde_json::from_value::<CommandRequest>(
            json!({"command": {"type": "CloseAccount", "account_id": "a"}}),
        )
        .unwrap();
        assert_eq!(bare.command_id, None);
    }

    #[test]
    fn ids_are_checked() {
        for bad in ["", "has space", "store#key", &"x".repeat(MAX_ID_CHARS + 1)] {
            let err = request(json!({"type": "CloseAccount", "account_id": bad})).unwrap_err();
            assert!(err.to_string().contains("identifier"), "{bad:?}: {err}");
        }
        assert!(
            request(json!({"type": "CloseAccount", "account_id": "a.b:c@d/e+f=g-h_1"})).is_ok()
        );
    }

    #[test]
    fn references_are_one_to_five_hundred_characters() {
        let with = |r: &str| {
            request(json!({"type": "Deposit", "account_id": "a", "amount": 1, "reference": r}))
        };
        assert!(with("").is_err());
        assert!(with(&"é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(with(&"é".repeat(MAX_TEXT_CHARS + 1)).is_err());
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        assert!(
            request(json!({"type": "CloseAccount", "account_id": "a", "force": true})).is_err()
        );
        assert!(request(json!({"type": "Freeze", "account_id": "a"})).is_err());
        assert!(request(json!({"account_id": "a"})).is_err());
        let extra = json!({"command_id": "c", "command": {"type": "CloseAccount", "account_id": "a"}, "x": 1});
        assert!(serde_json::from_value::<CommandRequest>(extra).is_err());
        assert!(serde_json::from_value::<GetAccount>(json!({"account_id": "a", "x": 1})).is_err());
    }

    #[test]
    fn outcomes_serialize_flat_with_an_outcome_field() {
        let ack = CommandOutcome::Accepted(CommandAck {
            command_id: "c".into(),
            stream_id: "a".into(),
            version: 3,
            events: 1,
        });
        assert_eq!(
            serde_json::to_value(&ack).unwrap(),
            json!({"outcome": "accepted", "command_id": "c", "stream_id": "a", "version": 3, "events": 1})
        );
        let rejected = CommandOutcome::Rejected(Rejection {
            rule: "insufficient-funds".into(),
            message: "No.".into(),
            data: Map::new(),
        });
        assert_eq!(
            serde_json::to_value(&rejected).unwrap(),
            json!({"outcome": "rejected", "rule": "insufficient-funds", "message": "No.", "data": {}})
        );
    }

    #[test]
    fn state_serializes_with_a_lowercase_status() {
        let state = AccountState {
            account_id: "a".into(),
            status: AccountStatus::Open,
            owner_id: "o".into(),
            balance: 7,
        };
        assert_eq!(
            serde_json::to_value(&state).unwrap(),
            json!({"account_id": "a", "status": "open", "owner_id": "o", "balance": 7})
        );
    }
}
