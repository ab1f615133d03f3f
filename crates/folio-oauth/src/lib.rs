//! OAuth2 flows for provider connections: authorize URL, state, PKCE, code exchange, single-flight refresh, sealed secrets. Filled by the connections issue.
