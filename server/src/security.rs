//! The request guard. garden-eden starts training processes and writes files, so a web page that
//! reaches it could run code on this machine. Two attacks are refused here:
//!
//! - **DNS rebinding**: a foreign site whose name resolves to 127.0.0.1 talks to this server with
//!   its own name in `Host`. Only loopback names (and hosts the person allowed explicitly) pass.
//! - **Cross-site request forgery**: a page elsewhere posts a form or a `fetch` here. Requests that
//!   change anything (every method but GET, HEAD and OPTIONS) must come from this server's own
//!   origin.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Which hosts may address this server.
#[derive(Debug, Clone, Default)]
pub struct HostGuard {
    /// Extra host names (lower case, no port) the person allowed, e.g. the LAN name.
    extra_hosts: Vec<String>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the request has no Host header")]
    MissingHost,
    #[error(
        "Host '{host}' is not this machine's loopback name; garden-eden only answers requests \
         addressed to localhost or 127.0.0.1 (this blocks DNS-rebinding attacks). If you exposed it \
         on purpose, start it with --allow-host <name>"
    )]
    ForeignHost { host: String },
    #[error(
        "a {method} from origin '{origin}' was refused: only pages served by this garden-eden \
         ({own}) may change anything here (cross-site request forgery protection)"
    )]
    CrossOrigin {
        method: String,
        origin: String,
        own: String,
    },
    #[error(
        "a {method} sent by a {site} page was refused: only pages served by this garden-eden may \
         change anything here (cross-site request forgery protection)"
    )]
    CrossSite { method: String, site: String },
}

impl HostGuard {
    pub fn new(extra_hosts: impl IntoIterator<Item = String>) -> Self {
        HostGuard {
            extra_hosts: extra_hosts
                .into_iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    /// Allows one more host name.
    pub fn allow(&mut self, host: &str) {
        self.extra_hosts.push(host.to_ascii_lowercase());
    }

    /// Is this host name (without port) one that may address us?
    pub fn host_allowed(&self, hostname: &str) -> bool {
        let name = hostname.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            // RFC 6761: browsers resolve these to loopback themselves, never through DNS.
            return true;
        }
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            if ip.is_loopback() {
                return true;
            }
        }
        self.extra_hosts.iter().any(|h| h == &name || h == bare)
    }

    /// Checks one request's headers.
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(Refusal::MissingHost)?;
        let hostname = parse_authority(host).map(|(h, _)| h);
        if !hostname.is_some_and(|h| self.host_allowed(h)) {
            return Err(Refusal::ForeignHost {
                host: host.to_owned(),
            });
        }
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        let own = format!("http://{}", host.to_ascii_lowercase());
        match headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("")) {
            Some(origin) => {
                if same_origin(origin, host) {
                    Ok(())
                } else {
                    Err(Refusal::CrossOrigin {
                        method: method.to_string(),
                        origin: origin.to_owned(),
                        own,
                    })
                }
            }
            // No Origin: not a browser (curl, the CLI, tests), or an old one. Browsers that send
            // Sec-Fetch-Site tell us where the request came from.
            None => match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
                None | Some("same-origin") | Some("none") => Ok(()),
                Some(site) => Err(Refusal::CrossSite {
                    method: method.to_string(),
                    site: site.to_owned(),
                }),
            },
        }
    }
}

/// `host:port` → (`host`, `Some(port)`); handles `[::1]:3000`.
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            let host = &authority[..end + 2];
            let port = rest[end + 1..].strip_prefix(':');
            return (host, port);
        }
        return (authority, None);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (authority, None),
    }
}

/// A `Host` value as RFC 9110 allows it: a name (letters, digits, `-`, `.`, `_`), an IPv4
/// address, or `[IPv6]`, then optionally `:` and digits. Anything else (`[::1]evil.com`,
/// `127.0.0.1:4711@evil.com`, `localhost:4711, evil.com`, a port that is not a number) is `None`.
fn parse_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = split_host_port(authority);
    // Nothing may follow `[…]` but a port.
    if host.starts_with('[') && authority.len() != host.len() + port.map_or(0, |p| p.len() + 1) {
        return None;
    }
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ip) => ip.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && !host.starts_with(['[', '.', '-'])
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        }
    };
    ok.then_some((host, port))
}

/// Does `origin` (`http://127.0.0.1:3000`) name the same scheme/host/port as our `Host`?
fn same_origin(origin: &str, host: &str) -> bool {
    let origin = origin.trim().to_ascii_lowercase();
    let Some(authority) = origin.strip_prefix("http://") else {
        // `null`, https (we serve plain http), or anything else.
        return false;
    };
    let normalise = |a: &str| {
        let (h, p) = split_host_port(a);
        format!("{}:{}", h, p.unwrap_or("80"))
    };
    normalise(authority.trim_end_matches('/')) == normalise(&host.to_ascii_lowercase())
}

