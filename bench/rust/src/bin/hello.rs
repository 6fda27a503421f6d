//! The bare-runtime baseline for cold starts: a lambda_runtime function that answers
//! `{"message": "hello"}`, with no SDK and no logging setup.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<Value, Error>(json!({ "message": "hello" }))
    }))
    .await
}
