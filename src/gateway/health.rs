//! `GET /health`: real round-trips to D1, KV, R2 and a queue.
//!
//! `healthy` when all answer, `degraded` (still 200) when a non-critical one fails,
//! `unhealthy` (503) when D1 does: without the core database nobody can sign in.

use futures::future::join4;
use serde::Serialize;
use serde_json::{json, Value};
use worker::{Date, Env};

use crate::jobs::{JobMessage, BACKGROUND_QUEUE};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// KV key and R2 object the probes write; both are tiny and overwritten each time.
const PROBE_KEY: &str = "health:probe";
/// KV entries must live at least 60 s; the probe needs no longer.
const PROBE_KV_TTL_SECS: u64 = 60;

#[derive(Debug, Clone, Serialize)]
pub struct ServiceCheck {
    pub status: &'static str,
    #[serde(rename = "latencyMs")]
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub struct Health {
    pub status: &'static str,
    pub body: Value,
}

impl Health {
    pub fn http_status(&self) -> u16 {
        if self.status == "unhealthy" {
            503
        } else {
            200
        }
    }
}

pub async fn check(env: &Env) -> Health {
    let (database, cache, storage, queues) = join4(
        timed(check_d1(env)),
        timed(check_kv(env)),
        timed(check_r2(env)),
        timed(check_queue(env)),
    )
    .await;
    let status = overall(&database, &[&cache, &storage, &queues]);
    Health {
        status,
        body: json!({
            "status": status,
            "version": VERSION,
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "services": {
                "database": database,
                "cache": cache,
                "storage": storage,
                "queues": queues,
            }
        }),
    }
}

fn overall(database: &ServiceCheck, others: &[&ServiceCheck]) -> &'static str {
    if database.status != "up" {
        "unhealthy"
    } else if others.iter().any(|c| c.status != "up") {
        "degraded"
    } else {
        "healthy"
    }
}

async fn timed(fut: impl std::future::Future<Output = worker::Result<()>>) -> ServiceCheck {
    let started = Date::now().as_millis();
    let result = fut.await;
    let latency_ms = Date::now().as_millis().saturating_sub(started);
    match result {
        Ok(()) => ServiceCheck {
            status: "up",
            latency_ms,
            error: None,
        },
        Err(e) => {
            tracing::warn!(error = %e, "health probe failed");
            ServiceCheck {
                status: "down",
                latency_ms,
                // Binding names and platform messages only; never data.
                error: Some(e.to_string()),
            }
        }
    }
}

async fn check_d1(env: &Env) -> worker::Result<()> {
    let db = env.d1("DB")?;
    let row: Option<Value> = db.prepare("SELECT 1 AS ok").first(None).await?;
    match row {
        Some(r) if r["ok"] == 1 => Ok(()),
        other => Err(worker::Error::RustError(format!(
            "D1 answered {other:?} to SELECT 1"
        ))),
    }
}

async fn check_kv(env: &Env) -> worker::Result<()> {
    let kv = env.kv("CACHE_STORE")?;
    let stamp = Date::now().as_millis().to_string();
    kv.put(PROBE_KEY, stamp.as_str())?
        .expiration_ttl(PROBE_KV_TTL_SECS)
        .execute()
        .await
        .map_err(|e| worker::Error::RustError(format!("KV put: {e}")))?;
    kv.get(PROBE_KEY)
        .text()
        .await
        .map_err(|e| worker::Error::RustError(format!("KV get: {e}")))?
        .map(|_| ())
        .ok_or_else(|| worker::Error::RustError("KV lost the probe key".into()))
}

async fn check_r2(env: &Env) -> worker::Result<()> {
    let bucket = env.bucket("FILES")?;
    bucket
        .put(PROBE_KEY, Date::now().as_millis().to_string().into_bytes())
        .execute()
        .await?;
    bucket
        .head(PROBE_KEY)
        .await?
        .map(|_| ())
        .ok_or_else(|| worker::Error::RustError("R2 lost the probe object".into()))
}

async fn check_queue(env: &Env) -> worker::Result<()> {
    env.queue(BACKGROUND_QUEUE)?
        .send(JobMessage::HealthProbe {
            sent_at: Date::now().as_millis(),
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(up: bool) -> ServiceCheck {
        ServiceCheck {
            status: if up { "up" } else { "down" },
            latency_ms: 1,
            error: None,
        }
    }

    #[test]
    fn overall_status() {
        assert_eq!(overall(&svc(true), &[&svc(true), &svc(true)]), "healthy");
        assert_eq!(overall(&svc(true), &[&svc(false), &svc(true)]), "degraded");
        assert_eq!(overall(&svc(false), &[&svc(true)]), "unhealthy");
        assert_eq!(overall(&svc(false), &[&svc(false)]), "unhealthy");
    }
}
