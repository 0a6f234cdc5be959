//! CORS for Twenty's web app (`FRONTEND_URL`, comma-separated for several origins).

use worker::{Env, Headers, Request, Response};

/// Headers browsers may read from our responses.
const EXPOSED: &str = "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Quota-Warning";
const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, X-Schema-Version, X-App-Version, X-Locale, X-Request-Id, Apollo-Require-Preflight";
/// Browsers cache a preflight for this long (Chrome caps it at 2 h).
const PREFLIGHT_MAX_AGE_SECS: &str = "7200";

/// The request's origin, if it is one we serve.
pub fn allowed_origin(req: &Request, env: &Env) -> Option<String> {
    let origin = req.headers().get("origin").ok().flatten()?;
    let allowed = env.var("FRONTEND_URL").ok()?.to_string();
    allowed
        .split(',')
        .map(|o| o.trim().trim_end_matches('/'))
        .any(|o| !o.is_empty() && o == origin.trim_end_matches('/'))
        .then_some(origin)
}

/// Answers a preflight: 204 with the CORS grant for an allowed origin, 403 otherwise.
pub fn preflight(req: &Request, env: &Env) -> Response {
    let headers = Headers::new();
    let status = match allowed_origin(req, env) {
        Some(origin) => {
            let _ = headers.set("access-control-allow-origin", &origin);
            let _ = headers.set("access-control-allow-credentials", "true");
            let _ = headers.set("access-control-allow-methods", ALLOWED_METHODS);
            let requested = req
                .headers()
                .get("access-control-request-headers")
                .ok()
                .flatten();
            let _ = headers.set(
                "access-control-allow-headers",
                requested.as_deref().unwrap_or(ALLOWED_HEADERS),
            );
            let _ = headers.set("access-control-max-age", PREFLIGHT_MAX_AGE_SECS);
            204
        }
        None => 403,
    };
    // The answer depends on the Origin, granted or not: caches must key on it.
    let _ = headers.set("vary", "Origin");
    Response::empty()
        .map(|r| r.with_status(status).with_headers(headers))
        .unwrap_or_else(|_| Response::builder().with_status(status).empty())
}

/// Adds the CORS grant to an actual response for an allowed origin, and `Vary: Origin` to
/// every response: whether the grant is there depends on the Origin, so a shared cache
/// must not serve one origin's answer to another.
pub fn decorate(headers: &Headers, origin: Option<&str>) {
    if let Some(origin) = origin {
        let _ = headers.set("access-control-allow-origin", origin);
        let _ = headers.set("access-control-allow-credentials", "true");
        let _ = headers.set("access-control-expose-headers", EXPOSED);
    }
    let varies = headers.get("vary").ok().flatten().is_some_and(|v| {
        v.split(',')
            .any(|p| p.trim().eq_ignore_ascii_case("origin"))
    });
    if !varies {
        let _ = headers.append("vary", "Origin");
    }
}
