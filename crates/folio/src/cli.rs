//! Command-line arguments. Every option also reads a `FOLIO_*`
//! environment variable; a flag given on the command line wins.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory for the embedded database, file bytes, admin token and key.
    #[arg(long, global = true, env = "FOLIO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Metadata database: sqlite://PATH or postgres://USER@HOST/DB.
    /// Default: SQLite at <data dir>/folio.db.
    #[arg(long, global = true, env = "FOLIO_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where file bytes go: a directory, or s3://BUCKET/PREFIX?endpoint=URL&region=R
    /// (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
    /// Default: <data dir>/blobs.
    #[arg(long, global = true, env = "FOLIO_STORAGE_URL")]
    pub storage_url: Option<String>,
    /// Log filter, e.g. `info` or `folio_server=debug,info`.
    #[arg(long, global = true, env = "FOLIO_LOG", default_value = "info")]
    pub log: String,
    /// Log line format.
    #[arg(long, global = true, env = "FOLIO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage API tokens directly in the database (no server needed).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "FOLIO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Admin API token to install on start (otherwise one is generated into
    /// <data dir>/admin.token on first start).
    #[arg(long, env = "FOLIO_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Largest file upload, in bytes.
    #[arg(long, env = "FOLIO_MAX_UPLOAD_BYTES", default_value_t = 1024 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Mark session cookies `Secure` (when served behind HTTPS).
    #[arg(long, env = "FOLIO_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,
    /// Seconds that requests in flight may take to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "FOLIO_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
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
}
