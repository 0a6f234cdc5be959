//! Outgoing email: the messages Twenty sends (workspace invitations, password reset links)
//! and the transport that delivers them.
//!
//! Transports (`EMAIL_DRIVER`):
//! - `logger` (default, as Twenty's): the message is not sent; a log line says so (without
//!   the body, which holds a secret link).
//! - `http`: one `POST EMAIL_HTTP_URL` per message with JSON `{from, to, subject, text,
//!   html}` and `Authorization: Bearer EMAIL_HTTP_API_KEY` when that secret is set. This is
//!   the request shape of HTTP email APIs such as Resend's `POST /emails`, so production
//!   points it at the provider; locally and in tests it points at a receiver on loopback.
//!
//! Message building is pure (natively tested); only [`Transport::send`] does I/O.

use serde::Serialize;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

/// Sender address when `EMAIL_FROM_ADDRESS` is not set.
const DEFAULT_FROM_ADDRESS: &str = "noreply@twenty-edge.invalid";
/// Sender name when `EMAIL_FROM_NAME` is not set (Twenty's default).
const DEFAULT_FROM_NAME: &str = "Twenty";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Email {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug)]
pub enum EmailError {
    /// The transport is misconfigured (an operator's mistake, logged).
    Config(String),
    /// The provider could not be reached or refused the message.
    Delivery(String),
}

impl std::fmt::Display for EmailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmailError::Config(m) => write!(f, "email configuration: {m}"),
            EmailError::Delivery(m) => write!(f, "email delivery: {m}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    Logger,
    Http {
        url: url::Url,
        api_key: Option<String>,
    },
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .or_else(|| env.secret(name).ok().map(|v| v.to_string()))
        .filter(|v| !v.is_empty())
}

impl Transport {
    /// The transport the operator configured.
    pub fn from_env(env: &Env) -> Result<Transport, EmailError> {
        Transport::parse(
            var(env, "EMAIL_DRIVER").as_deref(),
            var(env, "EMAIL_HTTP_URL").as_deref(),
            var(env, "EMAIL_HTTP_API_KEY"),
        )
    }

    fn parse(
        driver: Option<&str>,
        url: Option<&str>,
        api_key: Option<String>,
    ) -> Result<Transport, EmailError> {
        match driver.map(str::to_ascii_lowercase).as_deref() {
            None | Some("logger") | Some("log") => Ok(Transport::Logger),
            Some("http") => {
                let url =
                    url.ok_or_else(|| EmailError::Config("EMAIL_HTTP_URL is not set".into()))?;
                let url = url::Url::parse(url)
                    .map_err(|e| EmailError::Config(format!("EMAIL_HTTP_URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(EmailError::Config(
                        "EMAIL_HTTP_URL must be an http(s) URL".into(),
                    ));
                }
                Ok(Transport::Http { url, api_key })
            }
            Some(other) => Err(EmailError::Config(format!(
                "unknown EMAIL_DRIVER {other:?} (logger or http)"
            ))),
        }
    }

    pub async fn send(&self, email: &Email, request_id: &str) -> Result<(), EmailError> {
        match self {
            Transport::Logger => {
                tracing::warn!(requestId = %request_id, to = %email.to, subject = %email.subject,
                    "EMAIL_DRIVER is logger: email not sent");
                Ok(())
            }
            Transport::Http { url, api_key } => {
                let headers = Headers::new();
                let set = |k: &str, v: &str| {
                    headers
                        .set(k, v)
                        .map_err(|e| EmailError::Delivery(e.to_string()))
                };
                set("content-type", "application/json")?;
                if let Some(key) = api_key {
                    set("authorization", &format!("Bearer {key}"))?;
                }
                let body = serde_json::to_string(email)
                    .map_err(|e| EmailError::Delivery(e.to_string()))?;
                let mut init = RequestInit::new();
                init.with_method(Method::Post)
                    .with_headers(headers)
                    .with_body(Some(body.into()));
                let req = Request::new_with_init(url.as_str(), &init)
                    .map_err(|e| EmailError::Delivery(e.to_string()))?;
                let resp = Fetch::Request(req)
                    .send()
                    .await
                    .map_err(|e| EmailError::Delivery(e.to_string()))?;
                let status = resp.status_code();
                if !(200..300).contains(&status) {
                    return Err(EmailError::Delivery(format!(
                        "the email API answered {status}"
                    )));
                }
                tracing::info!(requestId = %request_id, subject = %email.subject, "email sent");
                Ok(())
            }
        }
    }
}

