//! [`BlobStore::probe`]: does the storage take, give back and delete an
//! object right now. Readiness checks call it.

use crate::BlobStore;
use crate::key::new_probe_key;

/// Which step of a probe failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeStep {
    Write,
    Read,
    Delete,
}

/// A failed probe: the step, and the backend's error for the logs (it may
/// name the location; callers showing it to anonymous clients say the step
/// only).
#[derive(Debug, thiserror::Error)]
#[error("the storage probe failed to {step:?}: {detail}")]
pub struct ProbeError {
    pub step: ProbeStep,
    pub detail: String,
}

impl BlobStore {
    /// Writes a small object under the reserved `probes/` prefix, reads it
    /// back, checks its bytes and deletes it. Each call uses a key of its
    /// own, so replicas probing one bucket at once do not disturb each
    /// other; an object left by a crash between write and delete is a few
    /// bytes under `probes/`, which nothing else reads.
    ///
    /// # Errors
    ///
    /// [`ProbeError`] naming the step that failed (read also when the bytes
    /// read back differ).
    pub async fn probe(&self) -> Result<(), ProbeError> {
        let key = new_probe_key();
        let body = key.clone().into_bytes();
        let failed = |step, e: &dyn std::fmt::Display| ProbeError {
            step,
            detail: e.to_string(),
        };
        self.op()
            .write(&key, body.clone())
            .await
            .map_err(|e| failed(ProbeStep::Write, &e))?;
        let read = self.op().read(&key).await;
        let deleted = self.op().delete(&key).await;
        let read = read.map_err(|e| failed(ProbeStep::Read, &e))?;
        if read.to_vec() != body {
            return Err(failed(ProbeStep::Read, &"the bytes read back differ"));
        }
        deleted.map_err(|e| failed(ProbeStep::Delete, &e))
    }
}
