//! [`Pacers`]: the pace of each connection (see
//! `folio_connectors::layers::Pacer`), kept across its syncs so that a
//! provider that throttled one sync is not hit at full speed by the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use folio_connectors::layers::Pacer;
use uuid::Uuid;

/// One small pacer per connection this process ever synced; part of
/// [`crate::App`], so two applications in one process (tests) keep apart.
#[derive(Clone, Default)]
pub struct Pacers(Arc<Mutex<HashMap<Uuid, Arc<Pacer>>>>);

impl Pacers {
    /// The pacer of `connection_id`, made on first use.
    pub fn of(&self, connection_id: Uuid) -> Arc<Pacer> {
        let mut pacers = self.0.lock().unwrap_or_else(|p| p.into_inner());
        pacers.entry(connection_id).or_default().clone()
    }
}
