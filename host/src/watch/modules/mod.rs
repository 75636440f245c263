//! blackbox_exporter's config file, read as blackbox reads it: `modules:`,
//! each a `prober`, a `timeout` and the prober's own block under its own key,
//! strict about every key; netkit's probers in the same shape, and netkit's
//! additions (scheduled probes, `allow_targets`) under names blackbox does
//! not use. Each prober's block is read in a file of its own (one room per
//! prober); [`PROBERS`] is the one table that names them.
//!
//! Every problem of a file is found in one pass, placed at its line and
//! column, and told apart: an error (the file is wrong), a key netkit does
//! not have yet (refused by name with the reason), a deprecation warning, a
//! note. That list is `--config.check`'s migration report.

pub mod block;
mod common;
pub mod convert;
mod dns;
mod http;
mod icmp;
mod own;
pub mod show;
mod tcp;
pub mod yaml;

use super::config::{Config, ConfigError, Kind, ProbeConfig};
use block::{Block, Ctx, Problem, Severity};
use std::path::Path;
use std::time::Duration;
use yaml::At;

/// How a prober's block is read.
type Read = fn(&Block, &mut ProbeConfig, &[String]);

/// A prober of the config file.
pub struct Prober {
    /// Its `prober:` name and the key of its block.
    pub name: &'static str,
    /// What netkit runs for it, or why netkit does not yet.
    pub runs: Result<(Kind, Read), &'static str>,
}

/// Every prober, blackbox's and netkit's: the one table to extend.
pub const PROBERS: &[Prober] = &[
    Prober {
        name: "http",
        runs: Ok((Kind::Http, |b, m, _| http::read(b, m))),
    },
    Prober {
        name: "tcp",
        runs: Ok((Kind::Tcp, |b, m, _| tcp::read(b, m))),
    },
    Prober {
        name: "dns",
        runs: Ok((Kind::Dns, |b, m, _| dns::read(b, m))),
    },
    Prober {
        name: "icmp",
        runs: Ok((Kind::Icmp, |b, m, _| icmp::read(b, m))),
    },
    Prober {
        name: "grpc",
        runs: Err("the grpc prober is not supported yet (issue 33)"),
    },
    Prober {
        name: "unix",
        runs: Err("the unix prober is not supported yet (issue 34)"),
    },
    Prober {
        name: "websocket",
        runs: Err("the websocket prober is not supported yet (issue 34)"),
    },
    Prober {
        name: "sntp",
        runs: Ok((Kind::Sntp, |b, m, _| own::sntp(b, m))),
    },
    Prober {
        name: "udp",
        runs: Ok((Kind::Udp, |b, m, _| own::udp(b, m))),
    },
    Prober {
        name: "echo",
        runs: Ok((Kind::Echo, |b, m, _| own::echo(b, m))),
    },
    Prober {
        name: "component",
        runs: Ok((Kind::Component, own::component)),
    },
];

/// A module's timeout when it gives none: Prometheus's default scrape
/// timeout (10s) less blackbox's default `--timeout-offset` (0.5s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(9500);

/// A scheduled probe's interval when it gives none.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

/// A file read: what loaded, and everything found wrong or worth saying.
#[derive(Debug)]
pub struct Loaded {
    /// The file, as named (for messages).
    pub file: String,
    /// The modules and scheduled probes that load.
    pub config: Config,
    /// Every module in the file, in order, with where it starts.
    pub modules: Vec<(String, At)>,
    /// Every scheduled probe in the file, in order (its name).
    pub scheduled: Vec<(String, At)>,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
}

impl Loaded {
    /// Whether the whole file loads (no error and nothing unsupported).
    pub fn ok(&self) -> bool {
        !self.problems.iter().any(|p| p.severity.fatal())
    }

    /// One problem as `FILE:LINE:COL: [module M: ]message`.
    pub fn line(&self, p: &Problem) -> String {
        let m = p
            .module
            .as_ref()
            .map(|m| format!("module {m:?}: "))
            .unwrap_or_default();
        format!("{}:{}:{}: {m}{}", self.file, p.at.line, p.at.col, p.message)
    }

    /// The fatal problems, one message (all of them, never only the first).
    pub fn error(&self) -> Option<ConfigError> {
        let fatal: Vec<String> = self
            .problems
            .iter()
            .filter(|p| p.severity.fatal())
            .map(|p| format!("  {}: {}", p.severity.word(), self.line(p)))
            .collect();
        (!fatal.is_empty()).then(|| {
            ConfigError(format!(
                "{}: the config does not load ({} problem{}; `netkit watch --config.check --config.file {}` reports every module):\n{}",
                self.file,
                fatal.len(),
                if fatal.len() == 1 { "" } else { "s" },
                self.file,
                fatal.join("\n")
            ))
        })
    }

