//! End-to-end tests of the store and the command/query flow against a DynamoDB endpoint
//! (an emulator such as moto's server). Ignored by a plain `cargo test`; run with
//!
//! ```text
//! AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:PORT AWS_REGION=us-east-1 \
//! AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test cargo test -- --ignored
//! ```
//!
//! Each test creates its own table, so they run in parallel against one emulator.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use account_baseline::contracts::{
    AccountEvent, AccountStatus, CommandOutcome, CommandRequest, GetAccount,
};
use account_baseline::domain;
use account_baseline::handler::Account;
use account_baseline::item::{Item, SnapshotItem, to_item};
use account_baseline::store::{AccountStore, Appended, Metadata, StoreError};
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, WriteRequest,
};
use serde_json::{Value, json};

static TABLES: AtomicU32 = AtomicU32::new(0);

async fn client() -> Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok(),
        "set AWS_ENDPOINT_URL_DYNAMODB to a DynamoDB emulator's URL"
    );
    Client::new(&aws_config::load_defaults(BehaviorVersion::latest()).await)
}

/// A fresh Account table (stream_id S hash key, version N range key) and the service on it.
async fn fresh_account(snapshot_every: u64) -> (Account, Client, String) {
    let client = client().await;
    let table = format!(
        "account-{}-{}",
        std::process::id(),
        TABLES.fetch_add(1, Ordering::SeqCst)
    );
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("stream_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("version")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("stream_id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("version")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
    let account = Account {
        store: AccountStore::new(client.clone(), &table),
        snapshot_every,
    };
    (account, client, table)
}

async fn fresh_store() -> (Account, Client, String) {
    fresh_account(100).await
}

fn req(command_id: &str, command: Value) -> CommandRequest {
    serde_json::from_value(json!({ "command_id": command_id, "command": command })).unwrap()
}

async fn run(account: &Account, command_id: &str, command: Value) -> Value {
    let outcome = account.execute(&req(command_id, command)).await.unwrap();
    serde_json::to_value(outcome).unwrap()
}

async fn items(client: &Client, table: &str, stream_id: &str) -> Vec<Item> {
    client
        .query()
        .table_name(table)
        .key_condition_expression("stream_id = :s")
        .expression_attribute_values(":s", AttributeValue::S(stream_id.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn commands_append_events_and_the_query_folds_them() {
    let (account, client, table) = fresh_store().await;
    let open = run(
        &account,
        "c1",
        json!({"type": "OpenAccount", "account_id": "acc-1", "owner_id": "cust-1"}),
    )
    .await;
    assert_eq!(
        open,
        json!({"outcome": "accepted", "command_id": "c1", "stream_id": "acc-1", "version": 1, "events": 1})
    );
    run(
        &account,
        "c2",
        json!({"type": "Deposit", "account_id": "acc-1", "amount": 100, "reference": null}),
    )
    .await;
    let w = run(
        &account,
        "c3",
        json!({"type": "Withdraw", "account_id": "acc-1", "amount": 30, "reference": "rent"}),
    )
    .await;
    assert_eq!(w["version"], 3);

    let refused = run(
        &account,
        "c4",
        json!({"type": "Withdraw", "account_id": "acc-1", "amount": 71}),
    )
    .await;
    assert_eq!(refused["outcome"], "rejected");
    assert_eq!(refused["rule"], "insufficient-funds");
    assert_eq!(refused["data"], json!({"balance": 70, "amount": 71}));
    let refused = run(
        &account,
        "c5",
        json!({"type": "CloseAccount", "account_id": "acc-1"}),
    )
    .await;
    assert_eq!(refused["rule"], "balance-not-zero");

    let view = account.query(&get("acc-1")).await.unwrap();
    assert_eq!(
        serde_json::to_value(&view).unwrap(),
        json!({"stream_id": "acc-1", "version": 3,
               "state": {"account_id": "acc-1", "status": "open", "owner_id": "cust-1", "balance": 70}})
    );

    // The stored items follow the shared layout.
    let stored = items(&client, &table, "acc-1").await;
    assert_eq!(stored.len(), 3);
    let third = &stored[2];
    assert_eq!(third["type"], AttributeValue::S("Withdrawn".into()));
    assert_eq!(third["command_id"], AttributeValue::S("c3".into()));
    assert_eq!(third["correlation_id"], AttributeValue::S("c3".into()));
    assert_eq!(third["actor"], AttributeValue::S("direct".into()));
    assert!(!third.contains_key("causation_id"));
    let AttributeValue::M(data) = &third["data"] else {
        panic!("data is not a map")
    };
    assert_eq!(data["type"], AttributeValue::S("Withdrawn".into()));
    assert_eq!(data["amount"], AttributeValue::N("30".into()));
    assert_eq!(data["reference"], AttributeValue::S("rent".into()));
    let AttributeValue::S(ts) = &third["timestamp"] else {
        panic!("timestamp is not a string")
    };
    assert!(ts.ends_with('Z') && ts.contains('T'), "{ts}");
    // Only accepted commands leave a record.
    let record = items(&client, &table, "command#c3").await;
    assert_eq!(record[0]["ref_stream"], AttributeValue::S("acc-1".into()));
    assert_eq!(record[0]["ref_version"], AttributeValue::N("3".into()));
    assert_eq!(record[0]["events"], AttributeValue::N("1".into()));
    assert!(items(&client, &table, "command#c4").await.is_empty());

    // A query on a stream with no events is a new account at version 0.
    let none = account.query(&get("nobody")).await.unwrap();
    assert_eq!((none.version, none.state.status), (0, AccountStatus::New));
}

fn get(account_id: &str) -> GetAccount {
    GetAccount {
        account_id: account_id.to_owned().try_into().unwrap(),
    }
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn a_command_without_an_id_gets_a_fresh_one_and_the_metadata_is_stored() {
    let (account, client, table) = fresh_store().await;
    let request: CommandRequest = serde_json::from_value(json!({
        "command": {"type": "OpenAccount", "account_id": "acc-7", "owner_id": "x"},
        "correlation_id": "conv-1", "causation_id": "ev-9", "actor": "alice",
    }))
    .unwrap();
    let CommandOutcome::Accepted(ack) = account.execute(&request).await.unwrap() else {
        panic!("rejected")
    };
    assert_eq!(ack.command_id.len(), 36, "{}", ack.command_id);
    let stored = &items(&client, &table, "acc-7").await[0];
    assert_eq!(
        stored["command_id"],
        AttributeValue::S(ack.command_id.clone())
    );
    assert_eq!(stored["correlation_id"], AttributeValue::S("conv-1".into()));
    assert_eq!(stored["causation_id"], AttributeValue::S("ev-9".into()));
    assert_eq!(stored["actor"], AttributeValue::S("alice".into()));
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn a_resent_command_returns_the_first_outcome_and_appends_nothing() {
    let (account, client, table) = fresh_store().await;
    run(
        &account,
        "o",
        json!({"type": "OpenAccount", "account_id": "acc-2", "owner_id": "x"}),
    )
    .await;
    run(
        &account,
        "d",
        json!({"type": "Deposit", "account_id": "acc-2", "amount": 10}),
    )
    .await;
    let first = run(
        &account,
        "w",
        json!({"type": "Withdraw", "account_id": "acc-2", "amount": 10}),
    )
    .await;
    // The same withdrawal again would now be refused (balance 0): it gets its first ack.
    let again = run(
        &account,
        "w",
        json!({"type": "Withdraw", "account_id": "acc-2", "amount": 10}),
    )
    .await;
    assert_eq!(again, first);
    // A re-sent deposit would be accepted again by the rules: the record stops it.
    let again = run(
        &account,
        "d",
        json!({"type": "Deposit", "account_id": "acc-2", "amount": 10}),
    )
    .await;
    assert_eq!(
        again,
        json!({"outcome": "accepted", "command_id": "d", "stream_id": "acc-2", "version": 2, "events": 1})
    );
    assert_eq!(items(&client, &table, "acc-2").await.len(), 3);
}

fn metadata(id: &str) -> Metadata {
    Metadata {
        command_id: id.into(),
        correlation_id: id.into(),
        causation_id: None,
        actor: "t".into(),
    }
}

fn deposited(amount: i64) -> AccountEvent {
    AccountEvent::Deposited {
        amount,
        reference: None,
    }
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn an_append_at_a_taken_version_or_past_the_end_is_a_conflict() {
    let (account, _, _) = fresh_store().await;
    let store = &account.store;
    run(
        &account,
        "o",
        json!({"type": "OpenAccount", "account_id": "acc-3", "owner_id": "x"}),
    )
    .await;
    let err = store
        .append("acc-3", 0, &[deposited(1)], &metadata("late"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected_version: 0,
                ..
            }
        ),
        "{err}"
    );
    // Version 5 does not exist: appending after it would leave a gap.
    let err = store
        .append("acc-3", 5, &[deposited(1)], &metadata("ahead"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected_version: 5,
                ..
            }
        ),
        "{err}"
    );
    let ok = store
        .append("acc-3", 1, &[deposited(1), deposited(1)], &metadata("two"))
        .await
        .unwrap();
    let Appended::Committed(ack) = ok else {
        panic!("not committed: {ok:?}")
    };
    assert_eq!((ack.version, ack.events), (3, 2));
    // The same command id again is told apart from a conflict, with its first outcome.
    let again = store
        .append("acc-3", 3, &[deposited(1)], &metadata("two"))
        .await
        .unwrap();
    assert_eq!(again, Appended::Duplicate(ack));
    assert_eq!(store.load("acc-3").await.unwrap().version, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn concurrent_commands_on_one_stream_all_land_gap_free() {
    let (account, client, table) = fresh_store().await;
    run(
        &account,
        "o",
        json!({"type": "OpenAccount", "account_id": "acc-4", "owner_id": "x"}),
    )
    .await;
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let account = account.clone();
            tokio::spawn(async move {
                let r = req(
                    &format!("dep-{i}"),
                    json!({"type": "Deposit", "account_id": "acc-4", "amount": 1 + i}),
                );
                account.execute(&r).await
            })
        })
        .collect();
    for task in tasks {
        let outcome = task
            .await
            .unwrap()
            .expect("every deposit lands after retries");
        assert!(
            matches!(outcome, CommandOutcome::Accepted(_)),
            "{outcome:?}"
        );
    }
    let versions: Vec<_> = items(&client, &table, "acc-4")
        .await
        .iter()
        .map(|i| i["version"].as_n().unwrap().parse::<u64>().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5]);
    assert_eq!(
        account.store.load("acc-4").await.unwrap().state.balance,
        1 + 2 + 3 + 4
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn snapshots_are_saved_every_n_events_and_loads_start_from_the_newest() {
    let (account, client, table) = fresh_account(3).await;
    run(
        &account,
        "o",
        json!({"type": "OpenAccount", "account_id": "acc-8", "owner_id": "x"}),
    )
    .await;
    for i in 0..6 {
        run(
            &account,
            &format!("d{i}"),
            json!({"type": "Deposit", "account_id": "acc-8", "amount": 10}),
        )
        .await;
    }
    let snapshots = items(&client, &table, "acc-8#snapshot").await;
    let versions: Vec<_> = snapshots
        .iter()
        .map(|s| s["version"].as_n().unwrap().as_str())
        .collect();
    assert_eq!(versions, ["3", "6"]);
    let AttributeValue::S(text) = &snapshots[1]["state"] else {
        panic!("state is not text")
    };
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        json!({"account_id": "acc-8", "status": "open", "owner_id": "x", "balance": 50})
    );
    assert_eq!(account.store.load("acc-8").await.unwrap().state.balance, 60);

    // A load folds from the newest snapshot, not from version 1: a snapshot saying
    // otherwise (written here on purpose) shows through.
    let mut state = domain::initial("acc-8");
    state.status = AccountStatus::Open;
    state.balance = 1000;
    let planted = SnapshotItem {
        stream_id: "acc-8#snapshot".into(),
        version: 7,
        state: serde_json::to_string(&state).unwrap(),
    };
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(to_item(&planted).unwrap()))
        .send()
        .await
        .unwrap();
    run(
        &account,
        "d9",
        json!({"type": "Deposit", "account_id": "acc-8", "amount": 1}),
    )
    .await;
    let view = account.query(&get("acc-8")).await.unwrap();
    assert_eq!((view.version, view.state.balance), (8, 1001));
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn a_stream_over_one_query_page_is_loaded_in_full() {
    let (account, client, table) = fresh_store().await;
    // ~2,400 items of ~600 bytes: more than DynamoDB's 1 MB per Query page.
    let reference = "r".repeat(500);
    let n: u64 = 2400;
    let mut writes = Vec::new();
    for version in 1..=n {
        let data = if version == 1 {
            json!({"type": "AccountOpened", "owner_id": "x"})
        } else {
            json!({"type": "Deposited", "amount": 2, "reference": reference})
        };
        let event = json!({
            "stream_id": "acc-5", "version": version, "type": data["type"], "data": data,
            "command_id": format!("c{version}"), "correlation_id": "k",
            "timestamp": "2026-01-01T00:00:00Z", "actor": "t",
        });
        let item: HashMap<String, AttributeValue> = to_item(&event).unwrap();
        writes.push(
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build(),
        );
    }
    for chunk in writes.chunks(25) {
        client
            .batch_write_item()
            .request_items(&table, chunk.to_vec())
            .send()
            .await
            .unwrap();
    }
    let loaded = account.store.load("acc-5").await.unwrap();
    assert_eq!(loaded.version, n);
    assert_eq!(loaded.state.balance, 2 * (n as i64 - 1));
    let one_page = client
        .query()
        .table_name(&table)
        .key_condition_expression("stream_id = :s")
        .expression_attribute_values(":s", AttributeValue::S("acc-5".into()))
        .send()
        .await
        .unwrap();
    assert!(
        one_page.last_evaluated_key.is_some(),
        "the emulator did not page: the test proves nothing"
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn rejections_leave_no_record() {
    let (account, client, table) = fresh_store().await;
    run(
        &account,
        "o1",
        json!({"type": "OpenAccount", "account_id": "acc-6", "owner_id": "x"}),
    )
    .await;
    let r = run(
        &account,
        "o2",
        json!({"type": "OpenAccount", "account_id": "acc-6", "owner_id": "y"}),
    )
    .await;
    assert_eq!(r["rule"], "account-exists");
    assert!(items(&client, &table, "command#o2").await.is_empty());
}