/// `Name <address>` of the server's own messages.
pub fn from_address(env: &Env, display_name: Option<&str>) -> String {
    let address = var(env, "EMAIL_FROM_ADDRESS").unwrap_or_else(|| DEFAULT_FROM_ADDRESS.into());
    let name = display_name
        .map(str::to_string)
        .or_else(|| var(env, "EMAIL_FROM_NAME"))
        .unwrap_or_else(|| DEFAULT_FROM_NAME.into());
    format!(
        "{} <{address}>",
        name.replace(['<', '>', '"', '\r', '\n'], "")
    )
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(paragraphs: &[String], link: &str, button: &str) -> String {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect();
    format!(
        "<!doctype html><html><body>{body}<p><a href=\"{href}\">{label}</a></p><p>{href_text}</p></body></html>",
        href = escape(link),
        label = escape(button),
        href_text = escape(link)
    )
}

/// The link of a workspace invitation: Twenty's `/invite/{inviteHash}`, with
/// `inviteToken` and `email` for a personal invitation.
pub fn invite_link(
    frontend_url: &str,
    invite_hash: &str,
    personal: Option<(&str, &str)>,
) -> Result<String, String> {
    let mut url = url::Url::parse(frontend_url).map_err(|e| format!("FRONTEND_URL: {e}"))?;
    url.path_segments_mut()
        .map_err(|_| "FRONTEND_URL cannot be a base".to_string())?
        .pop_if_empty()
        .extend(["invite", invite_hash]);
    if let Some((token, email)) = personal {
        url.query_pairs_mut()
            .append_pair("inviteToken", token)
            .append_pair("email", email);
    }
    Ok(url.into())
}

/// The link of a password reset: Twenty's `/reset-password/{token}`.
pub fn reset_link(frontend_url: &str, token: &str) -> Result<String, String> {
    let mut url = url::Url::parse(frontend_url).map_err(|e| format!("FRONTEND_URL: {e}"))?;
    url.path_segments_mut()
        .map_err(|_| "FRONTEND_URL cannot be a base".to_string())?
        .pop_if_empty()
        .extend(["reset-password", token]);
    Ok(url.into())
}

pub struct Sender<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

/// Twenty's "Join your team on Twenty" invitation (`SendInviteLinkEmail`).
pub fn invitation(
    from: String,
    to: &str,
    sender: &Sender<'_>,
    workspace_name: &str,
    link: &str,
) -> Email {
    let who = format!("{} {}", sender.first_name, sender.last_name)
        .trim()
        .to_string();
    let who = if who.is_empty() {
        sender.email.to_string()
    } else {
        format!("{who} ({})", sender.email)
    };
    let paragraphs = vec![
        "Join your team on Twenty".to_string(),
        format!("{who} has invited you to join a workspace called {workspace_name}."),
    ];
    Email {
        from,
        to: to.to_string(),
        subject: "Join your team on Twenty".into(),
        text: format!(
            "{}\n\n{}\n\nAccept invite: {link}\n",
            paragraphs[0], paragraphs[1]
        ),
        html: html(&paragraphs, link, "Accept invite"),
    }
}

/// Twenty's "Action Needed to Reset Password" (`PasswordResetLinkEmail`).
pub fn password_reset(from: String, to: &str, link: &str, valid_for: &str) -> Email {
    let paragraphs = vec![
        "Reset your password".to_string(),
        format!("This link is only valid for the next {valid_for}. If the link does not work, you can use the login verification link directly:"),
    ];
    Email {
        from,
        to: to.to_string(),
        subject: "Action Needed to Reset Password".into(),
        text: format!("{}\n\n{}\n{link}\n", paragraphs[0], paragraphs[1]),
        html: html(&paragraphs, link, "Reset"),
    }
}

/// Twenty's notice after a password change (`PasswordUpdateNotifyEmail`).
pub fn password_changed(from: String, to: &str, frontend_url: &str) -> Email {
    let paragraphs = vec![
        "Password updated".to_string(),
        format!("The password of your account ({to}) has been changed. If you did not do this, reset it at once."),
    ];
    Email {
        from,
        to: to.to_string(),
        subject: "Your Password Has Been Successfully Changed".into(),
        text: format!("{}\n\n{}\n{frontend_url}\n", paragraphs[0], paragraphs[1]),
        html: html(&paragraphs, frontend_url, "Connect to Twenty"),
    }
}

/// `5 minutes`, `1 hour`: how long a link stays valid, in the words of the email.
pub fn duration_words(secs: i64) -> String {
    let (n, unit) = if secs % 86_400 == 0 && secs >= 86_400 {
        (secs / 86_400, "day")
    } else if secs % 3600 == 0 && secs >= 3600 {
        (secs / 3600, "hour")
    } else if secs % 60 == 0 && secs >= 60 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_comes_from_the_driver_variable() {
        assert_eq!(
            Transport::parse(None, None, None).unwrap(),
            Transport::Logger
        );
        assert_eq!(
            Transport::parse(Some("logger"), None, None).unwrap(),
            Transport::Logger
        );
        let t = Transport::parse(
            Some("http"),
            Some("https://api.resend.com/emails"),
            Some("k".into()),
        )
        .unwrap();
        assert!(matches!(t, Transport::Http { ref url, ref api_key }
            if url.as_str() == "https://api.resend.com/emails" && api_key.as_deref() == Some("k")));
        assert!(matches!(
            Transport::parse(Some("http"), None, None),
            Err(EmailError::Config(_))
        ));
        assert!(matches!(
            Transport::parse(Some("http"), Some("ftp://x"), None),
            Err(EmailError::Config(_))
        ));
        assert!(matches!(
            Transport::parse(Some("smtp"), None, None),
            Err(EmailError::Config(_))
        ));
    }

    #[test]
    fn links_follow_twentys_paths_and_encode_their_parameters() {
        assert_eq!(
            invite_link("http://localhost:3001", "abc", None).unwrap(),
            "http://localhost:3001/invite/abc"
        );
        assert_eq!(
            invite_link(
                "https://app.example.com/",
                "abc",
                Some(("t0k", "a+b@x.com"))
            )
            .unwrap(),
            "https://app.example.com/invite/abc?inviteToken=t0k&email=a%2Bb%40x.com"
        );
        assert_eq!(
            reset_link("https://app.example.com/crm/", "f00").unwrap(),
            "https://app.example.com/crm/reset-password/f00"
        );
        assert!(reset_link("not a url", "x").is_err());
    }

    #[test]
    fn messages_carry_the_link_and_escape_names() {
        let sender = Sender {
            email: "boss@x.com",
            first_name: "<b>Ann",
            last_name: "Lee",
        };
        let m = invitation(
            "Twenty <a@b.c>".into(),
            "new@x.com",
            &sender,
            "Acme & Co",
            "http://f/invite/h?inviteToken=t&email=new%40x.com",
        );
        assert_eq!(m.subject, "Join your team on Twenty");
        assert!(m
            .text
            .contains("http://f/invite/h?inviteToken=t&email=new%40x.com"));
        assert!(m.html.contains("inviteToken=t&amp;email=new%40x.com"));
        assert!(m.html.contains("&lt;b&gt;Ann"));
        assert!(m.html.contains("Acme &amp; Co"));
        let r = password_reset(
            "x <a@b.c>".into(),
            "u@x.com",
            "http://f/reset-password/t",
            "5 minutes",
        );
        assert!(r.text.contains("http://f/reset-password/t"));
        assert!(r.text.contains("5 minutes"));
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(300), "5 minutes");
        assert_eq!(duration_words(3600), "1 hour");
        assert_eq!(duration_words(30 * 86_400), "30 days");
        assert_eq!(duration_words(61), "61 seconds");
    }
}
