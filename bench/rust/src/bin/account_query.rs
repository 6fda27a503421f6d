//! The Account query Lambda: `{"account_id": ...}` -> `{"account_id", "status", "owner_id", "balance"}`.

use account_baseline::contracts::GetAccount;
use account_baseline::handler::{query, store_from_env};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let store = store_from_env().await?;
    let store = &store;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<GetAccount>| async move { query(store, &event.payload).await },
    ))
    .await
}
