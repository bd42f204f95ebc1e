//! `--web.config.file`: the web configuration file Prometheus exporters
//! share (exporter-toolkit's YAML): `basic_auth_users` with bcrypt hashes,
//! and `tls_server_config` with a certificate and key, so an exposed
//! exporter answers only whom it should, over TLS.

use crate::error::{AppError, AppResult};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The file's shape; unknown keys (including exporter-toolkit ones netdx
/// does not implement, such as `http_server_config`) are refused by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebFile {
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
    tls_server_config: Option<TlsFile>,
}

/// `tls_server_config`: the certificate chain and key, PEM files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// The certificate chain, PEM.
    pub cert_file: PathBuf,
    /// Its private key, PEM.
    pub key_file: PathBuf,
}

/// The checked web configuration.
#[derive(Debug, Default)]
pub struct WebConfig {
    /// User → bcrypt hash; empty means no authentication.
    pub users: BTreeMap<String, String>,
    /// TLS, when configured (paths relative to the file are resolved).
    pub tls: Option<TlsFile>,
}

impl WebConfig {
    /// Reads and checks the file; every fault names the file.
    pub fn load(path: &Path) -> AppResult<WebConfig> {
        let named =
            |why: String| AppError::usage(format!("--web.config.file {}: {why}", path.display()));
        let text =
            std::fs::read_to_string(path).map_err(|e| named(format!("cannot read it: {e}")))?;
        let mut config = WebConfig::parse(&text).map_err(named)?;
        // Like exporter-toolkit: relative paths are relative to the file.
        if let Some(tls) = &mut config.tls {
            let base = path.parent().unwrap_or(Path::new("."));
            tls.cert_file = base.join(&tls.cert_file);
            tls.key_file = base.join(&tls.key_file);
        }
        Ok(config)
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<WebConfig, String> {
        if text.trim().is_empty() {
            return Ok(WebConfig::default());
        }
        let file: WebFile = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        for (user, hash) in &file.basic_auth_users {
            if user.is_empty() || user.contains(':') {
                return Err(format!(
                    "basic_auth_users: '{}' is not a user name (empty or holding ':')",
                    user.escape_debug()
                ));
            }
            if hash.parse::<bcrypt::HashParts>().is_err() {
                return Err(format!(
                    "basic_auth_users: {user}: the password must be a bcrypt hash ($2y$…), e.g. from `htpasswd -nBC 10 \"\" | tr -d ':'`"
                ));
            }
        }
        Ok(WebConfig {
            users: file.basic_auth_users,
            tls: file.tls_server_config,
        })
    }

    /// What is configured, for the startup log and `--config-check`.
    pub fn describe(&self) -> String {
        let auth = match self.users.len() {
            0 => "no authentication".to_string(),
            n => format!("basic auth ({n} users)"),
        };
        match &self.tls {
            Some(t) => format!("{auth}, TLS with {}", t.cert_file.display()),
            None => format!("{auth}, no TLS"),
        }
    }
}

/// Checks `Authorization: Basic …` against the users' bcrypt hashes.
#[derive(Debug)]
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    /// Credentials already verified: bcrypt is slow on purpose, and a
    /// scraper sends the same ones every few seconds.
    verified: Mutex<HashSet<String>>,
}

/// Most verified credentials remembered (beyond, the cache starts over).
const CACHE_LIMIT: usize = 256;

/// A valid bcrypt hash of nothing anyone sends, verified against when the
/// user is unknown so that a wrong user name costs as long as a wrong password.
const DUMMY_HASH: &str = "$2b$10$ze1MTR3j3eyjrxfLkWYbAeGdevHuBI0.KNsLM7xbmbIv.u6dypkeq";

impl BasicAuth {
    /// Authentication for `users`.
    pub fn new(users: BTreeMap<String, String>) -> BasicAuth {
        BasicAuth {
            users,
            verified: Mutex::new(HashSet::new()),
        }
    }

    /// True when the `Authorization` header value names a user and its password.
    async fn admits(&self, authorization: Option<&str>) -> bool {
        use base64::Engine;
        let Some(value) = authorization else {
            return false;
        };
        let Some(encoded) = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
        else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let Ok(pair) = String::from_utf8(decoded) else {
            return false;
        };
        let Some((user, password)) = pair.split_once(':') else {
            return false;
        };
        if self.lock().contains(&pair) {
            return true;
        }
        let known = self.users.get(user);
        let hash = known.cloned().unwrap_or_else(|| DUMMY_HASH.to_string());
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(false)
            && known.is_some();
        if ok {
            let mut cache = self.lock();
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(pair);
        }
        ok
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        match self.verified.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The middleware: every path needs a user once `basic_auth_users` is set.
pub async fn require_auth(
    State(auth): State<Arc<BasicAuth>>,
    request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if auth.admits(header).await {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"netdx\"")],
        "Unauthorized\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_toolkit_shape_parses_and_faults_are_named() {
        let c = WebConfig::parse(&format!(
            "basic_auth_users:\n  alice: {DUMMY_HASH}\ntls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"
        ))
        .expect("valid");
        assert_eq!(c.users.len(), 1);
        assert!(c.tls.is_some());
        for (text, want) in [
            ("basic_auth_users:\n  alice: secret\n", "bcrypt hash"),
            ("http_server_config:\n  http2: false\n", "unknown field"),
            ("tls_server_config:\n  cert_file: a\n", "key_file"),
            ("basic_auth_users: [1, 2]\n", "basic_auth_users"),
        ] {
            let err = WebConfig::parse(text).expect_err(text);
            assert!(err.contains(want), "{text}: {err}");
        }
        assert!(WebConfig::parse("").expect("empty").users.is_empty());
    }

    #[test]
    fn the_dummy_hash_is_a_bcrypt_hash() {
        assert!(DUMMY_HASH.parse::<bcrypt::HashParts>().is_ok());
    }
}
