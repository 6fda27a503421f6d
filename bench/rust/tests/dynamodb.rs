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

use account_baseline::contracts::{AccountStatus, CommandOutcome, CommandRequest, GetAccount};
use account_baseline::handler::{execute, query};
use account_baseline::item::{Item, to_item};
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

/// A fresh Account table (stream_id S hash key, version N range key).
async fn fresh_store() -> (AccountStore, Client, String) {
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
    (AccountStore::new(client.clone(), &table), client, table)
}

fn req(command_id: &str, command: Value) -> CommandRequest {
    serde_json::from_value(json!({ "command_id": command_id, "command": command })).unwrap()
}

async fn run(store: &AccountStore, command_id: &str, command: Value) -> Value {
    let outcome = execute(store, &req(command_id, command)).await.unwrap();
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
    let (store, client, table) = fresh_store().await;
    let open = run(
        &store,
        "c1",
        json!({"type": "OpenAccount", "account_id": "acc-1", "owner_id": "cust-1"}),
    )
    .await;
    assert_eq!(
        open,
        json!({"command_id": "c1", "stream_id": "acc-1", "version": 1, "events": 1})
    );
    run(
        &store,
        "c2",
        json!({"type": "Deposit", "account_id": "acc-1", "amount": 100, "reference": null}),
    )
    .await;
    let w = run(
        &store,
        "c3",
        json!({"type": "Withdraw", "account_id": "acc-1", "amount": 30, "reference": "rent"}),
    )
    .await;
    assert_eq!(w["version"], 3);

    let refused = run(
        &store,
        "c4",
        json!({"type": "Withdraw", "account_id": "acc-1", "amount": 71}),
    )
    .await;
    assert_eq!(refused["rule"], "insufficient-funds");
    assert_eq!(refused["data"], json!({"balance": 70, "amount": 71}));
    let refused = run(
        &store,
        "c5",
        json!({"type": "CloseAccount", "account_id": "acc-1"}),
    )
    .await;
    assert_eq!(refused["rule"], "balance-not-zero");

    let state = query(
        &store,
        &GetAccount {
            account_id: "acc-1".to_owned().try_into().unwrap(),
        },
    )
    .await
    .unwrap();
    assert_eq!(state.status, AccountStatus::Open);
    assert_eq!(state.owner_id, "cust-1");
    assert_eq!(state.balance, 70);

    // The stored items follow the shared layout.
    let stored = items(&client, &table, "acc-1").await;
    assert_eq!(stored.len(), 3);
    let third = &stored[2];
    assert_eq!(third["type"], AttributeValue::S("Withdrawn".into()));
    assert_eq!(third["command_id"], AttributeValue::S("c3".into()));
    assert_eq!(third["correlation_id"], AttributeValue::S("c3".into()));
    assert_eq!(third["actor"], AttributeValue::S("anonymous".into()));
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
    assert_eq!(record[0]["version_ref"], AttributeValue::N("3".into()));
    assert!(items(&client, &table, "command#c4").await.is_empty());

    // A query on a stream with no events is a new account.
    let none = query(
        &store,
        &GetAccount {
            account_id: "nobody".to_owned().try_into().unwrap(),
        },
    )
    .await
    .unwrap();
    assert_eq!(none.status, AccountStatus::New);
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn a_resent_command_returns_the_first_outcome_and_appends_nothing() {
    let (store, client, table) = fresh_store().await;
    run(
        &store,
        "o",
        json!({"type": "OpenAccount", "account_id": "acc-2", "owner_id": "x"}),
    )
    .await;
    run(
        &store,
        "d",
        json!({"type": "Deposit", "account_id": "acc-2", "amount": 10}),
    )
    .await;
    let first = run(
        &store,
        "w",
        json!({"type": "Withdraw", "account_id": "acc-2", "amount": 10}),
    )
    .await;
    // The same withdrawal again would now be refused (balance 0): it gets its first ack.
    let again = run(
        &store,
        "w",
        json!({"type": "Withdraw", "account_id": "acc-2", "amount": 10}),
    )
    .await;
    assert_eq!(again, first);
    // A re-sent deposit would be accepted again by the rules: the record stops it.
    let again = run(
        &store,
        "d",
        json!({"type": "Deposit", "account_id": "acc-2", "amount": 10}),
    )
    .await;
    assert_eq!(
        again,
        json!({"command_id": "d", "stream_id": "acc-2", "version": 2, "events": 1})
    );
    assert_eq!(items(&client, &table, "acc-2").await.len(), 3);
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn an_append_at_a_taken_version_is_a_conflict() {
    let (store, _, _) = fresh_store().await;
    run(
        &store,
        "o",
        json!({"type": "OpenAccount", "account_id": "acc-3", "owner_id": "x"}),
    )
    .await;
    let metadata = |id: &str| Metadata {
        command_id: id.into(),
        correlation_id: id.into(),
        causation_id: None,
        actor: "t".into(),
    };
    let deposit = account_baseline::contracts::AccountEvent::Deposited {
        amount: 1,
        reference: None,
    };
    let err = store
        .append("acc-3", 0, &[deposit.clone()], &metadata("late"))
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
    let ok = store
        .append("acc-3", 1, &[deposit.clone(), deposit], &metadata("two"))
        .await
        .unwrap();
    let Appended::Committed(ack) = ok else {
        panic!("not committed: {ok:?}")
    };
    assert_eq!((ack.version, ack.events), (3, 2));
    assert_eq!(store.load("acc-3", true).await.unwrap().version, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn concurrent_commands_on_one_stream_all_land_gap_free() {
    let (store, client, table) = fresh_store().await;
    run(
        &store,
        "o",
        json!({"type": "OpenAccount", "account_id": "acc-4", "owner_id": "x"}),
    )
    .await;
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let r = req(
                    &format!("dep-{i}"),
                    json!({"type": "Deposit", "account_id": "acc-4", "amount": 1 + i}),
                );
                execute(&store, &r).await
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
        store.load("acc-4", true).await.unwrap().state.balance,
        1 + 2 + 3 + 4
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn a_stream_over_one_query_page_is_loaded_in_full() {
    let (store, client, table) = fresh_store().await;
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
    let loaded = store.load("acc-5", true).await.unwrap();
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
async fn open_on_an_existing_account_is_rejected_and_leaves_no_record() {
    let (store, client, table) = fresh_store().await;
    run(
        &store,
        "o1",
        json!({"type": "OpenAccount", "account_id": "acc-6", "owner_id": "x"}),
    )
    .await;
    let r = run(
        &store,
        "o2",
        json!({"type": "OpenAccount", "account_id": "acc-6", "owner_id": "y"}),
    )
    .await;
    assert_eq!(r["rule"], "account-exists");
    assert!(items(&client, &table, "command#o2").await.is_empty());
}
