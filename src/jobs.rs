//! Background work: the consumers of the four job queues and the cron triggers.
//!
//! Queue handlers ack or retry every message themselves (an `Err` out of the queue event
//! becomes a panic in workers-rs). Messages are `#[derive(Serialize)]` enums: a
//! `serde_json::json!` value would arrive as `{}` because maps become JS `Map`s.

use serde::{Deserialize, Serialize};
use worker::{Env, MessageBatch, MessageExt};

pub const CRITICAL_QUEUE: &str = "CRITICAL_QUEUE";
pub const WORKFLOW_QUEUE: &str = "WORKFLOW_QUEUE";
pub const MESSAGING_QUEUE: &str = "MESSAGING_QUEUE";
pub const BACKGROUND_QUEUE: &str = "BACKGROUND_QUEUE";

/// Every job any queue carries, tagged by `type`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum JobMessage {
    /// Sent by `/health` to prove the queue accepts messages; consuming it is a no-op.
    #[serde(rename_all = "camelCase")]
    HealthProbe { sent_at: u64 },
}

pub async fn on_batch(batch: &MessageBatch<serde_json::Value>, _env: &Env) {
    let queue = batch.queue();
    for message in batch.raw_iter() {
        let body: Result<JobMessage, _> = serde_wasm_bindgen::from_value(message.body());
        match body {
            Ok(JobMessage::HealthProbe { .. }) => message.ack(),
            Err(e) => {
                // A message nobody understands will not become understandable on retry:
                // ack it (it is logged) instead of filling the dead-letter queue.
                tracing::error!(queue = %queue, id = %message.id(), error = %e, "unknown job message dropped");
                message.ack();
            }
        }
    }
}

/// The three cron triggers of wrangler.jsonc.
pub async fn on_cron(cron: &str, _env: &Env) {
    match cron {
        "*/1 * * * *" | "*/5 * * * *" | "0 * * * *" => {
            tracing::info!(cron = %cron, "cron tick");
        }
        other => tracing::warn!(cron = %other, "unknown cron trigger"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_message_wire_format() {
        let m = JobMessage::HealthProbe { sent_at: 5 };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v, serde_json::json!({"type": "healthProbe", "sentAt": 5}));
        assert_eq!(serde_json::from_value::<JobMessage>(v).unwrap(), m);
    }
}
