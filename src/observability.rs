//! Structured JSON logs through `tracing`, and request ids.
//!
//! One JSON object per line on the Worker's console (what `wrangler tail` and Workers Logs
//! collect): `timestamp`, `level`, `message` and the event's fields flattened beside them
//! (`requestId`, `workspaceId`, `userId`, `duration`, `error`, ...).
//!
//! **Architecture Invariant:** tokens, passwords and secrets are never passed to a log
//! macro. Request logs carry ids only.

use std::io::{self, Write};
use std::sync::Once;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::MakeWriter;

/// Longest incoming `X-Request-Id` we honour; longer or odd ones are replaced, so a client
/// cannot inject arbitrary text into every log line.
pub const MAX_REQUEST_ID_LEN: usize = 128;

static INIT: Once = Once::new();

/// Installs the global JSON subscriber once per isolate, at the level `LOG_LEVEL` names
/// (`error`, `warn`, `info`, `debug`, `trace`; anything else means `info`).
pub fn init(log_level: Option<&str>) {
    INIT.call_once(|| {
        let level = parse_level(log_level.unwrap_or("info"));
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .with_timer(IsoTimer)
            .with_max_level(level)
            .with_writer(ConsoleWriter)
            .finish();
        // Fails only if a subscriber is already installed, which `Once` rules out.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

pub fn parse_level(level: &str) -> LevelFilter {
    match level.trim().to_ascii_lowercase().as_str() {
        "error" => LevelFilter::ERROR,
        "warn" | "warning" => LevelFilter::WARN,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        "off" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// The request id to use: the caller's `X-Request-Id` when it is a sane token, else a new
/// UUID.
pub fn request_id(incoming: Option<String>) -> String {
    match incoming {
        Some(id)
            if !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_LEN
                && id.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')
                }) =>
        {
            id
        }
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

/// RFC 3339 timestamps from the JS clock (`SystemTime` is unavailable on wasm32).
struct IsoTimer;

impl FormatTime for IsoTimer {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(
            w,
            "{}",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )
    }
}

/// Writes each formatted event to the JS console as one line.
struct ConsoleWriter;

struct LineBuffer(Vec<u8>);

impl Write for LineBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Longest log line written. Errors can carry client-shaped text (SQL built from a
/// filter, a request body); a line over this keeps its JSON shape with every long field
/// cut to [`MAX_LOG_FIELD_CHARS`].
pub const MAX_LOG_LINE_BYTES: usize = 4096;
/// Longest string field kept in a line that was too long.
pub const MAX_LOG_FIELD_CHARS: usize = 512;

/// `line` if it is short enough, else the same JSON object with long strings cut (or, if
/// that is still too long, only its first fields).
pub fn cap_line(line: &str) -> std::borrow::Cow<'_, str> {
    if line.len() <= MAX_LOG_LINE_BYTES {
        return line.into();
    }
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str::<serde_json::Value>(line)
    else {
        let cut: String = line.chars().take(MAX_LOG_FIELD_CHARS).collect();
        return serde_json::json!({ "message": cut, "truncated": true })
            .to_string()
            .into();
    };
    for v in map.values_mut() {
        if let serde_json::Value::String(s) = v {
            if s.chars().count() > MAX_LOG_FIELD_CHARS {
                let cut: String = s.chars().take(MAX_LOG_FIELD_CHARS).collect();
                *s = format!("{cut}…[truncated]");
            }
        }
    }
    map.insert("truncated".into(), serde_json::Value::Bool(true));
    let mut out = serde_json::Value::Object(map.clone()).to_string();
    if out.len() > MAX_LOG_LINE_BYTES {
        let kept: serde_json::Map<String, serde_json::Value> = map
            .into_iter()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "timestamp" | "level" | "message" | "requestId" | "error" | "truncated"
                )
            })
            .collect();
        out = serde_json::Value::Object(kept).to_string();
    }
    out.into()
}

impl Drop for LineBuffer {
    fn drop(&mut self) {
        let line = String::from_utf8_lossy(&self.0);
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
        let line = cap_line(line);
        #[cfg(target_arch = "wasm32")]
        worker::console_log!("{line}");
        #[cfg(not(target_arch = "wasm32"))]
        eprintln!("{line}");
    }
}

impl<'a> MakeWriter<'a> for ConsoleWriter {
    type Writer = LineBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        LineBuffer(Vec::with_capacity(256))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        let check = |input: Option<&str>, kept: bool| {
            let got = request_id(input.map(str::to_string));
            assert_eq!(got == input.unwrap_or(""), kept, "{input:?} -> {got}");
            assert!(got.len() <= MAX_REQUEST_ID_LEN);
        };
        check(Some("abc-123"), true);
        check(Some("trace:0af7651916cd43dd.8448eb211c80319c"), true);
        check(Some(""), false);
        check(Some("has space"), false);
        check(Some("line\nbreak"), false);
        check(Some(&"x".repeat(MAX_REQUEST_ID_LEN + 1)), false);
        check(None, false);
    }

    #[test]
    fn long_lines_are_capped_and_stay_json() {
        let long = "x".repeat(100_000);
        let line =
            serde_json::json!({ "level": "ERROR", "error": long, "requestId": "r" }).to_string();
        let capped = cap_line(&line);
        assert!(capped.len() <= MAX_LOG_LINE_BYTES, "{}", capped.len());
        let v: serde_json::Value = serde_json::from_str(&capped).unwrap();
        assert_eq!(v["requestId"], "r");
        assert_eq!(v["truncated"], true);
        assert_eq!(cap_line("{\"a\":1}"), "{\"a\":1}");
    }

    #[test]
    fn levels() {
        assert_eq!(parse_level("WARN"), LevelFilter::WARN);
        assert_eq!(parse_level("debug"), LevelFilter::DEBUG);
        assert_eq!(parse_level("nonsense"), LevelFilter::INFO);
    }
}
