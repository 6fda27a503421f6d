//! End-to-end tests of the store and the command/query flow against a DynamoDB endpoint
//! (an emulator such as moto's server). Ignored by a plain `cargo test`; run with
//!
//! ```text
//! AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:PORT AWS_REGION=us-east-1 \
//! AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test cargo test -- --ignored
//! ```
//!
//! Each test creates its own table, so they run in parallel against one emulator.

use std::sync::atomic::{AtomicU32, Ordering};

use account_baseline::contracts::{
    AccountEvent, AccountStatus, CommandOutcome, CommandRequest, GetAccount,
};
use account_baseline::domain;
use account_baseline::handler::Account;
use account_baseline::item::{EventItem, Item, StoredEvent, event_item, snapshot_body, to_item};
use account_baseline::store::{AccountStore, Metadata, StoreError};
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
        store: AccountStore::new(client.clone(), &table, snapshot_every),
        snapshot_every,
    };
    (account, client, table)
}

async fn fresh_store() -> (Account, Client, String) {
    fresh_account(12).await
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

    // The stored items follow item layout 2: keys, type, the envelope JSON, the fingerprint.
    let stored = items(&client, &table, "acc-1").await;
    assert_eq!(stored.len(), 3, "rejections write nothing");
    let third = &stored[2];
    let mut names: Vec<_> = third.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["e", "f", "stream_id", "type", "version"]);
    assert_eq!(third["type"], AttributeValue::S("Withdrawn".into()));
    let envelope: Value = serde_json::from_str(third["e"].as_s().unwrap()).unwrap();
    assert_eq!(envelope["command_id"], "c3");
    assert_eq!(envelope["correlation_id"], "c3");
    assert_eq!(envelope["actor"], "direct");
    assert!(envelope.get("causation_id").is_none());
    assert!(envelope.get("schema_version").is_none());
    assert_eq!(
        envelope["data"],
        json!({"type": "Withdrawn", "amount": 30, "reference": "rent"})
    );
    let ts = envelope["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z') && ts.contains('T'), "{ts}");
    let deposit: Value = serde_json::from_str(stored[1]["e"].as_s().unwrap()).unwrap();
    assert_eq!(deposit["schema_version"], 2);
    assert_eq!(
        deposit["data"],
        json!({"type": "Deposited", "amount": 100, "memo": null, "currency": "EUR"})
    );
    assert_eq!(third["f"].as_s().unwrap().len(), 32);

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
    let envelope: Value = serde_json::from_str(stored["e"].as_s().unwrap()).unwrap();
    assert_eq!(envelope["command_id"], ack.command_id.as_str());
    assert_eq!(envelope["correlation_id"], "conv-1");
    assert_eq!(envelope["causation_id"], "ev-9");
    assert_eq!(envelope["actor"], "alice");
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
    // A re-sent deposit would be accepted again by the rules: the stream's memory stops it.
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
    // The same id for another command is refused, as in hotcore.
    let reused = run(
        &account,
        "d",
        json!({"type": "Deposit", "account_id": "acc-2", "amount": 11}),
    )
    .await;
    assert_eq!(reused["rule"], "command-id-reused");
    assert_eq!(reused["data"]["version"], 2);
    assert_eq!(items(&client, &table, "acc-2").await.len(), 3);
}

fn metadata(id: &str) -> Metadata {
    Metadata {
        command_id: id.into(),
        correlation_id: id.into(),
        causation_id: None,
        actor: "t".into(),
        fingerprint: "0123456789abcdef0123456789abcdef".into(),
    }
}

