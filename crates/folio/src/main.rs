//! The `folio` command: `serve`, `migrate`, `token create`, `keys rotate`,
//! `sync`, `backup`, `restore`.
//!
//! Reading order: [`cli`] (arguments and their environment variables),
//! [`config`] (turning them into settings), then one module per command.

mod cli;
mod commands;
mod config;
mod memory;
mod telemetry;

use clap::Parser;

use crate::cli::{Cli, Command, KeysCommand, TokenCommand};

fn main() -> std::process::ExitCode {
    // Before any thread exists: the allocator setting applies to all.
    memory::limit_malloc_arenas();
    memory::purge_in_background();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: starting the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(run())
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    telemetry::init(&cli.global);
    // A client command's failure is the server's answer, said once below;
    // a log line would only repeat it.
    let log_failure = !matches!(cli.command, Command::Sync(_));
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(&cli.global, &args).await,
        Command::Migrate => commands::migrate::run(&cli.global).await,
        Command::Keys {
            command: KeysCommand::Rotate,
        } => commands::keys::rotate(&cli.global).await,
        Command::Token {
            command: TokenCommand::Create(args),
        } => commands::token::create(&cli.global, &args).await,
        Command::Sync(args) => commands::sync::run(&cli.global, &args).await,
        Command::Backup(args) => commands::backup::run(&cli.global, &args).await,
        Command::Restore(args) => commands::restore::run(&cli.global, &args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            if log_failure {
                tracing::error!(error = format!("{err:#}"), "folio failed");
            }
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