/// Headers on every response: no page elsewhere may frame this one (clickjacking its Train or
/// Delete buttons), content types are taken as sent, and no address leaks to other sites.
/// `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` on this
/// app's own form posts, and the CSRF check above relies on the origin.
pub const RESPONSE_HEADERS: [(&str, &str); 4] = [
    ("x-frame-options", "DENY"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
];

/// axum middleware: refuse with 403 and a log line, or pass on; either way with
/// [`RESPONSE_HEADERS`].
pub async fn guard(State(guard): State<Arc<HostGuard>>, request: Request, next: Next) -> Response {
    let mut response = decide(&guard, request, next).await;
    let headers = response.headers_mut();
    for (name, value) in RESPONSE_HEADERS {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
    response
}

async fn decide(guard: &HostGuard, request: Request, next: Next) -> Response {
    match guard.check(request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            tracing::warn!(
                method = %request.method(),
                uri = %request.uri(),
                host = ?request.headers().get(header::HOST),
                origin = ?request.headers().get(header::ORIGIN),
                "refused request: {refusal}"
            );
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("403 Forbidden: {refusal}\n"),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_hosts_pass() {
        let g = HostGuard::default();
        for host in ["127.0.0.1:3000", "localhost:3000", "localhost", "[::1]:3000", "127.0.0.2", "app.localhost:3000", "LOCALHOST."] {
            assert_eq!(g.check(&Method::GET, &headers(&[("host", host)])), Ok(()), "{host}");
        }
    }

    #[test]
    fn foreign_hosts_are_refused() {
        let g = HostGuard::default();
        for host in ["evil.example:3000", "192.168.1.20:3000", "localhost.evil.example", "[::2]:3000", "127.0.0.1.nip.io"] {
            assert!(
                matches!(g.check(&Method::GET, &headers(&[("host", host)])), Err(Refusal::ForeignHost { .. })),
                "{host}"
            );
        }
        assert_eq!(g.check(&Method::GET, &HeaderMap::new()), Err(Refusal::MissingHost));
    }

    #[test]
    fn an_allowed_host_passes() {
        let g = HostGuard::new(["Studio.LAN".to_owned()]);
        assert_eq!(g.check(&Method::GET, &headers(&[("host", "studio.lan:3000")])), Ok(()));
    }

    #[test]
    fn same_origin_posts_pass() {
        let g = HostGuard::default();
        let h = headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")]);
        assert_eq!(g.check(&Method::POST, &h), Ok(()));
        let h = headers(&[("host", "localhost"), ("origin", "http://localhost:80")]);
        assert_eq!(g.check(&Method::POST, &h), Ok(()));
        // No Origin at all: the CLI, curl.
        assert_eq!(g.check(&Method::POST, &headers(&[("host", "127.0.0.1:3000")])), Ok(()));
        let h = headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-origin")]);
        assert_eq!(g.check(&Method::DELETE, &h), Ok(()));
    }

    #[test]
    fn cross_origin_writes_are_refused() {
        let g = HostGuard::default();
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:8080", // another local service is another origin
            "http://localhost:3000", // same machine, other name: still another origin
            "https://127.0.0.1:3000",
            "null",
        ] {
            let h = headers(&[("host", "127.0.0.1:3000"), ("origin", origin)]);
            for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
                assert!(
                    matches!(g.check(&method, &h), Err(Refusal::CrossOrigin { .. })),
                    "{method} from {origin}"
                );
            }
            // Reading is fine: the browser's same-origin policy keeps the answer from the page.
            assert_eq!(g.check(&Method::GET, &h), Ok(()), "GET from {origin}");
        }
        let h = headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")]);
        assert!(matches!(g.check(&Method::POST, &h), Err(Refusal::CrossSite { .. })));
        let h = headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-site")]);
        assert!(matches!(g.check(&Method::POST, &h), Err(Refusal::CrossSite { .. })));
    }

    #[test]
    fn malformed_hosts_are_refused() {
        let g = HostGuard::default();
        for host in [
            "[::1]evil.com",
            "[::1]evil.com:3000",
            "127.0.0.1:4711@evil.com",
            "localhost:4711, evil.com",
            "localhost evil.com",
            "localhost:http",
            "localhost:",
            "127.0.0.1:99999999",
            "[::1]:3000x",
            "[not-an-ip]",
            "local\thost",
        ] {
            assert!(matches!(g.check(&Method::GET, &headers(&[("host", host)])), Err(Refusal::ForeignHost { .. })), "{host}");
        }
        assert_eq!(parse_authority("[::1]:3000"), Some(("[::1]", Some("3000"))));
        assert_eq!(parse_authority("localhost"), Some(("localhost", None)));
    }

    #[test]
    fn host_port_split() {
        assert_eq!(split_host_port("a:1"), ("a", Some("1")));
        assert_eq!(split_host_port("a"), ("a", None));
        assert_eq!(split_host_port("[::1]:3000"), ("[::1]", Some("3000")));
        assert_eq!(split_host_port("[::1]"), ("[::1]", None));
    }
}
