//! The one integration-test binary: sx run as a user runs it, against real peers.

mod support;

mod aws_sm;
mod aws_ssm;
mod azure_kv;
mod cli;
mod exec_process;
mod files;
mod gcp_fake;
mod gcp_sm;
mod leaks;
mod local_store;
mod manifest;
mod meta;
mod op;
mod op_fake;
mod vault;
