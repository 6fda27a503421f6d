//! The Account decider: `initial`, `evolve`, `fold` and `decide`, with the same rules as
//! hotcore's Python Account aggregate. Pure functions, no I/O.

use serde_json::{Map, Value, json};

use crate::contracts::{
    AccountCommand, AccountEvent, AccountState, AccountStatus, LEDGER_CURRENCY, Rejection,
};

/// The state of an account before its first event.
pub fn initial(account_id: &str) -> AccountState {
    AccountState {
        account_id: account_id.to_owned(),
        status: AccountStatus::New,
        owner_id: String::new(),
        balance: 0,
    }
}

/// Applies one event to the state in place (the fold's step).
pub fn evolve(state: &mut AccountState, event: &AccountEvent) {
    match event {
        AccountEvent::AccountOpened { owner_id } => {
            state.status = AccountStatus::Open;
            state.owner_id.clone_from(owner_id);
        }
        // Saturating: a stream written by this decider never gets near i64's range, and a
        // corrupt one must not panic the reader (Python's int cannot overflow at all).
        AccountEvent::Deposited { amount, .. } => {
            state.balance = state.balance.saturating_add(*amount);
        }
        AccountEvent::Withdrawn { amount, .. } => {
            state.balance = state.balance.saturating_sub(*amount);
        }
        AccountEvent::AccountClosed {} => state.status = AccountStatus::Closed,
    }
}

/// Folds events, oldest first, into the state.
pub fn fold<'a>(
    mut state: AccountState,
    events: impl IntoIterator<Item = &'a AccountEvent>,
) -> AccountState {
    for event in events {
        evolve(&mut state, event);
    }
    state
}

