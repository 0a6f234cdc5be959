//! `GET /client-config`: the web app's first request (twenty-front
//! `client-config/utils/getClientConfig.ts`, a plain uncredentialed GET that must stay a
//! simple CORS request). The shape is Twenty's `ClientConfig` type
//! (`generated/twenty-metadata.graphql`) plus the keys twenty-front's own `ClientConfig`
//! type reads that the GraphQL type lacks (`dictation`, `onboarding`, …).
//!
//! Values an operator would set come from vars named as Twenty's server variables; every
//! feature twenty-edge does not offer (billing, captcha, analytics, SSO, calendar and mail
//! sync, AI) is reported off.

use serde_json::{json, Value};
use worker::Env;

/// Twenty's default `MUTATION_MAXIMUM_AFFECTED_RECORDS`.
const DEFAULT_MUTATION_MAXIMUM_AFFECTED_RECORDS: f64 = 100.0;

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.trim().is_empty())
}

/// A boolean var: `true`/`1`/`yes` or `false`/`0`/`no`; anything else is the default.
pub fn var_bool(value: Option<&str>, default: bool) -> bool {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => true,
        Some(v) if matches!(v.as_str(), "false" | "0" | "no") => false,
        _ => default,
    }
}

/// The host name of the first `FRONTEND_URL` origin (Twenty's `frontDomain`).
pub fn front_domain(frontend_url: Option<&str>) -> String {
    frontend_url
        .and_then(|v| v.split(',').next())
        .and_then(|o| worker::Url::parse(o.trim()).ok())
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".to_string())
}

/// What the operator configured, read once per request.
pub struct Settings {
    pub password_auth: bool,
    pub multi_workspace: bool,
    pub sign_in_prefilled: bool,
    pub email_verification_required: bool,
    pub frontend_url: Option<String>,
    pub default_subdomain: Option<String>,
    pub app_version: Option<String>,
    pub sentry_dsn: Option<String>,
    pub sentry_environment: Option<String>,
    pub sentry_release: Option<String>,
    pub support_front_chat_id: Option<String>,
    pub mutation_maximum_affected_records: f64,
}

