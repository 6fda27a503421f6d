//! The Account query Lambda: `{"account_id": ...}` ->
//! `{"stream_id", "version", "state": {"account_id", "status", "owner_id", "balance"}}`.

use account_baseline::contracts::GetAccount;
use account_baseline::handler::Account;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let account = Account::from_env().await?;
    let account = &account;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<GetAccount>| async move { account.query(&event.payload).await },
    ))
    .await
}
