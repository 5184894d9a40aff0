//! The repository's own promises: committed completions are fresh, and every TOML snippet
//! in the README and docs is a valid manifest.

use std::path::{Path, PathBuf};

use crate::support::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_completions_are_fresh() {
    let sb = Sandbox::new();
    for (shell, file) in [
        ("bash", "sx.bash"),
        ("zsh", "_sx"),
        ("fish", "sx.fish"),
        ("elvish", "sx.elv"),
        ("powershell", "_sx.ps1"),
    ] {
        let o = sb.run(["completions", shell]);
        assert_success(&o);
        let path = root().join("completions").join(file);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == o.stdout,
            "{} is stale: run `cargo run -q -- completions {shell} > completions/{file}`",
            path.display()
        );
    }
}

fn markdown_files() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    let mut stack = vec![root().join("docs")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn every_toml_snippet_in_the_docs_is_a_valid_manifest() {
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        let mut lines = text.lines().enumerate();
        while let Some((n, line)) = lines.next() {
            if line.trim() != "```toml" {
                continue;
            }
            let snippet: String = lines
                .by_ref()
                .take_while(|(_, l)| l.trim() != "```")
                .map(|(_, l)| format!("{l}\n"))
                .collect();
            let (manifest, diags) = sx::manifest::parse(&file, snippet.clone());
            assert!(
                diags.is_empty(),
                "{}:{}: {diags:?}\n{snippet}",
                file.display(),
                n + 1
            );
            let plan = sx::plan::Planner::new(Some(&manifest), None).finish(Some(&manifest));
            if let Err(e) = plan {
                panic!("{}:{}: {e}", file.display(), n + 1);
            }
            for profile in &manifest.profiles {
                let plan = sx::plan::Planner::new(Some(&manifest), Some(&profile.name))
                    .finish(Some(&manifest));
                assert!(
                    plan.is_ok(),
                    "{}:{} profile {}",
                    file.display(),
                    n + 1,
                    profile.name
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} snippets found");
}

#[test]
fn the_settings_table_in_the_manifest_docs_lists_what_each_type_accepts() {
    let doc = std::fs::read_to_string(root().join("docs/manifest.md")).expect("read");
    let sb = Sandbox::new();
    let mut checked = 0;
    for row in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (ty, settings) = (cells[1].trim_matches('`'), cells[2]);
        // Only the settings table: its second column lists settings or says none.
        if !(settings == "none" || settings.starts_with('`') || settings.starts_with("the same"))
            || cells.len() != 5
        {
            continue;
        }
        let listed: Vec<&str> = if settings == "none" {
            Vec::new()
        } else if settings.starts_with("the same settings as") {
            continue; // aws-ssm: checked through aws-sm, which shares the code
        } else {
            settings.split(", ").map(|s| s.trim_matches('`')).collect()
        };
        sb.manifest(&format!("[providers.{ty}]\nnot_a_setting = 1\n"));
        let o = sb.run(["check"]);
        let err = stderr(&o);
        let accepted: Vec<&str> = err
            .lines()
            .find_map(|l| l.trim().strip_prefix("= hint: expected one of "))
            .map_or_else(Vec::new, |list| list.split(", ").collect());
        let mut listed_sorted = listed.clone();
        listed_sorted.sort_unstable();
        let mut accepted_sorted = accepted.clone();
        accepted_sorted.sort_unstable();
        assert_eq!(
            listed_sorted, accepted_sorted,
            "docs/manifest.md row for `{ty}`: {err}"
        );
        checked += 1;
    }
    assert_eq!(checked, 8, "rows checked");
}

#[test]
fn the_error_example_in_the_manifest_docs_is_what_sx_prints() {
    let doc = std::fs::read_to_string(root().join("docs/manifest.md")).expect("read");
    let block_after = |marker: &str| {
        let start = doc.find(marker).expect("marker") + marker.len();
        let body = doc[start..].split_once("```text\n").expect("block").1;
        body.split_once("```").expect("block end").0.to_owned()
    };
    let manifest = block_after("For this manifest:");
    let printed = block_after("`sx check` prints:");
    let sb = Sandbox::new();
    sb.manifest(&manifest);
    let o = sb.run(["check"]);
    assert_eq!(code(&o), 1);
    assert_eq!(stderr(&o), printed);
}

#[test]
fn the_demo_runs_from_a_clean_checkout() {
    let demo = root().join("examples/demo");
    let sb = Sandbox::new();
    let o = sb
        .sx([
            std::ffi::OsStr::new("-f"),
            demo.join("sx.toml").as_os_str(),
            "exec".as_ref(),
            "--".as_ref(),
            demo.join("job.sh").as_os_str(),
        ])
        .output()
        .expect("run");
    assert_success(&o);
    assert_eq!(
        stdout(&o).lines().next(),
        Some("job: connecting as demo_app (password: 28 bytes)")
    );
    assert!(
        stdout(&o).contains("first line: -----BEGIN DEMO KEY-----"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_closed_pipe_is_an_error_not_a_panic() {
    let sb = Sandbox::new();
    sb.init_local();
    sb.set_local("t", b"value");
    for args in [
        &["completions", "fish"][..],
        &["get", "local://t"],
        &["export", "--format", "shell"],
    ] {
        sb.manifest("[env]\nT = \"local://t\"\n");
        // A pipe whose reader is gone before sx writes, as with `| head -c1` once it exited.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let o = sb
            .sx(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run sx");
        let err = stderr(&o);
        assert_eq!(code(&o), 1, "{args:?}: {err}");
        assert!(err.contains("cannot write to stdout"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }

    // Nowhere to report an error either: the exit code still tells, no panic (101).
    let full = || {
        std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .expect("open")
    };
    for (args, want) in [
        (&["get", "local://missing"][..], 1),
        (&["exec", "--", "true", "extra"][..], 125),
        (&["-vvv", "get", "bad"][..], 2),
    ] {
        sb.manifest("[env]\nT = \"local://missing\"\n");
        let o = sb.sx(args).stderr(full()).output().expect("run sx");
        assert_eq!(code(&o), want, "{args:?}");
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let o = sb.sx(args).stderr(writer).output().expect("run sx");
        assert_eq!(code(&o), want, "{args:?}");
    }
}
