//! `--config FILE` (or `FOLIO_CONFIG`): a TOML file of settings whose keys
//! are the long option names of `folio serve` with `_` for `-`.
//!
//! The file's values become the defaults of the options they name, so clap
//! itself gives a flag precedence over its `FOLIO_*` variable, and the
//! variable over the file. Each value is first checked with the option's
//! own value parser, so the file accepts exactly what the flag accepts,
//! and a bad value is reported with its key rather than as a flag.
//!
//! Every command takes `--config`; one that does not read a setting of the
//! file (`migrate` has no `listen`) ignores it, but a key that is no
//! setting of `folio serve` stops every command.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use clap::builder::ValueParser;
use clap::error::{ContextKind, ContextValue};
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// The id of `--config`, which the file cannot set.
const CONFIG: &str = "config";
/// The command whose options are the file's keys.
const SERVE: &str = "serve";

/// Parses the command line, then fills what neither it nor the environment
/// set from the config file, if one is named. Usage errors and `--help`
/// exit the process as clap does.
pub fn parse_cli(args: Vec<OsString>) -> anyhow::Result<Cli> {
    let first = exit_on_usage_error(Cli::command().try_get_matches_from(&args));
    let Some(path) = first.get_one::<std::path::PathBuf>(CONFIG).cloned() else {
        return from_matches(&first);
    };
    let table = read_table(&path)?;
    let command = apply(Cli::command(), &subcommand_path(&first), &table)
        .with_context(|| format!("config file {}", path.display()))?;
    let matches = exit_on_usage_error(command.try_get_matches_from(&args));
    from_matches(&matches)
}

fn exit_on_usage_error(result: Result<ArgMatches, clap::Error>) -> ArgMatches {
    result.unwrap_or_else(|err| err.exit())
}

fn from_matches(matches: &ArgMatches) -> anyhow::Result<Cli> {
    let mut cli = Cli::from_arg_matches(matches).map_err(|err| anyhow!(first_lines(&err)))?;
    cli.global.data_dir_given = matches
        .value_source("data_dir")
        .is_some_and(|source| source != clap::parser::ValueSource::DefaultValue);
    Ok(cli)
}

fn read_table(path: &Path) -> anyhow::Result<toml::Table> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the config file {}", path.display()))?;
    text.parse::<toml::Table>()
        .map_err(|err| anyhow!("{}", err.to_string().trim_end()))
        .with_context(|| format!("config file {} is not valid TOML", path.display()))
}

/// The names of the subcommands given, outermost first: `["keys", "rotate"]`.
fn subcommand_path(matches: &ArgMatches) -> Vec<String> {
    let mut path = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        path.push(name.to_owned());
        current = sub;
    }
    path
}

/// The key of an option in the file: its long name with `_` for `-`.
fn key_of(arg: &Arg) -> Option<String> {
    arg.get_long().map(|long| long.replace('-', "_"))
}

/// The options a config file may set: the global ones and those of
/// `folio serve`, in the order `folio serve --help` lists them.
fn settings(root: &Command) -> Vec<Arg> {
    let globals = root.get_arguments().filter(|arg| arg.is_global_set());
    let serve = root
        .find_subcommand(SERVE)
        .into_iter()
        .flat_map(Command::get_arguments);
    globals
        .chain(serve)
        .filter(|arg| arg.get_id() != CONFIG && key_of(arg).is_some())
        .cloned()
        .collect()
}

/// Sets each of the file's values as the default of its option, on the
/// root command for a global option and on the command given otherwise.
fn apply(mut root: Command, path: &[String], table: &toml::Table) -> anyhow::Result<Command> {
    let known: BTreeMap<String, Arg> = settings(&root)
        .into_iter()
        .filter_map(|arg| Some((key_of(&arg)?, arg)))
        .collect();
    let given = leaf(&root, path).map(|command| {
        command
            .get_arguments()
            .map(|arg| arg.get_id().clone())
            .collect::<Vec<_>>()
    });
    for (key, value) in table {
        let Some(arg) = known.get(key) else {
            bail!("{}", unknown_key(key, &known));
        };
        let values = values_of(arg, value).with_context(|| format!("key `{key}`"))?;
        let id = arg.get_id().clone();
        // Hidden from `--help`: a value from the file may be a secret
        // (admin_token, metrics_token, a database URL with its password).
        let defaults = move |arg: Arg| {
            // clap allows hiding the default only of an option that takes a value.
            let takes_value = arg.get_action().takes_values();
            let arg = arg.default_values(values);
            if takes_value {
                arg.hide_default_value(true)
            } else {
                arg
            }
        };
        if arg.is_global_set() {
            root = root.mut_arg(id, defaults);
        } else if given.as_ref().is_some_and(|ids| ids.contains(&id)) {
            root = mut_leaf(root, path, |command| command.mut_arg(id, defaults));
        }
        // Otherwise a setting this command does not read: ignored.
    }
    Ok(root)
}

