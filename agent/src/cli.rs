//! The agent's command line, read by hand: two commands and four options do not need a parser
//! library in every county's agent (clap was a quarter of a megabyte of its resident code).
//! Help and errors are for county IT staff, in Chinese; a usage error exits 2.

use std::ffi::OsString;
use std::path::PathBuf;

use jiff::Timestamp;
use xunjian_shared::config::nearest;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Invocation {
    Check {
        config: PathBuf,
        json: bool,
        now: Option<Timestamp>,
    },
    Run {
        config: PathBuf,
        log_format: LogFormat,
    },
    /// Print this text on stdout and exit 0 (help, version).
    Print(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LogFormat {
    Text,
    Json,
}

const COMMANDS: &[&str] = &["check", "run", "help"];
const CHECK_OPTIONS: &[&str] = &["--config", "--json", "--now", "--help"];
const RUN_OPTIONS: &[&str] = &["--config", "--log-format", "--help"];

fn overview() -> String {
    format!(
        "xunjian-agent {}：区县巡检代理，检查政府网站和政务新媒体账号\n\n\
         用法：xunjian-agent <命令> [选项]\n\n\
         命令：\n  \
           check  把配置中的每个目标检查一次，打印检查结果（不需要汇总端）\n  \
           run    按各目标的间隔持续检查，把观测结果推送到汇总端（collector）\n  \
           help   显示本说明，或某个命令的说明（help check）\n\n\
         选项：\n  \
           -h, --help     显示说明\n  \
           -V, --version  显示版本\n",
        env!("CARGO_PKG_VERSION")
    )
}

const CHECK_HELP: &str = "用法：xunjian-agent check --config <FILE> [--json]\n\n\
    把配置中的每个目标检查一次，打印检查结果（不需要汇总端）。\n\n\
    选项：\n      \
          --config <FILE>  代理配置文件（TOML）\n      \
          --json           输出一个 JSON 文档，而不是表格\n  \
      -h, --help           显示说明\n";

const RUN_HELP: &str = "用法：xunjian-agent run --config <FILE> [--log-format text|json]\n\n\
    按各目标的间隔持续检查，把观测结果推送到汇总端；配置文件需有 [collector] 一节。\n\n\
    选项：\n      \
          --config <FILE>        代理配置文件（TOML），含 [collector] 一节\n      \
          --log-format <FORMAT>  日志格式：text（默认）或 json\n  \
      -h, --help                 显示说明\n";

/// Reads the arguments after the program's name. Err is the message for stderr (exit 2).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, String> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return Err(format!("缺少命令：请写 check 或 run。\n\n{}", overview()));
    };
    let command = text(first)?;
    match command.as_str() {
        "-h" | "--help" => Ok(Invocation::Print(overview())),
        "-V" | "--version" => Ok(Invocation::Print(format!("xunjian-agent {}\n", env!("CARGO_PKG_VERSION")))),
        "help" => match args.next().map(text).transpose()?.as_deref() {
            None | Some("help") => Ok(Invocation::Print(overview())),
            Some("check") => Ok(Invocation::Print(CHECK_HELP.into())),
            Some("run") => Ok(Invocation::Print(RUN_HELP.into())),
            Some(other) => Err(unknown_command(other)),
        },
        "check" => check(args),
        "run" => run(args),
        other => Err(unknown_command(other)),
    }
}

fn check(args: impl Iterator<Item = OsString>) -> Result<Invocation, String> {
    let (mut config, mut json, mut now) = (None, false, None);
    let mut options = Options::new("check", CHECK_OPTIONS, args);
    while let Some(option) = options.next()? {
        match option.as_str() {
            "--config" => once(&mut config, "--config", options.value("--config", "代理配置文件的路径")?.into())?,
            "--json" if json => return Err("--json 只能写一次".into()),
            "--json" => json = true,
            "--now" => {
                let value = text(options.value("--now", "RFC 3339 时间")?)?;
                let at = value.parse::<Timestamp>().map_err(|error| {
                    format!("--now {value:?} 不是 RFC 3339 时间（如 2026-11-30T08:00:00+08:00）：{error}")
                })?;
                once(&mut now, "--now", at)?;
            }
            _ => return Ok(Invocation::Print(CHECK_HELP.into())),
        }
    }
    Ok(Invocation::Check { config: required(config, CHECK_HELP)?, json, now })
}

fn run(args: impl Iterator<Item = OsString>) -> Result<Invocation, String> {
    let (mut config, mut log_format) = (None, None);
    let mut options = Options::new("run", RUN_OPTIONS, args);
    while let Some(option) = options.next()? {
        match option.as_str() {
            "--config" => once(&mut config, "--config", options.value("--config", "代理配置文件的路径")?.into())?,
            "--log-format" => {
                let format = match text(options.value("--log-format", "text 或 json")?)?.as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => return Err(format!("--log-format 只能是 text 或 json，不能是 {other:?}")),
                };
                once(&mut log_format, "--log-format", format)?;
            }
            _ => return Ok(Invocation::Print(RUN_HELP.into())),
        }
    }
    Ok(Invocation::Run { config: required(config, RUN_HELP)?, log_format: log_format.unwrap_or(LogFormat::Text) })
}

/// A command's options in order: `--name value`, `--name=value`, flags; `-h`/`--help` comes back
/// as "--help" for the caller to print its help.
struct Options<I> {
    command: &'static str,
    known: &'static [&'static str],
    args: I,
    /// The value written as `--name=value`, waiting for [`Options::value`].
    inline: Option<OsString>,
}