fn rejection(rule: &str, message: String, data: Value) -> Rejection {
    let data: Map<String, Value> = match data {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Rejection {
        rule: rule.to_owned(),
        message,
        data,
    }
}

/// Decides what a command does to an account: the new events, or the rule it breaks.
///
/// The checks run in hotcore's order, with its messages: a closed account refuses
/// everything (`account-closed`, even a second `OpenAccount`); opening an open account is
/// `account-exists`; anything but opening a new account is `account-not-open`; then the
/// amount rules.
pub fn decide(
    state: &AccountState,
    command: &AccountCommand,
) -> Result<Vec<AccountEvent>, Rejection> {
    let id = &state.account_id;
    if state.status == AccountStatus::Closed {
        return Err(rejection(
            "account-closed",
            format!("account {id} is closed"),
            json!({ "account_id": id }),
        ));
    }
    if let AccountCommand::OpenAccount { owner_id, .. } = command {
        if state.status != AccountStatus::New {
            return Err(rejection(
                "account-exists",
                format!("account {id} is already open"),
                json!({ "account_id": id }),
            ));
        }
        return Ok(vec![AccountEvent::AccountOpened {
            owner_id: owner_id.as_str().to_owned(),
        }]);
    }
    if state.status == AccountStatus::New {
        return Err(rejection(
            "account-not-open",
            format!("account {id} is not open"),
            json!({ "account_id": id }),
        ));
    }
    match command {
        AccountCommand::OpenAccount { .. } => unreachable!("handled above"),
        AccountCommand::Deposit {
            amount, reference, ..
        } => {
            if state.balance.checked_add(amount.get()).is_none() {
                // Only Rust has this limit (i64 minor units); Python's ints are unbounded.
                return Err(rejection(
                    "balance-overflow",
                    format!(
                        "A deposit of {} would overflow the balance of account {id}.",
                        amount.get()
                    ),
                    json!({ "balance": state.balance, "amount": amount.get() }),
                ));
            }
            Ok(vec![AccountEvent::Deposited {
                amount: amount.get(),
                memo: reference.clone().map(String::from),
                currency: LEDGER_CURRENCY.to_owned(),
            }])
        }
        AccountCommand::Withdraw {
            amount, reference, ..
        } => {
            if amount.get() > state.balance {
                return Err(rejection(
                    "insufficient-funds",
                    format!(
                        "cannot withdraw {} from a balance of {}",
                        amount.get(),
                        state.balance
                    ),
                    json!({ "balance": state.balance, "amount": amount.get() }),
                ));
            }
            Ok(vec![AccountEvent::Withdrawn {
                amount: amount.get(),
                reference: reference.clone().map(String::from),
            }])
        }
        AccountCommand::CloseAccount { .. } => {
            if state.balance != 0 {
                return Err(rejection(
                    "balance-not-zero",
                    format!("cannot close an account holding {}", state.balance),
                    json!({ "balance": state.balance }),
                ));
            }
            Ok(vec![AccountEvent::AccountClosed {}])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::{Amount, Id, Text};

    fn id(s: &str) -> Id {
        Id::try_from(s.to_owned()).unwrap()
    }

    fn amount(n: i64) -> Amount {
        Amount::try_from(n).unwrap()
    }

    fn open(owner: &str) -> AccountEvent {
        AccountEvent::AccountOpened {
            owner_id: owner.into(),
        }
    }

    fn deposited(n: i64) -> AccountEvent {
        AccountEvent::Deposited {
            amount: n,
            memo: None,
            currency: "EUR".into(),
        }
    }

    fn withdrawn(n: i64) -> AccountEvent {
        AccountEvent::Withdrawn {
            amount: n,
            reference: None,
        }
    }

    /// Given these events on account "acc-1", when the command is decided.
    fn given(
        events: &[AccountEvent],
        command: AccountCommand,
    ) -> Result<Vec<AccountEvent>, Rejection> {
        let state = fold(initial("acc-1"), events);
        decide(&state, &command)
    }

    fn withdraw(n: i64) -> AccountCommand {
        AccountCommand::Withdraw {
            account_id: id("acc-1"),
            amount: amount(n),
            reference: None,
        }
    }

    fn deposit(n: i64) -> AccountCommand {
        AccountCommand::Deposit {
            account_id: id("acc-1"),
            amount: amount(n),
            reference: None,
        }
    }

    fn close() -> AccountCommand {
        AccountCommand::CloseAccount {
            account_id: id("acc-1"),
        }
    }

    fn open_cmd() -> AccountCommand {
        AccountCommand::OpenAccount {
            account_id: id("acc-1"),
            owner_id: id("cust-1"),
        }
    }

    #[test]
    fn fold_of_no_events_is_a_new_account() {
        let state = fold(initial("acc-1"), &[]);
        assert_eq!(state, initial("acc-1"));
        assert_eq!(state.status, AccountStatus::New);
    }

    #[test]
    fn fold_applies_events_in_order() {
        let events = [open("cust-1"), deposited(100), withdrawn(30), deposited(5)];
        let state = fold(initial("acc-1"), &events);
        assert_eq!(
            state,
            AccountState {
                account_id: "acc-1".into(),
                status: AccountStatus::Open,
                owner_id: "cust-1".into(),
                balance: 75,
            }
        );
        let closed = fold(state, &[withdrawn(75), AccountEvent::AccountClosed {}]);
        assert_eq!(closed.status, AccountStatus::Closed);
        assert_eq!(closed.balance, 0);
    }

    #[test]
    fn open_on_a_new_account_opens_it() {
        assert_eq!(given(&[], open_cmd()), Ok(vec![open("cust-1")]));
    }

    #[test]
    fn open_on_an_existing_account_is_account_exists() {
        let err = given(&[open("cust-1")], open_cmd()).unwrap_err();
        assert_eq!(err.rule, "account-exists");
        assert_eq!(err.message, "account acc-1 is already open");
        assert_eq!(err.data["account_id"], "acc-1");
    }

    #[test]
    fn open_on_a_closed_account_is_account_closed() {
        let err = given(
            &[open("cust-1"), AccountEvent::AccountClosed {}],
            open_cmd(),
        )
        .unwrap_err();
        assert_eq!(err.rule, "account-closed");
        assert_eq!(err.message, "account acc-1 is closed");
    }

    #[test]
    fn anything_but_open_on_a_new_account_is_account_not_open() {
        for command in [deposit(1), withdraw(1), close()] {
            let err = given(&[], command).unwrap_err();
            assert_eq!(err.rule, "account-not-open");
            assert_eq!(err.message, "account acc-1 is not open");
        }
    }

    #[test]
    fn any_command_on_a_closed_account_is_account_closed() {
        let history = [open("cust-1"), AccountEvent::AccountClosed {}];
        for command in [open_cmd(), deposit(1), withdraw(1), close()] {
            assert_eq!(given(&history, command).unwrap_err().rule, "account-closed");
        }
    }

    #[test]
    fn deposit_records_amount_and_reference() {
        let command = AccountCommand::Deposit {
            account_id: id("acc-1"),
            amount: amount(250),
            reference: Some(Text::try_from("salary".to_owned()).unwrap()),
        };
        assert_eq!(
            given(&[open("cust-1")], command),
            Ok(vec![AccountEvent::Deposited {
                amount: 250,
                memo: Some("salary".into()),
                currency: "EUR".into(),
            }])
        );
    }

    #[test]
    fn withdraw_within_the_balance_is_accepted() {
        assert_eq!(
            given(&[open("cust-1"), deposited(100)], withdraw(100)),
            Ok(vec![withdrawn(100)])
        );
    }

    #[test]
    fn withdraw_more_than_the_balance_is_insufficient_funds() {
        let err = given(
            &[open("cust-1"), deposited(100), withdrawn(40)],
            withdraw(61),
        )
        .unwrap_err();
        assert_eq!(err.rule, "insufficient-funds");
        assert_eq!(
            Value::Object(err.data),
            json!({"balance": 60, "amount": 61})
        );
        assert_eq!(err.message, "cannot withdraw 61 from a balance of 60");
    }

    #[test]
    fn close_with_a_balance_is_balance_not_zero() {
        let err = given(&[open("cust-1"), deposited(1)], close()).unwrap_err();
        assert_eq!(err.rule, "balance-not-zero");
        assert_eq!(Value::Object(err.data), json!({"balance": 1}));
        assert_eq!(err.message, "cannot close an account holding 1");
    }

    #[test]
    fn close_with_zero_balance_closes() {
        assert_eq!(
            given(&[open("cust-1"), deposited(5), withdrawn(5)], close()),
            Ok(vec![AccountEvent::AccountClosed {}])
        );
    }

    #[test]
    fn deposit_that_would_overflow_is_refused() {
        let history = [open("cust-1"), deposited(i64::MAX - 1)];
        assert_eq!(
            given(&history, deposit(2)).unwrap_err().rule,
            "balance-overflow"
        );
    }

    #[test]
    fn accepted_events_fold_back_to_a_consistent_state() {
        // Decide-then-evolve over a scripted session never lets the balance go negative.
        let mut state = initial("acc-1");
        let script = [
            open_cmd(),
            deposit(10),
            withdraw(4),
            withdraw(7),
            deposit(1),
            withdraw(7),
            close(),
        ];
        let mut outcomes = Vec::new();
        for command in script {
            match decide(&state, &command) {
                Ok(events) => {
                    state = fold(state, &events);
                    outcomes.push("ok".to_owned());
                }
                Err(r) => outcomes.push(r.rule),
            }
            assert!(state.balance >= 0);
        }
        assert_eq!(
            outcomes,
            ["ok", "ok", "ok", "insufficient-funds", "ok", "ok", "ok"]
        );
        assert_eq!(state.status, AccountStatus::Closed);
    }
}
