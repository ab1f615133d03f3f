//! `cloudsim serve --port P [--state DIR] [--tls-cert F --tls-key F | --tls-generate DIR]`

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cloudsim::server::TlsOptions;
use cloudsim::{Sim, SimOptions};

/// A wire-faithful emulator of Google Drive, OneDrive, SharePoint and Dropbox.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve all providers and the /_sim/ control API on one port.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Keep the world here (loaded on start, saved on change and on exit).
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        /// TLS certificate chain (PEM); needs --tls-key.
        #[arg(
            long,
            value_name = "FILE",
            requires = "tls_key",
            conflicts_with = "tls_generate"
        )]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM); needs --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Write ca.pem, cert.pem and key.pem here (or reuse them) and serve HTTPS.
        #[arg(long, value_name = "DIR")]
        tls_generate: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve {
        port,
        host,
        state,
        tls_cert,
        tls_key,
        tls_generate,
    } = Cli::parse().command;
    let tls = match (tls_cert, tls_key, tls_generate) {
        (Some(cert), Some(key), _) => Some(TlsOptions::Files { cert, key }),
        (_, _, Some(dir)) => Some(TlsOptions::Generate { dir }),
        _ => None,
    };
    let mut sim = Sim::start(SimOptions {
        addr: Some(SocketAddr::new(host, port)),
        state_dir: state,
        tls,
    })
    .await?;
    println!("listening on {}", sim.base_url());
    tokio::select! {
        r = sim.wait() => r?,
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate() => {}
    }
    sim.shutdown().await.context("shutting down")
}

/// Resolves on SIGTERM.
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
