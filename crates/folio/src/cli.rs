//! Command-line arguments. Every option also reads a `FOLIO_*`
//! environment variable; a flag given on the command line wins.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use folio_connectors::ExportFormats;

/// Folio keeps document libraries in sync with Google Drive, OneDrive,
/// SharePoint and Dropbox, and serves their files over an HTTP API.
///
/// With no configuration at all, `folio serve` keeps its SQLite database and
/// file bytes under ./data and listens on 127.0.0.1:8080.
#[derive(Debug, Parser)]
#[command(name = "folio", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory for the embedded database, file bytes, admin token and key.
    #[arg(long, global = true, env = "FOLIO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Log filter, e.g. `info` or `folio_server=debug,info`.
    #[arg(long, global = true, env = "FOLIO_LOG", default_value = "info")]
    pub log: String,
    /// Log line format.
    #[arg(long, global = true, env = "FOLIO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// TOML file of settings: the long option names of `folio serve` with
    /// `_` for `-`. Flags and FOLIO_* variables win over it.
    #[arg(long, global = true, env = "FOLIO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// True when `--data-dir` (or `FOLIO_DATA_DIR`) was given rather than
    /// defaulted: `folio demo` then keeps its data there instead of in a
    /// temporary folder.
    #[arg(skip)]
    pub data_dir_given: bool,
}

/// The metadata database, for the commands that open it.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Metadata database: sqlite://PATH or postgres://USER@HOST/DB.
    /// Default: SQLite at <data dir>/folio.db.
    #[arg(long, env = "FOLIO_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// File holding the password for a PostgreSQL database URL that has
    /// none (a final newline is dropped).
    #[arg(long, env = "FOLIO_DATABASE_PASSWORD_FILE", value_name = "FILE")]
    pub database_password_file: Option<PathBuf>,
}

/// The keys sealing secrets at rest, for the commands that seal or open them.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Key sealing client secrets and OAuth tokens at rest: base64 of 32
    /// bytes (key id 1), or `ID:BASE64,ID:BASE64` while rotating (the
    /// highest id seals). Default: the key file.
    #[arg(long, env = "FOLIO_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Key file used when FOLIO_SECRET_KEY is not set; created (mode 0600)
    /// with one random key on first use. Default: <data dir>/secret.keys.
    #[arg(long, env = "FOLIO_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
}

/// Where file bytes go, for the server.
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Where file bytes go: a directory, or s3://BUCKET/PREFIX?endpoint=URL&region=R
    /// (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    /// Default: <data dir>/blobs.
    #[arg(long, env = "FOLIO_STORAGE_URL")]
    pub storage_url: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage the keys that seal secrets at rest.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage API tokens directly in the database (no server needed).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage users directly in the database (no server needed).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Sync a library on a running server, showing its progress; prints
    /// what changed.
    #[command(after_help = EXIT_CODES)]
    Sync(SyncArgs),
    /// Back up the embedded SQLite database and the file bytes it uses into
    /// a folder, while a server runs on the data folder; or check a backup.
    Backup(BackupArgs),
    /// Restore a backup into a new, empty data folder (--data-dir).
    Restore(RestoreArgs),
    /// Try Folio with nothing to set up: a fresh Folio beside an emulated
    /// Google Drive, OneDrive, SharePoint and Dropbox with files in them,
    /// four libraries ready to connect, and a link that signs you in to
    /// the console. Ctrl-C stops it all (see docs/demo.md).
    Demo(DemoArgs),
    /// Help with the config file (--config).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a config file holding every setting of `folio serve` with its
    /// default, commented out.
    Example,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "FOLIO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Admin API token to install on start (otherwise one is generated into
    /// <data dir>/admin.token on first start).
    #[arg(long, env = "FOLIO_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// File holding the admin API token, instead of --admin-token (a final
    /// newline is dropped).
    #[arg(long, env = "FOLIO_ADMIN_TOKEN_FILE", value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Largest file upload, in bytes.
    #[arg(long, env = "FOLIO_MAX_UPLOAD_BYTES", default_value_t = 1024 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Mark session cookies `Secure` (when served behind HTTPS).
    #[arg(long, env = "FOLIO_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,
    /// Base URL browsers and providers reach Folio at; the OAuth redirect
    /// URI to register is <public URL>/api/oauth/callback.
    /// Default: http://<listen address>.
    #[arg(long, env = "FOLIO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Let integrations point at loopback and private addresses (for the
    /// cloudsim emulator and tests; never in production).
    #[arg(
        long,
        env = "FOLIO_ALLOW_PRIVATE_PROVIDER_URLS",
        default_value_t = false
    )]
    pub allow_private_provider_urls: bool,
    /// Comma-separated origins (https://host[:port]) besides Folio's own
    /// that the connect flow may redirect back to (`returnTo`).
    #[arg(long, env = "FOLIO_ALLOWED_RETURN_ORIGINS", value_delimiter = ',')]
    pub allowed_return_origins: Vec<String>,
    /// Seconds that requests in flight may take to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "FOLIO_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// Milliseconds between two looks for due scheduled syncs.
    #[arg(long, env = "FOLIO_SCHEDULE_TICK_MS", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub schedule_tick_ms: u64,
    /// Scheduled syncs this replica runs at once; 0 runs none here.
    #[arg(long, env = "FOLIO_SCHEDULE_CONCURRENCY", default_value_t = 2)]
    pub schedule_concurrency: usize,
    /// Minutes after which a scheduled library's next run is a reconcile
    /// (full listing, downloading only what differs); 0 disables.
    #[arg(long, env = "FOLIO_RECONCILE_INTERVAL_MINUTES", default_value_t = 1440)]
    pub reconcile_interval_minutes: u64,
    /// Downloads one sync runs at once.
    #[arg(long, env = "FOLIO_SYNC_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub sync_concurrency: u64,
    /// Minutes after which a file whose download failed on its own (refused
    /// by the provider, hash never matching) is tried again by the next
    /// sync; 0 tries it on every sync.
    #[arg(long, env = "FOLIO_RETRY_FAILED_MINUTES", default_value_t = 60)]
    pub retry_failed_minutes: u64,
    /// What Google-native documents become: comma-separated kind=extension
    /// pairs overriding the defaults (document=docx, spreadsheet=xlsx,
    /// presentation=pptx, drawing=pdf), e.g. `document=pdf,spreadsheet=csv`.
    #[arg(long, env = "FOLIO_GOOGLE_EXPORTS", default_value = "", value_parser = parse_exports)]
    pub google_exports: ExportFormats,
    /// Minutes between two storage sweeps (collecting blobs no file uses
    /// and stale uploads); one always runs at start; 0 runs only that one.
    #[arg(long, env = "FOLIO_STORAGE_SWEEP_MINUTES", default_value_t = 60)]
    pub storage_sweep_minutes: u64,
    /// Minutes a blob no file uses, or an upload in staging, is left alone
    /// before the sweep removes it. Must exceed the longest download of a
    /// sync page: a page's blobs wait that long for their commit.
    #[arg(long, env = "FOLIO_ORPHAN_GRACE_MINUTES", default_value_t = 360, value_parser = clap::value_parser!(u64).range(1..))]
    pub orphan_grace_minutes: u64,
    /// A token `GET /metrics` then requires as `Authorization: Bearer`;
    /// without it the metrics are open.
    #[arg(long, env = "FOLIO_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seal every stored secret under a new key, while servers run.
    /// With the key file: appends a new key and re-seals under it (old keys
    /// stay in the file, readable). With FOLIO_SECRET_KEY: first add the new
    /// key as `ID:BASE64` (higher id) to the variable on every replica, then
    /// run this; remove the old key once it reports nothing left under it.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (shown once).
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The user's username.
    #[arg(long)]
    pub user: String,
    /// A name to recognise the token by.
    #[arg(long, default_value = "cli")]
    pub name: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Set a user's password (for logging in with POST /api/auth/login).
    /// Reads it from standard input, or asks for it twice when standard
    /// input is a terminal. Ends the user's sessions; API tokens stay valid.
    SetPassword(SetPasswordArgs),
}

