//! The Account command Lambda: `{"command_id": ..., "command": {"type": "Withdraw", ...}}`
//! -> `{"command_id", "stream_id", "version", "events"}` or `{"rule", "message", "data"}`.

use account_baseline::contracts::{CommandOutcome, CommandRequest};
use account_baseline::handler::{HandlerError, execute, store_from_env};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // Built once per execution environment and reused by every invocation.
    let store = store_from_env().await?;
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<CommandRequest>| async move {
        let request = event.payload;
        let outcome = execute(store, &request).await?;
        match &outcome {
            CommandOutcome::Accepted(ack) => {
                tracing::info!(command_id = %request.command_id, version = ack.version, "accepted")
            }
            CommandOutcome::Rejected(r) => {
                tracing::info!(command_id = %request.command_id, rule = %r.rule, "rejected")
            }
        }
        Ok::<_, HandlerError>(outcome)
    }))
    .await
}
