//! The Account command Lambda: `{"command": {"type": "Withdraw", ...}, "command_id": ...}`
//! -> `{"outcome": "accepted", "command_id", "stream_id", "version", "events"}` or
//! `{"outcome": "rejected", "rule", "message", "data"}`.

use account_baseline::contracts::{CommandOutcome, CommandRequest};
use account_baseline::handler::{Account, HandlerError};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Built once per execution environment and reused by every invocation.
    let account = Account::from_env().await?;
    let account = &account;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<CommandRequest>| async move {
            let outcome = account.execute(&event.payload).await?;
            match &outcome {
                CommandOutcome::Accepted(ack) => {
                    tracing::info!(command_id = %ack.command_id, version = ack.version, "accepted")
                }
                CommandOutcome::Rejected(r) => tracing::info!(rule = %r.rule, "rejected"),
            }
            Ok::<_, HandlerError>(outcome)
        },
    ))
    .await
}
