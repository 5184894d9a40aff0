//! `sx completions SHELL`: the script clap generates from the command definitions.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::error::Error;

pub fn run(shell: clap_complete::Shell) -> Result<u8, Error> {
    // Generated into memory first: clap's writer panics on a closed pipe (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "sx", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("cannot write to stdout", e))?;
    Ok(0)
}