impl Settings {
    pub fn from_env(env: &Env) -> Settings {
        let b = |name: &str, default: bool| var_bool(var(env, name).as_deref(), default);
        Settings {
            password_auth: b("AUTH_PASSWORD_ENABLED", true),
            multi_workspace: b("IS_MULTIWORKSPACE_ENABLED", false),
            sign_in_prefilled: b("SIGN_IN_PREFILLED", false),
            email_verification_required: b("IS_EMAIL_VERIFICATION_REQUIRED", false),
            frontend_url: var(env, "FRONTEND_URL"),
            default_subdomain: var(env, "DEFAULT_SUBDOMAIN"),
            app_version: var(env, "APP_VERSION"),
            sentry_dsn: var(env, "SENTRY_FRONT_DSN"),
            sentry_environment: var(env, "SENTRY_ENVIRONMENT"),
            sentry_release: var(env, "SENTRY_RELEASE"),
            support_front_chat_id: var(env, "SUPPORT_FRONT_CHAT_ID"),
            mutation_maximum_affected_records: var(env, "MUTATION_MAXIMUM_AFFECTED_RECORDS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_MUTATION_MAXIMUM_AFFECTED_RECORDS),
        }
    }
}

/// Twenty's `AuthProviders`: password only (no SSO, Google, Microsoft or magic links).
pub fn auth_providers(s: &Settings) -> Value {
    json!({
        "sso": [],
        "google": false,
        "magicLink": false,
        "password": s.password_auth,
        "microsoft": false,
    })
}

/// The `/client-config` body.
pub fn body(s: &Settings) -> Value {
    // Front chat is the only support driver Twenty has; it is on when its id is set.
    let support = match &s.support_front_chat_id {
        Some(id) => json!({ "supportDriver": "FRONT", "supportFrontChatId": id }),
        None => json!({ "supportDriver": "NONE", "supportFrontChatId": null }),
    };
    json!({
        "appVersion": s.app_version,
        "authProviders": auth_providers(s),
        "authBypassProviders": { "google": false, "password": false, "microsoft": false },
        "billing": {
            "isBillingEnabled": false,
            "billingUrl": null,
            "stripePublishableKey": null,
            "trialPeriods": [],
        },
        "aiModels": [],
        "aiEvaluationModels": [],
        "aiModelTiers": [],
        "signInPrefilled": s.sign_in_prefilled,
        "isMultiWorkspaceEnabled": s.multi_workspace,
        "isMultiWorkspaceSubdomainEnabled": false,
        "isEmailVerificationRequired": s.email_verification_required,
        "defaultSubdomain": s.default_subdomain,
        "frontDomain": front_domain(s.frontend_url.as_deref()),
        "publicFunctionDomain": null,
        "analyticsEnabled": false,
        "support": support,
        "isAttachmentPreviewEnabled": false,
        "sentry": {
            "environment": s.sentry_environment,
            "release": s.sentry_release,
            "dsn": s.sentry_dsn,
            "tracesSampleRate": null,
        },
        "captcha": { "provider": null, "siteKey": null },
        "api": { "mutationMaximumAffectedRecords": s.mutation_maximum_affected_records },
        "canManageFeatureFlags": false,
        "publicFeatureFlags": [],
        "isCookieSessionEnabled": false,
        "isMicrosoftMessagingEnabled": false,
        "isMicrosoftCalendarEnabled": false,
        "isGoogleMessagingEnabled": false,
        "isGoogleCalendarEnabled": false,
        "isConfigVariablesInDbEnabled": false,
        "isImapSmtpCaldavEnabled": false,
        "isEmailingDomainInDemoMode": false,
        "allowRequestsToTwentyIcons": false,
        "calendarBookingPageId": null,
        "isBookCallOnboardingStepEnabled": false,
        "isCompanyEnrichmentEnabled": false,
        "isCloudflareIntegrationEnabled": false,
        "isClickHouseConfigured": false,
        "isWorkspaceSchemaDDLLocked": false,
        "isOnboardingAiChatEnabled": false,
        "isTwoFactorAuthenticationEnabled": false,
        "isSignUpDisabled": false,
        "isWorkspaceCreationLimitedToServerAdmins": false,
        "enterpriseInstanceType": "NONE",
        "maintenance": null,
        "onboarding": null,
        "dictation": { "isEnabled": false },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Settings {
        Settings {
            password_auth: true,
            multi_workspace: false,
            sign_in_prefilled: false,
            email_verification_required: false,
            frontend_url: Some("http://localhost:3001".into()),
            default_subdomain: None,
            app_version: None,
            sentry_dsn: None,
            sentry_environment: None,
            sentry_release: None,
            support_front_chat_id: None,
            mutation_maximum_affected_records: 100.0,
        }
    }

    #[test]
    fn every_non_null_field_of_twentys_client_config_type_is_present() {
        let body = body(&defaults());
        let sdl = crate::metadata::SDL;
        let start = sdl.find("type ClientConfig {").expect("ClientConfig type");
        let end = start + sdl[start..].find('}').expect("end of type");
        for line in sdl[start..end].lines().skip(1) {
            let line = line.trim();
            let Some((name, ty)) = line.split_once(':') else {
                continue;
            };
            if ty.trim().ends_with('!') {
                assert!(
                    !body[name.trim()].is_null(),
                    "non-null field {name} missing"
                );
            }
        }
        assert_eq!(body["authProviders"]["password"], true);
        assert_eq!(body["isMultiWorkspaceEnabled"], false);
        assert_eq!(body["billing"]["isBillingEnabled"], false);
        assert_eq!(body["frontDomain"], "localhost");
    }

    #[test]
    fn vars_parse_as_operators_write_them() {
        assert!(var_bool(Some("TRUE"), false));
        assert!(!var_bool(Some("0"), true));
        assert!(var_bool(Some("maybe"), true));
        assert!(!var_bool(None, false));
        assert_eq!(
            front_domain(Some("https://app.example.com, https://x.y")),
            "app.example.com"
        );
        assert_eq!(front_domain(Some("not a url")), "localhost");
    }
}
