//! The `sx` binary: everything happens in the library; this maps the result to an exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(sx::run(std::env::args_os()))
}