    /// `--config.check`'s report: per module `ok` or what is missing.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let own = |m: Option<&str>| {
            self.problems
                .iter()
                .filter(move |p| p.module.as_deref() == m)
                .collect::<Vec<_>>()
        };
        let say = |out: &mut String, ps: &[&Problem]| {
            for p in ps {
                out.push_str(&format!("    {}: {}\n", p.severity.word(), self.line(p)));
            }
        };
        let file_level = own(None);
        let loaded = self
            .modules
            .iter()
            .filter(|(m, _)| !own(Some(m)).iter().any(|p| p.severity.fatal()))
            .count();
        out.push_str(&format!(
            "{}: {} module{}, {loaded} load{}{}\n",
            self.file,
            self.modules.len(),
            if self.modules.len() == 1 { "" } else { "s" },
            if loaded == 1 { "s" } else { "" },
            if self.scheduled.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} scheduled probe{}",
                    self.scheduled.len(),
                    if self.scheduled.len() == 1 { "" } else { "s" }
                )
            }
        ));
        if !file_level.is_empty() {
            out.push_str("  (file)\n");
            say(&mut out, &file_level);
        }
        for (m, _) in self.modules.iter().chain(&self.scheduled) {
            let ps = own(Some(m));
            let verdict = if ps.iter().any(|p| p.severity == Severity::Error) {
                "error"
            } else if ps.iter().any(|p| p.severity == Severity::Unsupported) {
                "unsupported"
            } else {
                "ok"
            };
            out.push_str(&format!("  {m}: {verdict}\n"));
            say(&mut out, &ps);
        }
        out.push_str(if self.ok() {
            "the config loads\n"
        } else {
            "the config does not load\n"
        });
        out
    }
}

/// Whether `path` names a YAML config (blackbox's format).
pub fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    )
}

/// Read the file at `path`.
pub fn read(path: &Path) -> Result<Loaded, ConfigError> {
    let text = cli_args::files::read_text(path, cli_args::files::Kind::Config)
        .map_err(|e| ConfigError(format!("the config: {e}")))?;
    Ok(parse(&text, path))
}

/// Read and check the file at `path`: the config, or every reason it does not load.
/// Its warnings (deprecated keys) are logged, as blackbox logs them.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let loaded = read(path)?;
    if let Some(e) = loaded.error() {
        return Err(e);
    }
    for p in &loaded.problems {
        if p.severity == Severity::Warning {
            tracing::warn!("{}", loaded.line(p));
        }
    }
    Ok(loaded.config)
}

/// Read config `text` from `path` (used in messages and for relative paths).
pub fn parse(text: &str, path: &Path) -> Loaded {
    let file = path.display().to_string();
    let root = match yaml::parse(text) {
        Ok(n) => n,
        Err(e) => {
            return Loaded {
                file,
                config: Config::default(),
                modules: Vec::new(),
                scheduled: Vec::new(),
                problems: vec![Problem {
                    at: e.at,
                    severity: Severity::Error,
                    module: None,
                    message: format!("not YAML: {}", e.message),
                }],
            };
        }
    };
    let ctx = Ctx::new(path.parent().unwrap_or(Path::new(".")));
    let mut config = Config::default();
    let mut modules = Vec::new();
    let mut scheduled = Vec::new();
    {
        let top = Block::of(&ctx, Some(&root), "", At { line: 1, col: 1 });
        let insecure = insecure_registries(&top);
        if let Some((n, at)) = top.int("probe_concurrency") {
            if (1..=100_000).contains(&n) {
                config.probe_concurrency = Some(n as usize);
            } else {
                top.bad("probe_concurrency", at, format!("{n}: use 1 to 100000"));
            }
        }
        let mods = top.block("modules");
        for (k, v) in mods.entries() {
            let name = k.key_text();
            modules.push((name.clone(), k.at));
            ctx.enter(Some(&name));
            if let Some(m) = module(&ctx, &name, k.at, v, &insecure)
                && !ctx.module_failed()
            {
                config.probes.push(m);
            }
        }
        ctx.enter(None);
        for s in top.blocks("scheduled") {
            let name = schedule(&ctx, &s, &mut config, &modules);
            scheduled.push((name, s.at));
            ctx.enter(None);
        }
    }
    let mut problems = ctx.into_problems();
    problems.sort_by_key(|p| (p.at.line, p.at.col));
    Loaded {
        file,
        config,
        modules,
        scheduled,
        problems,
    }
}

fn insecure_registries(top: &Block) -> Vec<String> {
    let mut out = Vec::new();
    for (r, at) in top.strs("insecure_registries") {
        let text = r.trim();
        let ok = !text.is_empty()
            && !text.contains('/')
            && format!("oci://{text}/x")
                .parse::<crate::oci::OciRef>()
                .is_ok();
        if ok {
            out.push(text.to_string());
        } else {
            top.bad(
                "insecure_registries",
                at,
                format!("{text:?} is not HOST or HOST:PORT (e.g. \"127.0.0.1:5000\")"),
            );
        }
    }
    out
}

