//! Injection: the child's environment and its tmpfs files, built from resolved values.

pub mod env;
pub mod files;
