//! PKCE (RFC 7636) verification.

use base64::Engine;
use sha2::{Digest, Sha256};

/// True when `verifier` matches `challenge` under `method` (`S256`, or
/// `plain`, the default when no method was sent).
pub fn verify_pkce(challenge: &str, method: Option<&str>, verifier: &str) -> bool {
    match method.unwrap_or("plain") {
        "S256" => {
            let digest = Sha256::digest(verifier.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == challenge
        }
        "plain" => verifier == challenge,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_pkce(challenge, Some("S256"), verifier));
        assert!(!verify_pkce(challenge, Some("S256"), "wrong"));
        assert!(verify_pkce("abc", None, "abc"));
    }
}
