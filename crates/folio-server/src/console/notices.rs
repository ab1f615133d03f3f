//! The sentences a library's page shows after an action or a failed
//! connection, by fixed code (shared by the page and the OAuth callback's
//! failure pages).

/// A sentence shown at the top of the page after an action, by code (the
/// code travels in the URL; the words never do, so nobody can make the
/// page say something else).
pub fn notice(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "connected" => ("ok", "The library is connected."),
        "disconnected" => (
            "ok",
            "The library is disconnected; its scheduled syncs have stopped. Its files stay until you delete the library.",
        ),
        "integration" => ("ok", "The integration is saved. Connect the library next."),
        "folder" => ("ok", "The folder is saved; the next sync reads it."),
        "schedule" => ("ok", "The schedule is saved."),
        "shared" => ("ok", "The library is shared."),
        "unshared" => ("ok", "The share is removed."),
        "denied" => (
            "error",
            "The provider did not grant access, so nothing was connected. Choose Connect again and allow access at the provider's page to connect the library.",
        ),
        "expired" => (
            "error",
            "That connection attempt expired or was already used. Choose Connect again and finish at the provider's page within ten minutes.",
        ),
        "other-account" => (
            "error",
            "You signed in at the provider as a different account than the one this library is connected with, so nothing changed: the library stays connected to its own account. To go on with that account, reconnect and pick it at the provider's page. To make the library mirror the other account instead, choose Switch account, pick that account there, then Purge and sync to replace the files with that account's.",
        ),
        "failed" => (
            "error",
            "Connecting did not work: the provider refused the request or could not be reached. Check the integration's settings with an admin, then choose Connect again.",
        ),
        _ => return None,
    })
}
