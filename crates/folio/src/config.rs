//! Turning arguments into the store and blob storage to open.

use std::path::Path;

use anyhow::Context;
use folio_blobs::{BlobConfig, BlobStore};
use folio_oauth::Keyring;
use folio_store::Store;

use crate::cli::{DatabaseArgs, KeyArgs, StorageArgs};

/// Creates the data directory (mode 0700 on Unix) when missing.
pub fn ensure_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}

pub fn database_url(data_dir: &Path, args: &DatabaseArgs) -> String {
    args.database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("folio.db").display()))
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_store(data_dir: &Path, args: &DatabaseArgs) -> anyhow::Result<Store> {
    ensure_data_dir(data_dir)?;
    let url = database_url(data_dir, args);
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("connecting to the database ({})", redact(&url)))?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// The default key file, inside the data directory.
pub const KEY_FILE: &str = "secret.keys";

/// The keys sealing secrets at rest: FOLIO_SECRET_KEY, else the key file
/// (generated on first use).
pub fn open_keyring(data_dir: &Path, args: &KeyArgs) -> anyhow::Result<Keyring> {
    if let Some(value) = &args.secret_key {
        return Keyring::from_env_value(value).context("reading FOLIO_SECRET_KEY");
    }
    ensure_data_dir(data_dir)?;
    let path = args
        .secret_key_file
        .clone()
        .unwrap_or_else(|| data_dir.join(KEY_FILE));
    Keyring::load_or_create_file(&path).context("opening the secret key file")
}

pub async fn open_blobs(data_dir: &Path, args: &StorageArgs) -> anyhow::Result<BlobStore> {
    let config = match &args.storage_url {
        Some(url) => BlobConfig::parse_url(url).context("reading FOLIO_STORAGE_URL")?,
        None => BlobConfig::Fs {
            root: data_dir.join("blobs"),
        },
    };
    BlobStore::open(&config)
        .await
        .context("opening file storage")
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("sqlite://./data/folio.db"),
            "sqlite://./data/folio.db"
        );
    }
}
