//! `sx completions SHELL`: the script clap generates from the command definitions.

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::error::Error;

pub fn run(shell: clap_complete::Shell) -> Result<u8, Error> {
    clap_complete::generate(shell, &mut Cli::command(), "sx", &mut std::io::stdout());
    Ok(0)
}
