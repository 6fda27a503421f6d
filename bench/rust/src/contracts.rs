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
/// Longest free text such as a payment reference, in characters (hotcore's `Text`).
pub const MAX_TEXT_CHARS: usize = 500;

/// An identifier of a stream, command or owner: 1 to 128 of `A-Za-z0-9._:@/+=-`.
/// No `#`: the store keeps `#` for its own keys (`command#<id>`).
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
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_ID_CHARS {
            return Err(format!(
                "identifier must be 1 to {MAX_ID_CHARS} characters long, got {chars}"
            ));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._:@/+=-".contains(c);
        if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "identifier {value:?} contains {bad:?}; allowed are letters, digits and ._:@/+=-"
            ));
        }
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

/// What happened to an account. Stored as the item's `data` map, with `type` repeated
/// inside it, and `reference` written as NULL when absent (msgspec writes every field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AccountEvent {
    AccountOpened {
        owner_id: String,
    },
    Deposited {
        amount: i64,
        #[serde(default)]
        reference: Option<String>,
    },
    Withdrawn {
        amount: i64,
        #[serde(default)]
        reference: Option<String>,
    },
    AccountClosed {},
}

impl AccountEvent {
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

/// The Lambda payload of the command function: the command plus its tracing metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// Chosen by the caller; re-sending it returns the first outcome and appends nothing.
    pub command_id: Id,
    pub command: AccountCommand,
    /// Defaults to the command id: a command with no correlation starts a conversation.
    #[serde(default)]
    pub correlation_id: Option<Id>,
    #[serde(default)]
    pub causation_id: Option<Id>,
    /// Who sent the command; `anonymous` when the caller does not say.
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

/// The command function's response: an ack, or the rejection (a domain outcome, not an error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
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
        assert_eq!(req.command_id.as_str(), "cmd-1");
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
    fn outcomes_serialize_without_a_wrapper() {
        let ack = CommandOutcome::Accepted(CommandAck {
            command_id: "c".into(),
            stream_id: "a".into(),
            version: 3,
            events: 1,
        });
        assert_eq!(
            serde_json::to_value(&ack).unwrap(),
            json!({"command_id": "c", "stream_id": "a", "version": 3, "events": 1})
        );
        let rejected = CommandOutcome::Rejected(Rejection {
            rule: "insufficient-funds".into(),
            message: "No.".into(),
            data: Map::new(),
        });
        assert_eq!(
            serde_json::to_value(&rejected).unwrap(),
            json!({"rule": "insufficient-funds", "message": "No.", "data": {}})
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