/// One module: its prober, timeout and block.
fn module(
    ctx: &Ctx,
    name: &str,
    at: At,
    node: &yaml::Node,
    insecure: &[String],
) -> Option<ProbeConfig> {
    let mut b = Block::of(ctx, Some(node), &format!("modules.{name}"), at);
    b.at = at;
    let names = || {
        PROBERS
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let prober = match b.str_at("prober") {
        Some((p, at)) => match PROBERS.iter().find(|x| x.name == p) {
            Some(x) => Some((x, at)),
            None => {
                b.bad(
                    "prober",
                    at,
                    format!("prober '{p}' is not valid: use one of {}", names()),
                );
                None
            }
        },
        None => {
            b.error(
                b.at,
                format!("modules.{name}: has no prober: (one of {})", names()),
            );
            None
        }
    };
    let timeout = match b.duration("timeout") {
        Some((d, _)) if !d.is_zero() => d,
        _ => DEFAULT_TIMEOUT,
    };
    // Every prober's block is read (as blackbox reads them all), the one of
    // the module's prober into the module.
    let mut chosen = None;
    for p in PROBERS {
        if b.get(p.name).is_none() && prober.is_none_or(|(x, _)| x.name != p.name) {
            continue;
        }
        // A block not written is placed at the module's prober: line.
        let here = prober.map_or(b.at, |(_, at)| at);
        let mut block = Block::of(
            ctx,
            b.get(p.name),
            &format!("modules.{name}.{}", p.name),
            here,
        );
        // A block's own mark is not where it starts: its key is.
        block.at = b.key_at(p.name).unwrap_or(here);
        let ours = prober.is_some_and(|(x, _)| x.name == p.name);
        match p.runs {
            Ok((kind, read)) => {
                let mut m = ProbeConfig::blank(name, kind);
                m.timeout = timeout;
                read(&block, &mut m, insecure);
                if ours {
                    chosen = Some(m);
                }
            }
            Err(why) => {
                block.entries();
                if ours && let Some((_, at)) = prober {
                    b.say(Severity::Unsupported, at, "prober", why);
                }
            }
        }
    }
    chosen
}

/// One entry of `scheduled:` (netkit's): a module run against a target on an
/// interval, its results on `/metrics`; the entry's name (for the report).
fn schedule(ctx: &Ctx, s: &Block, config: &mut Config, modules: &[(String, At)]) -> String {
    let module = s.str_at("module");
    let target = s.str_at("target");
    let name = s.str("name").unwrap_or_else(|| match (&module, &target) {
        (Some((m, _)), Some((t, _))) => format!("{m}:{t}"),
        _ => s.path.clone(),
    });
    ctx.enter(Some(&name));
    let interval = s.duration("interval").map_or(DEFAULT_INTERVAL, |(d, _)| d);
    if interval.is_zero() {
        s.error(s.at, format!("{}: interval must be more than 0s", s.path));
    }
    let Some((module, module_at)) = module else {
        s.error(
            s.at,
            format!("{}: needs module: (a module of modules:)", s.path),
        );
        return name;
    };
    let component = config
        .probes
        .iter()
        .any(|p| p.name == module && p.kind == Kind::Component);
    let (target, target_at) = match target {
        Some(t) => t,
        // A component may run without a target (it is given its grants).
        None if component => (String::new(), s.at),
        None => {
            s.error(s.at, format!("{}: needs target:", s.path));
            return name;
        }
    };
    let same = name == module;
    if !same
        && (config.probes.iter().any(|p| p.name == name) || modules.iter().any(|(m, _)| *m == name))
    {
        s.error(
            s.at,
            format!("{}: the name {name:?} is taken: names of modules and scheduled probes must be unique", s.path),
        );
        return name;
    }
    let Some(i) = config
        .probes
        .iter()
        .position(|p| p.name == module && (!same || !p.scheduled))
    else {
        if modules.iter().any(|(m, _)| *m == module) {
            s.say(
                Severity::Unsupported,
                module_at,
                "module",
                &format!("module {module:?} does not load (see it above)"),
            );
        } else {
            s.bad(
                "module",
                module_at,
                format!("no module named {module:?} in modules:"),
            );
        }
        return name;
    };
    if !target.is_empty()
        && let Err(e) = config.probes[i].parse_target(&target)
    {
        s.bad("target", target_at, e);
        return name;
    }
    // Named as its module: the module itself on a schedule, one probe that
    // is both (the shape of netkit's older TOML, which `convert` writes).
    let p = if same {
        &mut config.probes[i]
    } else {
        let mut p = config.probes[i].clone();
        p.name = name.clone();
        p.module = false;
        p.open = false;
        p.allow_targets.clear();
        config.probes.push(p);
        config.probes.last_mut().expect("just pushed")
    };
    p.target = target;
    p.interval = interval;
    p.timeout = p.timeout.min(interval);
    p.scheduled = true;
    name
}

#[cfg(test)]
mod tests;
