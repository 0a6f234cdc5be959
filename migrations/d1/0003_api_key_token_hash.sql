-- API-key tokens are bound to the key's row (issue #19): generateApiKeyToken records the
-- SHA-256 of the token it issued, and admission accepts only that token. A token then
-- grants access by being the one recorded for a live key, not by a signature alone, so a
-- retired signing key is no longer trusted for the 100-year life of the API-key tokens it
-- signed. NULL for keys whose token was issued before this migration (checked as before).
ALTER TABLE api_key ADD COLUMN token_sha256 TEXT;
