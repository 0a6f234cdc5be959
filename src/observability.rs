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

impl Drop for LineBuffer {
    fn drop(&mut self) {
        let line = String::from_utf8_lossy(&self.0);
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
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
    fn levels() {
        assert_eq!(parse_level("WARN"), LevelFilter::WARN);
        assert_eq!(parse_level("debug"), LevelFilter::DEBUG);
        assert_eq!(parse_level("nonsense"), LevelFilter::INFO);
    }
}