fn leaf<'a>(root: &'a Command, path: &[String]) -> Option<&'a Command> {
    path.iter()
        .try_fold(root, |command, name| command.find_subcommand(name))
}

fn mut_leaf(command: Command, path: &[String], change: impl FnOnce(Command) -> Command) -> Command {
    match path.split_first() {
        None => change(command),
        Some((name, rest)) => command.mut_subcommand(name, |sub| mut_leaf(sub, rest, change)),
    }
}

fn unknown_key(key: &str, known: &BTreeMap<String, Arg>) -> String {
    let closest = known
        .keys()
        .map(|candidate| (edit_distance(key, candidate), candidate))
        .min()
        .filter(|(distance, _)| *distance <= 2);
    match closest {
        Some((_, candidate)) => format!("unknown key `{key}`: did you mean `{candidate}`?"),
        None => format!(
            "unknown key `{key}`: the keys are the long options of `folio serve --help` \
             with `_` for `-` (`folio config example` prints them all)"
        ),
    }
}

/// Levenshtein distance, counting `-` for `_` as a change.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// What the file may hold for an option.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Boolean,
    Integer,
    String,
    Strings,
}

fn kind_of(arg: &Arg) -> Kind {
    match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => Kind::Boolean,
        ArgAction::Append => Kind::Strings,
        _ if is_integer(arg.get_value_parser()) => Kind::Integer,
        _ => Kind::String,
    }
}

fn is_integer(parser: &ValueParser) -> bool {
    let integers: [ValueParser; 4] = [
        clap::value_parser!(u64).into(),
        clap::value_parser!(u32).into(),
        clap::value_parser!(usize).into(),
        clap::value_parser!(i64).into(),
    ];
    integers
        .iter()
        .any(|integer| integer.type_id() == parser.type_id())
}

/// The file's value as the strings the option's flag would take, checked
/// by the option's value parser.
fn values_of(arg: &Arg, value: &toml::Value) -> anyhow::Result<Vec<String>> {
    let kind = kind_of(arg);
    let values = match (kind, value) {
        (Kind::Boolean, toml::Value::Boolean(flag)) => return Ok(vec![flag.to_string()]),
        (Kind::Integer, toml::Value::Integer(number)) => vec![number.to_string()],
        (Kind::String, toml::Value::String(text)) => vec![text.clone()],
        (Kind::Strings, toml::Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(text) => Ok(text.clone()),
                other => Err(anyhow!(
                    "expected an array of strings, found an array holding a {}",
                    other.type_str()
                )),
            })
            .collect::<anyhow::Result<_>>()?,
        (_, other) => bail!("expected {}, found {}", expected(kind), other.type_str()),
    };
    for value in &values {
        check_value(arg, value)?;
    }
    Ok(values)
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Boolean => "true or false",
        Kind::Integer => "an integer",
        Kind::String => "a string",
        Kind::Strings => "an array of strings",
    }
}

/// Runs `value` through the option's value parser, as its flag would be.
fn check_value(arg: &Arg, value: &str) -> anyhow::Result<()> {
    let long = arg.get_long().unwrap_or_default();
    let probe = Command::new("folio")
        .no_binary_name(true)
        .disable_help_flag(true)
        .arg(
            Arg::new(arg.get_id().clone())
                .long(long.to_owned())
                .action(ArgAction::Set)
                .value_parser(arg.get_value_parser().clone()),
        );
    match probe.try_get_matches_from([format!("--{long}={value}")]) {
        Ok(_) => Ok(()),
        Err(err) => match (
            std::error::Error::source(&err),
            err.get(ContextKind::ValidValue),
        ) {
            (Some(reason), _) => bail!("invalid value '{value}': {reason}"),
            (None, Some(ContextValue::Strings(valid))) => {
                bail!(
                    "invalid value '{value}': expected one of {}",
                    valid.join(", ")
                )
            }
            _ => bail!("{}", first_lines(&err)),
        },
    }
}

