//! Provider answers made fit for a log line: no token, no known secret.

const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "client_secret",
    "code_verifier",
    "token",
    "assertion",
    "password",
];

/// A provider body fit for a log line: JSON values under token-like keys
/// become `[redacted]`, every known secret is cut out, and it is capped.
pub fn redact_body(body: &str, known_secrets: &[&str]) -> String {
    let mut text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            redact_value(&mut value);
            value.to_string()
        }
        Err(_) => body.to_owned(),
    };
    for secret in known_secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret, "[redacted]");
    }
    if text.len() > 600 {
        let mut cut = 600;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

fn redact_value(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if SECRET_KEYS.contains(&key.as_str()) {
                    *v = serde_json::Value::String("[redacted]".into());
                } else {
                    redact_value(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_removes_tokens_and_known_secrets() {
        let body = r#"{"error":"invalid_grant","access_token":"at-1","nested":{"refresh_token":"rt-1"},"error_description":"bad code abcd1234"}"#;
        let out = redact_body(body, &["abcd1234"]);
        assert!(
            !out.contains("at-1") && !out.contains("rt-1") && !out.contains("abcd1234"),
            "{out}"
        );
        assert!(out.contains("invalid_grant"));
        assert_eq!(
            redact_body("plain secretvalue", &["secretvalue"]),
            "plain [redacted]"
        );
    }
}