fn deposited(amount: i64) -> AccountEvent {
    AccountEvent::Deposited {
        amount,
        memo: None,
        currency: "EUR".into(),
    }
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn an_append_at_a_taken_version_is_a_conflict() {
    let (account, _, _) = fresh_store().await;
    let store = &account.store;
    let before = store.load("acc-3").await.unwrap();
    run(
        &account,
        "o",
        json!({"type": "OpenAccount", "account_id": "acc-3", "owner_id": "x"}),
    )
    .await;
    // a load from before the open: version 1 is taken since
    let err = store
        .append(&before, "acc-3", &[deposited(1)], &metadata("late"), None)
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
    let err = store
        .append(
            &before,
            "acc-3",
            &[deposited(1), deposited(1)],
            &metadata("late2"),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let loaded = store.load("acc-3").await.unwrap();
    let ack = store
        .append(
            &loaded,
            "acc-3",
            &[deposited(1), deposited(1)],
            &metadata("two"),
            None,
        )
        .await
        .unwrap();
    assert_eq!((ack.version, ack.events), (3, 2));
    let loaded = store.load("acc-3").await.unwrap();
    assert_eq!(loaded.version, 3);
    let two = loaded.find("two").unwrap();
    assert_eq!((two.version, two.events), (3, 2));
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
async fn snapshots_ride_on_events_and_loads_start_from_the_newest() {
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
    let stored = items(&client, &table, "acc-8").await;
    let with_snapshot: Vec<_> = stored
        .iter()
        .filter(|i| i.contains_key("s"))
        .map(|i| i["version"].as_n().unwrap().as_str())
        .collect();
    assert_eq!(with_snapshot, ["3", "6"]);
    let body: Value = serde_json::from_str(stored[5]["s"].as_s().unwrap()).unwrap();
    assert_eq!(
        (body["v"].clone(), body["h"].clone()),
        (json!(1), json!("e1f5f2225310a6ca"))
    );
    assert_eq!(
        body["state"],
        json!({"account_id": "acc-8", "status": "open", "owner_id": "x", "balance": 50})
    );
    let loaded = account.store.load("acc-8").await.unwrap();
    assert_eq!((loaded.state.balance, loaded.snapshot_version), (60, 6));
    // the snapshot's recent list remembers the commands before it
    let d0 = loaded.find("d0").unwrap();
    assert_eq!((d0.version, d0.events), (2, 1));

    // A load folds from the newest snapshot, not from version 1: a snapshot saying
    // otherwise (written here on purpose) shows through.
    let mut state = domain::initial("acc-8");
    state.status = AccountStatus::Open;
    state.balance = 1000;
    let planted = StoredEvent {
        stream_id: "acc-8".into(),
        version: 8,
        event_type: "Deposited".into(),
        schema_version: 2,
        data: deposited(1),
        command_id: "planted".into(),
        correlation_id: "planted".into(),
        causation_id: None,
        timestamp: "2026-01-01T00:00:00Z".into(),
        actor: "t".into(),
    };
    let mut item: EventItem = event_item(&planted, "0123456789abcdef0123456789abcdef").unwrap();
    item.s = Some(snapshot_body(&state, &[]).unwrap());
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(to_item(&item).unwrap()))
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
    assert_eq!((view.version, view.state.balance), (9, 1001));
}

#[tokio::test]
#[ignore = "needs a DynamoDB emulator at AWS_ENDPOINT_URL_DYNAMODB"]
async fn a_stream_over_one_query_page_is_loaded_in_full() {
    let (account, client, table) = fresh_store().await;
    // ~2,400 items of ~800 bytes: more than DynamoDB's 1 MB per Query page.
    let memo = "r".repeat(500);
    let n: u64 = 2400;
    let mut writes = Vec::new();
    for version in 1..=n {
        let data = if version == 1 {
            AccountEvent::AccountOpened {
                owner_id: "x".into(),
            }
        } else {
            AccountEvent::Deposited {
                amount: 2,
                memo: Some(memo.clone()),
                currency: "EUR".into(),
            }
        };
        let event = StoredEvent {
            stream_id: "acc-5".into(),
            version,
            event_type: data.type_name().into(),
            schema_version: data.schema_version(),
            data,
            command_id: format!("c{version}"),
            correlation_id: "k".into(),
            causation_id: None,
            timestamp: "2026-01-01T00:00:00Z".into(),
            actor: "t".into(),
        };
        let item: Item =
            to_item(&event_item(&event, "0123456789abcdef0123456789abcdef").unwrap()).unwrap();
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