#[derive(Debug, Args)]
pub struct SetPasswordArgs {
    /// The user's username.
    pub user: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The library: its UUID or natural id.
    pub library: String,
    /// Base URL of the running Folio server.
    #[arg(long, env = "FOLIO_URL", default_value = "http://127.0.0.1:8080", value_parser = parse_server_url)]
    pub url: String,
    /// API token of a user allowed to sync the library.
    /// Default: the token in <data dir>/admin.token.
    #[arg(long, env = "FOLIO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Sync from scratch: the library keeps serving its files until the
    /// new set is fetched, then switches to it at once.
    #[arg(long)]
    pub purge: bool,
    /// Let a full listing delete more than half of the library.
    #[arg(long)]
    pub confirm_deletes: bool,
    /// Only say what a sync would add, update, move and delete: nothing is
    /// downloaded or changed.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the server's result as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// `--url`: an absolute http(s) URL. A bare `host:port` gets a hint
/// rather than the URL parser's "relative URL without a base".
fn parse_server_url(raw: &str) -> Result<String, String> {
    let hint = || format!("not an http(s) URL; did you mean http://{raw} ?");
    match reqwest::Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(raw.to_owned()),
        // `127.0.0.1:8080` is a relative URL; `localhost:8080` parses with
        // the scheme "localhost".
        _ if !raw.contains("://") => Err(hint()),
        Ok(url) => Err(format!(
            "the scheme must be http or https, not '{}'",
            url.scheme()
        )),
        Err(err) => Err(err.to_string()),
    }
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The folder to write the backup to (created; must be empty).
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "verify",
        conflicts_with = "verify"
    )]
    pub to: Option<std::path::PathBuf>,
    /// Check the backup in this folder instead: every blob re-read against
    /// its content address and the manifest.
    #[arg(long, value_name = "DIR")]
    pub verify: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address Folio listens on; port 0 picks a free port. The emulator
    /// listens on a free loopback port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Change the emulated world (add, edit, rename, delete files) every
    /// this many seconds, so scheduled syncs have work to do. 0: never.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub changes: u64,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup folder (written by `folio backup --to`).
    #[arg(long, value_name = "DIR")]
    pub from: std::path::PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// `--google-exports`, checked against what Drive exports each kind to.
fn parse_exports(spec: &str) -> Result<ExportFormats, String> {
    ExportFormats::with_choices(spec)
}

/// The exit codes of `folio sync`, as its `--help` shows them.
pub const EXIT_CODES: &str = "Exit codes:
  0  the sync ended and every file was synced (or, with --dry-run, planned)
  1  the sync did not run or failed (the server's message says why)
  2  the command line was wrong
  3  the sync ended, but some files failed (listed as errors; the next sync
     tries them again)
130  interrupted (Ctrl-C): the sync was cancelled; what it had committed
     stays";
