//! Logging to stderr with `tracing`. stdout is for data only.
//!
//! Verbosity raises sx's own level; dependencies stay one level quieter so that, even at
//! `-vvv`, no HTTP body or wire trace of a client library is printed.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::cli::{Global, LogFormat};

pub fn init(g: &Global) {
    let own = std::env::var("SX_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(match (g.quiet, g.verbose) {
            (true, _) => LevelFilter::ERROR,
            (false, 0) => LevelFilter::WARN,
            (false, 1) => LevelFilter::INFO,
            (false, 2) => LevelFilter::DEBUG,
            (false, _) => LevelFilter::TRACE,
        });
    // Client libraries warn about every source a credential chain tries; that is noise for
    // sx's users, whose errors already say what was tried.
    let deps = match own {
        LevelFilter::TRACE => LevelFilter::DEBUG,
        LevelFilter::DEBUG => LevelFilter::INFO,
        LevelFilter::INFO => LevelFilter::WARN,
        _ => LevelFilter::ERROR,
    };
    let mut filter = Targets::new().with_target("sx", own).with_default(deps);
    if g.log_format == LogFormat::Json {
        // The audit lines are the point of the JSON format: keep them at any verbosity; and
        // the final error is always told, whatever SX_LOG says.
        filter = filter
            .with_target("sx::audit", LevelFilter::INFO.max(own))
            .with_target("sx::error", LevelFilter::ERROR);
    }
    let ansi = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let registry = tracing_subscriber::registry().with(filter);
    let result = match g.log_format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi)
                    .without_time()
                    .with_target(false),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_current_span(false)
                    .flatten_event(true),
            )
            .try_init(),
    };
    let _ = result;
}
