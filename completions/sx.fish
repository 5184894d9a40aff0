# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sx_global_optspecs
    string join \n f/manifest= p/profile= v/verbose q/quiet log-format= h/help V/version
end

function __fish_sx_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sx_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sx_using_subcommand
    set -l cmd (__fish_sx_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sx -n "__fish_sx_needs_command" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_needs_command" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_needs_command" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_needs_command" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_needs_command" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sx -n "__fish_sx_needs_command" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_needs_command" -f -a "exec" -d 'Resolve the manifest and run a command with the secrets injected'
complete -c sx -n "__fish_sx_needs_command" -f -a "get" -d 'Print one resolved value (exact bytes; a newline is added only on a terminal)'
complete -c sx -n "__fish_sx_needs_command" -f -a "export" -d 'Print every manifest entry resolved, for tools that read a file of variables'
complete -c sx -n "__fish_sx_needs_command" -f -a "check" -d 'Check the manifest and resolve every reference; prints a table, never a value'
complete -c sx -n "__fish_sx_needs_command" -f -a "ls" -d 'List secret names under a location (names only)'
complete -c sx -n "__fish_sx_needs_command" -f -a "set" -d 'Write a secret; the value comes from stdin (byte for byte) or --from-file'
complete -c sx -n "__fish_sx_needs_command" -f -a "rm" -d 'Delete a secret'
complete -c sx -n "__fish_sx_needs_command" -f -a "init" -d 'Create the local store\'s identity and store, and a starter sx.toml'
complete -c sx -n "__fish_sx_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c sx -n "__fish_sx_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sx -n "__fish_sx_using_subcommand exec" -l timeout -d 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)' -r
complete -c sx -n "__fish_sx_using_subcommand exec" -l refresh -d 'Re-read every reference this often while the command runs (at least 100ms, e.g. 5m); changes are handled as --on-change says, a failed round keeps the current values; refused with dynamic (leased) Vault secrets' -r
complete -c sx -n "__fish_sx_using_subcommand exec" -l on-change -d 'What a change does. Secret files are replaced atomically either way. `restart`: the command gets SIGTERM (SIGKILL after 10s) and starts again with the new values. `signal:NAME` (e.g. signal:HUP): NAME is sent when a file changed; a changed environment variable cannot reach a running process and is only reported' -r
complete -c sx -n "__fish_sx_using_subcommand exec" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand exec" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand exec" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand exec" -l env-refs -d 'Also resolve references found in the values of the current environment (NAME=aws-sm://... becomes NAME=VALUE); works without a manifest'
complete -c sx -n "__fish_sx_using_subcommand exec" -l clean-env -d 'Give the command only the manifest\'s variables plus PATH, HOME, USER, LANG, TZ, TERM'
complete -c sx -n "__fish_sx_using_subcommand exec" -l exec -d 'Replace sx by the command (execve) instead of supervising it; refused when the manifest has file entries'
complete -c sx -n "__fish_sx_using_subcommand exec" -l allow-disk -d 'Accept a disk-backed folder ($XDG_RUNTIME_DIR, else /dev/shm) for secret files instead of refusing it (warns)'
complete -c sx -n "__fish_sx_using_subcommand exec" -l mask -d 'Replace secret values in the command\'s stdout and stderr with *** (values under 4 bytes and plain `value` entries are left alone; the output goes through sx, so the command no longer writes to the terminal directly)'
complete -c sx -n "__fish_sx_using_subcommand exec" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand exec" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand exec" -s h -l help -d 'Print help'
complete -c sx -n "__fish_sx_using_subcommand exec" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand get" -l timeout -d 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)' -r
complete -c sx -n "__fish_sx_using_subcommand get" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand get" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand get" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand get" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand get" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand get" -s h -l help -d 'Print help'
complete -c sx -n "__fish_sx_using_subcommand get" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand export" -l format -d 'Output format' -r -f -a "dotenv\t'NAME=\'value\' lines for .env files: literal, with \\\' and \\\\ the only escapes'
shell\t'export NAME=\'value\' lines for `eval`'
json\t'one JSON object'
github\t'GitHub Actions: ::add-mask:: lines on stdout, then NAME<<EOF blocks for $GITHUB_ENV'
gitlab\t'GitLab dotenv report (single-line values)'"
complete -c sx -n "__fish_sx_using_subcommand export" -l timeout -d 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)' -r
complete -c sx -n "__fish_sx_using_subcommand export" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand export" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand export" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand export" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand export" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sx -n "__fish_sx_using_subcommand export" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand check" -l timeout -d 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)' -r
complete -c sx -n "__fish_sx_using_subcommand check" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand check" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand check" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand check" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand check" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand check" -s h -l help -d 'Print help'
complete -c sx -n "__fish_sx_using_subcommand check" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand ls" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand ls" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand ls" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand ls" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand ls" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand ls" -s h -l help -d 'Print help'
complete -c sx -n "__fish_sx_using_subcommand ls" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand set" -l from-file -d 'Read the value from this file instead of stdin' -r -F
complete -c sx -n "__fish_sx_using_subcommand set" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand set" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand set" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand set" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand set" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand set" -s h -l help -d 'Print help'
complete -c sx -n "__fish_sx_using_subcommand set" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand rm" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand rm" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand rm" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand rm" -l force -d 'Delete at once, without the provider\'s recovery window (Secrets Manager)'
complete -c sx -n "__fish_sx_using_subcommand rm" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand rm" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand rm" -s h -l help -d 'Print help'
complete -c sx -n "__fish_sx_using_subcommand rm" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand init" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand init" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand init" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand init" -l no-manifest -d 'Do not write a starter sx.toml in the working directory'
complete -c sx -n "__fish_sx_using_subcommand init" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand init" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand init" -s h -l help -d 'Print help'
complete -c sx -n "__fish_sx_using_subcommand init" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand completions" -s f -l manifest -d 'Manifest to read [default: the nearest sx.toml from the working directory upward]' -r -F
complete -c sx -n "__fish_sx_using_subcommand completions" -s p -l profile -d 'Profile whose [profiles.NAME.*] tables overlay the base ones' -r
complete -c sx -n "__fish_sx_using_subcommand completions" -l log-format -d 'Log line format; json gives one audit line per resolved reference' -r -f -a "text\t''
json\t''"
complete -c sx -n "__fish_sx_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged'
complete -c sx -n "__fish_sx_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)'
complete -c sx -n "__fish_sx_using_subcommand completions" -s h -l help -d 'Print help'
complete -c sx -n "__fish_sx_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "exec" -d 'Resolve the manifest and run a command with the secrets injected'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "get" -d 'Print one resolved value (exact bytes; a newline is added only on a terminal)'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "export" -d 'Print every manifest entry resolved, for tools that read a file of variables'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "check" -d 'Check the manifest and resolve every reference; prints a table, never a value'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "ls" -d 'List secret names under a location (names only)'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "set" -d 'Write a secret; the value comes from stdin (byte for byte) or --from-file'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "rm" -d 'Delete a secret'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "init" -d 'Create the local store\'s identity and store, and a starter sx.toml'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c sx -n "__fish_sx_using_subcommand help; and not __fish_seen_subcommand_from exec get export check ls set rm init completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