/// A clap error without its `error: ` prefix and usage hints, on one line.
fn first_lines(err: &clap::Error) -> String {
    err.render()
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("For more information")
                && !line.starts_with("Usage:")
        })
        .map(|line| line.strip_prefix("error: ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A config file holding every setting, commented out, each with its
/// default and its help. `folio config example` prints it.
pub fn example() -> String {
    let mut out = String::from(
        "# A Folio config file: every setting of `folio serve`, with its default.\n\
         # Use it with `folio serve --config FILE` (or FOLIO_CONFIG=FILE).\n\
         # A flag beats its FOLIO_* variable, which beats this file, which beats\n\
         # the default. An unknown key or a value of the wrong type stops the start.\n\
         # Written by `folio config example`; a test checks that it matches the code.\n",
    );
    for arg in settings(&Cli::command()) {
        let Some(key) = key_of(&arg) else { continue };
        out.push('\n');
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        let env = arg
            .get_env()
            .map(|env| format!(", {}", env.to_string_lossy()))
            .unwrap_or_default();
        let flag = key.replace('_', "-");
        for line in wrap(&format!("{help} (--{flag}{env})"), 76) {
            let _ = writeln!(out, "# {line}");
        }
        let _ = writeln!(out, "# {key} = {}", default_of(&arg));
    }
    out
}

fn default_of(arg: &Arg) -> String {
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|value| value.to_string_lossy().into_owned())
        .collect();
    match (kind_of(arg), defaults.as_slice()) {
        (Kind::Strings, _) => {
            toml::Value::Array(defaults.into_iter().map(toml::Value::String).collect()).to_string()
        }
        (_, []) => "(unset)".to_owned(),
        (Kind::Boolean | Kind::Integer, [value]) => value.clone(),
        (_, [value, ..]) => toml::Value::String(value.clone()).to_string(),
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines
            .last_mut()
            .filter(|line| line.is_empty() || line.len() + 1 + word.len() <= width);
        match line {
            Some(line) => {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
            }
            None => lines.push(word.to_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], file: &str) -> anyhow::Result<Cli> {
        let table: toml::Table = file.parse().unwrap();
        let args: Vec<String> = std::iter::once("folio")
            .chain(args.iter().copied())
            .map(str::to_owned)
            .collect();
        let first = Cli::command().try_get_matches_from(&args).unwrap();
        let command = apply(Cli::command(), &subcommand_path(&first), &table)?;
        Cli::from_arg_matches(&command.try_get_matches_from(&args).unwrap()).map_err(Into::into)
    }

    #[test]
    fn every_kind_of_setting_is_read() {
        let cli = parse(
            &["serve"],
            "secure_cookies = true\nsync_concurrency = 3\nlog_format = \"json\"\n\
             allowed_return_origins = [\"https://a.example\", \"https://b.example\"]",
        )
        .unwrap();
        let crate::cli::Command::Serve(serve) = cli.command else {
            panic!()
        };
        assert!(serve.secure_cookies);
        assert_eq!(serve.sync_concurrency, 3);
        assert!(matches!(cli.global.log_format, crate::cli::LogFormat::Json));
        assert_eq!(
            serve.allowed_return_origins,
            ["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn other_commands_ignore_server_settings_and_refuse_typos() {
        let cli = parse(
            &["migrate"],
            "listen = \"0.0.0.0:1\"\ndatabase_url = \"sqlite://x.db\"",
        )
        .unwrap();
        let crate::cli::Command::Migrate(database) = cli.command else {
            panic!()
        };
        assert_eq!(database.database_url.as_deref(), Some("sqlite://x.db"));
        let err = parse(&["migrate"], "databse_url = \"x\"").unwrap_err();
        assert!(format!("{err:#}").contains("`databse_url`"), "{err:#}");
        let err = parse(&["migrate"], "listen = 8080").unwrap_err();
        assert!(
            format!("{err:#}").contains("expected a string, found integer"),
            "{err:#}"
        );
    }

    #[test]
    fn values_go_through_the_options_parser() {
        let err = parse(&["serve"], "sync_concurrency = 65").unwrap_err();
        assert!(
            format!("{err:#}").contains("65 is not in 1..=64"),
            "{err:#}"
        );
        let err = parse(&["serve"], "log_format = \"xml\"").unwrap_err();
        assert!(
            format!("{err:#}").contains("'xml': expected one of text, json"),
            "{err:#}"
        );
        let err = parse(&["serve"], "data-dir = \"x\"").unwrap_err();
        assert!(
            format!("{err:#}").contains("did you mean `data_dir`?"),
            "{err:#}"
        );
    }
}
