//! The `folio` command: `serve`, `migrate`, `token create`, `keys rotate`,
//! `user set-password`, `sync`, `backup`, `restore`, `demo`, `config example`.
//!
//! Reading order: [`cli`] (arguments and their environment variables),
//! [`config_file`] (the `--config` file filling what they leave unset),
//! [`config`] (turning them into settings), then one module per command.

mod cli;
mod commands;
mod config;
mod config_file;
mod memory;
mod telemetry;

use crate::cli::{Command, ConfigCommand, KeysCommand, LogFormat, TokenCommand, UserCommand};

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
    let cli = match config_file::parse_cli(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(err) => {
            eprintln!("error: {err:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    telemetry::init(&cli.global);
    // A failure is said once: as a JSON log line when the server's logs
    // are JSON (what collects them reads nothing else), else as one
    // `error:` line on stderr.
    let failure_as_log = matches!(cli.command, Command::Serve(_))
        && matches!(cli.global.log_format, LogFormat::Json);
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(&cli.global, &args).await,
        Command::Migrate(args) => commands::migrate::run(&cli.global, &args).await,
        Command::Keys {
            command: KeysCommand::Rotate(args),
        } => commands::keys::rotate(&cli.global, &args).await,
        Command::Token {
            command: TokenCommand::Create(args),
        } => commands::token::create(&cli.global, &args).await,
        Command::User {
            command: UserCommand::SetPassword(args),
        } => commands::user::set_password(&cli.global, &args).await,
        Command::Sync(args) => commands::sync::run(&cli.global, &args).await,
        Command::Backup(args) => commands::backup::run(&cli.global, &args).await,
        Command::Restore(args) => commands::restore::run(&cli.global, &args).await,
        Command::Demo(args) => commands::demo::run(&cli.global, &args).await,
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", config_file::example());
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            if failure_as_log {
                tracing::error!(error = format!("{err:#}"), "folio failed");
            } else {
                eprintln!("error: {err:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
