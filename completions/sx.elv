
use builtin;
use str;

set edit:completion:arg-completer[sx] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sx'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sx'= {
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand exec 'Resolve the manifest and run a command with the secrets injected'
            cand get 'Print one resolved value (exact bytes; a newline is added only on a terminal)'
            cand export 'Print every manifest entry resolved, for tools that read a file of variables'
            cand check 'Check the manifest and resolve every reference; prints a table, never a value'
            cand ls 'List secret names under a location (names only)'
            cand set 'Write a secret; the value comes from stdin (byte for byte) or --from-file'
            cand rm 'Delete a secret'
            cand init 'Create the local store''s identity and store, and a starter sx.toml'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sx;exec'= {
            cand --timeout 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)'
            cand --refresh 'Re-read every reference this often while the command runs (at least 100ms, e.g. 5m); changes are handled as --on-change says, a failed round keeps the current values; refused with dynamic (leased) Vault secrets'
            cand --on-change 'What a change does. Secret files are replaced atomically either way. `restart`: the command gets SIGTERM (SIGKILL after 10s) and starts again with the new values. `signal:NAME` (e.g. signal:HUP): NAME is sent when a file changed; a changed environment variable cannot reach a running process and is only reported'
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand --env-refs 'Also resolve references found in the values of the current environment (NAME=aws-sm://... becomes NAME=VALUE); works without a manifest'
            cand --clean-env 'Give the command only the manifest''s variables plus PATH, HOME, USER, LANG, TZ, TERM'
            cand --exec 'Replace sx by the command (execve) instead of supervising it; refused when the manifest has file entries'
            cand --allow-disk 'Accept a disk-backed folder ($XDG_RUNTIME_DIR, else /dev/shm) for secret files instead of refusing it (warns)'
            cand --mask 'Replace secret values in the command''s stdout and stderr with *** (values under 4 bytes and plain `value` entries are left alone; the output goes through sx, so the command no longer writes to the terminal directly)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;get'= {
            cand --timeout 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)'
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;export'= {
            cand --format 'Output format'
            cand --timeout 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)'
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;check'= {
            cand --timeout 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)'
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;ls'= {
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;set'= {
            cand --from-file 'Read the value from this file instead of stdin'
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;rm'= {
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand --force 'Delete at once, without the provider''s recovery window (Secrets Manager)'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;init'= {
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand --no-manifest 'Do not write a starter sx.toml in the working directory'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;completions'= {
            cand -f 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand --manifest 'Manifest to read [default: the nearest sx.toml from the working directory upward]'
            cand -p 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --profile 'Profile whose [profiles.NAME.*] tables overlay the base ones'
            cand --log-format 'Log line format; json gives one audit line per resolved reference'
            cand -v 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand --verbose 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
            cand -q 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand --quiet 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sx;help'= {
            cand exec 'Resolve the manifest and run a command with the secrets injected'
            cand get 'Print one resolved value (exact bytes; a newline is added only on a terminal)'
            cand export 'Print every manifest entry resolved, for tools that read a file of variables'
            cand check 'Check the manifest and resolve every reference; prints a table, never a value'
            cand ls 'List secret names under a location (names only)'
            cand set 'Write a secret; the value comes from stdin (byte for byte) or --from-file'
            cand rm 'Delete a secret'
            cand init 'Create the local store''s identity and store, and a starter sx.toml'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sx;help;exec'= {
        }
        &'sx;help;get'= {
        }
        &'sx;help;export'= {
        }
        &'sx;help;check'= {
        }
        &'sx;help;ls'= {
        }
        &'sx;help;set'= {
        }
        &'sx;help;rm'= {
        }
        &'sx;help;init'= {
        }
        &'sx;help;completions'= {
        }
        &'sx;help;help'= {
        }
    ]
    $completions[$command]
}