impl<I: Iterator<Item = OsString>> Options<I> {
    fn new(command: &'static str, known: &'static [&'static str], args: I) -> Self {
        Options { command, known, args, inline: None }
    }

    fn next(&mut self) -> Result<Option<String>, String> {
        if let Some(value) = self.inline.take() {
            return Err(format!("该选项不带值：多出的 {:?}", value.to_string_lossy()));
        }
        let Some(arg) = self.args.next() else { return Ok(None) };
        let arg = text(arg)?;
        if arg == "-h" || arg == "--help" {
            return Ok(Some("--help".into()));
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_string(), Some(OsString::from(value))),
            _ => (arg, None),
        };
        if name == "--help" {
            return Err(format!("{} 不带值", name));
        }
        if self.known.contains(&name.as_str()) {
            self.inline = inline;
            return Ok(Some(name));
        }
        let command = self.command;
        let hint = match nearest(&name, self.known) {
            Some(near) => format!("，是否想写 {near}？"),
            None => format!("。{command} 的选项有：{}", self.known.join(" ")),
        };
        let what = if name.starts_with('-') { "未知选项" } else { "多余的参数" };
        Err(format!("{command}：{what} {name}{hint}\n运行 xunjian-agent {command} --help 查看用法"))
    }

    /// The value of the option just read: after `=` or the next argument. The next argument is no
    /// value when it is another option (`--config --json`: an empty `$CONFIG` in a script); a value
    /// that starts with `--` is written `--config=--x`.
    fn value(&mut self, option: &str, what: &str) -> Result<OsString, String> {
        let value = match self.inline.take() {
            Some(inline) => Some(inline),
            None => self.args.next().filter(|next| !next.to_string_lossy().starts_with("--")),
        };
        match value {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(format!("{option} 后面缺少值：请写上{what}")),
        }
    }
}

fn once<T>(slot: &mut Option<T>, option: &str, value: T) -> Result<(), String> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(format!("{option} 只能写一次")),
    }
}

fn required(config: Option<PathBuf>, help: &str) -> Result<PathBuf, String> {
    config.ok_or_else(|| format!("缺少 --config <FILE>：请指定代理配置文件。\n\n{help}"))
}

fn unknown_command(name: &str) -> String {
    let hint = nearest(name, COMMANDS).map_or_else(String::new, |near| format!("，是否想写 {near}？"));
    format!("未知命令 {name}{hint}\n运行 xunjian-agent --help 查看用法")
}

/// An argument as text; options and their names are ASCII, so one that is not Unicode is a typo.
fn text(arg: OsString) -> Result<String, String> {
    arg.into_string().map_err(|arg| format!("参数 {:?} 不是有效的文字（UTF-8）", arg.to_string_lossy()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Invocation, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn commands_and_their_options() {
        assert_eq!(
            parse_str(&["check", "--config", "agent.toml", "--json"]),
            Ok(Invocation::Check { config: "agent.toml".into(), json: true, now: None })
        );
        let now: Timestamp = "2026-11-30T00:00:00Z".parse().unwrap();
        assert_eq!(
            parse_str(&["check", "--now=2026-11-30T08:00:00+08:00", "--config=/etc/xunjian/a b.toml"]),
            Ok(Invocation::Check { config: "/etc/xunjian/a b.toml".into(), json: false, now: Some(now) })
        );
        assert_eq!(
            parse_str(&["run", "--log-format", "json", "--config", "agent.toml"]),
            Ok(Invocation::Run { config: "agent.toml".into(), log_format: LogFormat::Json })
        );
        assert_eq!(
            parse_str(&["run", "--config", "agent.toml"]),
            Ok(Invocation::Run { config: "agent.toml".into(), log_format: LogFormat::Text })
        );
    }

    #[test]
    fn help_and_version_are_printed() {
        let printed = |args: &[&str]| match parse_str(args) {
            Ok(Invocation::Print(text)) => text,
            other => panic!("{args:?}: {other:?}"),
        };
        assert!(printed(&["--help"]).contains("用法：xunjian-agent <命令>"));
        assert!(printed(&["help", "run"]).contains("--log-format"));
        assert!(printed(&["help", "help"]).contains("用法：xunjian-agent <命令>"));
        assert!(printed(&["check", "-h"]).contains("--json"));
        assert!(printed(&["run", "--config", "x.toml", "--help"]).contains("[collector]"));
        assert_eq!(printed(&["-V"]), format!("xunjian-agent {}\n", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn mistakes_say_what_to_write() {
        let error = |args: &[&str]| parse_str(args).expect_err("an error");
        assert!(error(&[]).contains("缺少命令"));
        assert!(error(&["chek"]).contains("是否想写 check"), "{}", error(&["chek"]));
        assert!(error(&["check", "--config", "a.toml", "--jsn"]).contains("是否想写 --json"));
        assert!(error(&["run", "--config", "a.toml", "--json"]).contains("run 的选项有"), "--json is check's");
        assert!(error(&["check", "--json"]).contains("缺少 --config"));
        assert!(error(&["check", "--config"]).contains("--config 后面缺少值"));
        assert!(error(&["check", "--config="]).contains("--config 后面缺少值"));
        assert!(error(&["check", "--config", "a", "--config", "b"]).contains("只能写一次"));
        assert!(error(&["run", "--config", "a", "--log-format", "xml"]).contains("只能是 text 或 json"));
        assert!(error(&["check", "--config", "a", "--now", "yesterday"]).contains("RFC 3339"));
        assert!(error(&["check", "--json=yes", "--config", "a"]).contains("不带值"));
        assert!(error(&["check", "--config", "a", "extra.toml"]).contains("多余的参数 extra.toml"));
        assert!(error(&["check", "--config", "--json"]).contains("--config 后面缺少值"), "an option is no value");
        assert!(error(&["check", "--config", "a", "--json", "--json"]).contains("只能写一次"));
        assert!(error(&["check", "--help=x"]).contains("不带值"));
    }
}
