//! Safety of admin-entered provider URLs (`authUri`, `tokenUri`, `apiUri`).
//!
//! Unless the operator allows private targets
//! (`FOLIO_ALLOW_PRIVATE_PROVIDER_URLS=true`, for the emulator), a URL
//! must not reach loopback, private (RFC 1918, ULA), link-local (incl. the
//! 169.254.169.254 metadata service), CGNAT, unspecified, multicast or
//! documentation addresses. `http://` is refused for every host that is not
//! loopback, allowed or not. The check runs when the integration is
//! written (literal IPs and `localhost`) and again before each connect
//! (the host is resolved and every address must pass).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::provider::FieldError;

/// Whether private targets are allowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPolicy {
    pub allow_private: bool,
}

/// True for addresses a provider URL must not reach by default.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let seg0 = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00 // unique local
                || (seg0 & 0xffc0) == 0xfe80 // link-local
                || (seg0 == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) // AWS metadata (IPv6)
        }
    }
}

fn is_internal_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || (o[0] == 100 && (64..128).contains(&o[1])) // CGNAT 100.64/10
        || o[0] == 0
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || o[0] >= 240
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

impl UrlPolicy {
    /// The write-time check: scheme, and hosts that are internal without
    /// resolving (IP literals, `localhost`, metadata names).
    pub fn check_static(&self, field: &'static str, url: &Url) -> Result<(), FieldError> {
        let loopback = is_loopback_host(url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(FieldError::new(
                    field,
                    "http:// is only allowed for loopback hosts; use https://",
                ));
            }
            _ => return Err(FieldError::new(field, "must be an http(s) URL")),
        }
        if self.allow_private {
            return Ok(());
        }
        let internal = match url.host() {
            Some(Host::Ipv4(ip)) => is_internal(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => is_internal(IpAddr::V6(ip)),
            Some(Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                loopback || d == "metadata.google.internal" || d.ends_with(".internal")
            }
            None => true,
        };
        if internal {
            return Err(FieldError::new(
                field,
                "points at an internal address (loopback, private, link-local or metadata); \
                 set FOLIO_ALLOW_PRIVATE_PROVIDER_URLS=true to allow it",
            ));
        }
        Ok(())
    }

    /// The use-time check: the static one, then every address the host
    /// resolves to.
    pub async fn check_resolved(&self, field: &'static str, url: &Url) -> Result<(), FieldError> {
        self.check_static(field, url)?;
        if self.allow_private {
            return Ok(());
        }
        let host = url
            .host_str()
            .ok_or_else(|| FieldError::new(field, "has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| FieldError::new(field, format!("host '{host}' does not resolve ({e})")))?;
        for addr in addrs {
            if is_internal(addr.ip()) {
                return Err(FieldError::new(
                    field,
                    format!(
                        "host '{host}' resolves to an internal address; set FOLIO_ALLOW_PRIVATE_PROVIDER_URLS=true to allow it"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(allow: bool, raw: &str) -> bool {
        UrlPolicy {
            allow_private: allow,
        }
        .check_static("authUri", &Url::parse(raw).unwrap())
        .is_ok()
    }

    #[test]
    fn internal_targets_are_refused_unless_allowed() {
        for raw in [
            "https://127.0.0.1/x",
            "https://localhost/x",
            "https://10.1.2.3/",
            "https://192.168.0.1/",
            "https://172.16.5.5/",
            "https://169.254.169.254/latest/meta-data",
            "https://metadata.google.internal/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
        ] {
            assert!(!check(false, raw), "{raw} must be refused");
        }
        assert!(check(true, "http://127.0.0.1:8085/token"));
        assert!(check(false, "https://oauth2.googleapis.com/token"));
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(!check(true, "http://example.com/token"));
        assert!(!check(true, "http://10.0.0.1/token"));
        assert!(check(true, "http://localhost:9/token"));
        assert!(!check(false, "ftp://example.com/"));
    }
}
