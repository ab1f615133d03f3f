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

/// The database as configured, without the password of
/// `database_password_file`: for messages (through [`redact`]).
pub fn configured_database_url(data_dir: &Path, args: &DatabaseArgs) -> String {
    args.database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("folio.db").display()))
}

/// The database to open: `database_url` (with the password from
/// `database_password_file` when that is set), else SQLite in the data
/// directory.
pub fn database_url(data_dir: &Path, args: &DatabaseArgs) -> anyhow::Result<String> {
    let url = configured_database_url(data_dir, args);
    match &args.database_password_file {
        Some(path) => with_password_from(&url, path),
        None => Ok(url),
    }
}

/// `url` with the password read from `path`; only for a PostgreSQL URL
/// that holds none. Errors name no part of the URL but its scheme.
fn with_password_from(url: &str, path: &Path) -> anyhow::Result<String> {
    const SETTING: &str = "database_password_file (FOLIO_DATABASE_PASSWORD_FILE)";
    let mut parsed = reqwest::Url::parse(url).map_err(|err| {
        anyhow::anyhow!("{SETTING} is set but the database URL is not a URL: {err}")
    })?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        anyhow::bail!(
            "{SETTING} is only for a postgres:// database URL, not {}://",
            parsed.scheme()
        );
    }
    let password_in_query = parsed.query_pairs().any(|(key, _)| key == "password");
    if parsed.password().is_some() || password_in_query {
        anyhow::bail!("the database URL holds a password and {SETTING} is set too: give one");
    }
    let password = read_secret_file(path).context("reading the database password file")?;
    parsed
        .set_password(Some(&password))
        .map_err(|()| anyhow::anyhow!("the database URL cannot hold a password"))?;
    Ok(parsed.into())
}

/// A secret given either inline or in a file: both at once is an error.
/// `names` are the two settings, for the message.
pub fn inline_or_file(
    inline: Option<&str>,
    file: Option<&Path>,
    names: (&str, &str),
) -> anyhow::Result<Option<String>> {
    match (inline, file) {
        (Some(_), Some(_)) => anyhow::bail!("both {} and {} are set: give one", names.0, names.1),
        (Some(value), None) => Ok(Some(value.to_owned())),
        (None, Some(path)) => read_secret_file(path).map(Some),
        (None, None) => Ok(None),
    }
}

/// A file's content without its final newline; an empty one is an error.
pub fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the secret file {}", path.display()))?;
    let value = text.strip_suffix('\n').map_or(text.as_str(), |line| {
        line.strip_suffix('\r').unwrap_or(line)
    });
    if value.is_empty() {
        anyhow::bail!("the secret file {} is empty", path.display());
    }
    Ok(value.to_owned())
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_store(data_dir: &Path, args: &DatabaseArgs) -> anyhow::Result<Store> {
    let url = database_url(data_dir, args)?;
    ensure_data_dir(data_dir)?;
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

/// A database URL without its password, for messages: the password of its
/// user part and the value of any `password`-like query parameter
/// (`?password=`, `?sslpassword=`) become `***`.
pub fn redact(url: &str) -> String {
    let without_user_password = match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    };
    match without_user_password.split_once('?') {
        Some((base, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", pairs.join("&"))
        }
        None => without_user_password,
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, with_password_from};

    #[test]
    fn the_password_file_fills_a_postgres_url() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "p@ss:w/rd\r\n").unwrap();
        assert_eq!(
            with_password_from("postgres://folio@db.internal:5432/folio", &path).unwrap(),
            "postgres://folio:p%40ss%3Aw%2Frd@db.internal:5432/folio"
        );
        for url in [
            "postgres://folio:x@db/folio",
            "postgres://folio@db/folio?password=x",
        ] {
            let err = with_password_from(url, &path).unwrap_err();
            assert!(err.to_string().contains("holds a password"), "{err}");
        }
        std::fs::write(&path, "\n").unwrap();
        let err = with_password_from("postgres://folio@db/folio", &path).unwrap_err();
        assert!(format!("{err:#}").contains("is empty"), "{err:#}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("postgres://u@h/db?sslmode=require&password=secret"),
            "postgres://u@h/db?sslmode=require&password=***"
        );
        assert_eq!(
            redact("postgres://u:a@h/db?sslpassword=b"),
            "postgres://u:***@h/db?sslpassword=***"
        );
        assert_eq!(
            redact("sqlite://./data/folio.db"),
            "sqlite://./data/folio.db"
        );
    }
}
