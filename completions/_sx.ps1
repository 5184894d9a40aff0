
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sx' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sx'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sx' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Resolve the manifest and run a command with the secrets injected')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one resolved value (exact bytes; a newline is added only on a terminal)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print every manifest entry resolved, for tools that read a file of variables')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the manifest and resolve every reference; prints a table, never a value')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List secret names under a location (names only)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Write a secret; the value comes from stdin (byte for byte) or --from-file')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a secret')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the local store''s identity and store, and a starter sx.toml')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sx;exec' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Re-read every reference this often while the command runs (at least 100ms, e.g. 5m); changes are handled as --on-change says, a failed round keeps the current values; refused with dynamic (leased) Vault secrets')
            [CompletionResult]::new('--on-change', '--on-change', [CompletionResultType]::ParameterName, 'What a change does. Secret files are replaced atomically either way. `restart`: the command gets SIGTERM (SIGKILL after 10s) and starts again with the new values. `signal:NAME` (e.g. signal:HUP): NAME is sent when a file changed; a changed environment variable cannot reach a running process and is only reported')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('--env-refs', '--env-refs', [CompletionResultType]::ParameterName, 'Also resolve references found in the values of the current environment (NAME=aws-sm://... becomes NAME=VALUE); works without a manifest')
            [CompletionResult]::new('--clean-env', '--clean-env', [CompletionResultType]::ParameterName, 'Give the command only the manifest''s variables plus PATH, HOME, USER, LANG, TZ, TERM')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Replace sx by the command (execve) instead of supervising it; refused when the manifest has file entries')
            [CompletionResult]::new('--allow-disk', '--allow-disk', [CompletionResultType]::ParameterName, 'Accept a disk-backed folder ($XDG_RUNTIME_DIR, else /dev/shm) for secret files instead of refusing it (warns)')
            [CompletionResult]::new('--mask', '--mask', [CompletionResultType]::ParameterName, 'Replace secret values in the command''s stdout and stderr with *** (values under 4 bytes and plain `value` entries are left alone; the output goes through sx, so the command no longer writes to the terminal directly)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;get' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;export' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;check' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for resolving every reference (e.g. 30s, 500ms, 2m)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;ls' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;set' {
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read the value from this file instead of stdin')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;rm' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Delete at once, without the provider''s recovery window (Secrets Manager)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;init' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('--no-manifest', '--no-manifest', [CompletionResultType]::ParameterName, 'Do not write a starter sx.toml in the working directory')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;completions' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'Manifest to read [default: the nearest sx.toml from the working directory upward]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile whose [profiles.NAME.*] tables overlay the base ones')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log line format; json gives one audit line per resolved reference')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More log output on stderr (-v info, -vv debug, -vvv trace); values are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr (with --log-format json, the audit lines too: they are its point)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sx;help' {
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Resolve the manifest and run a command with the secrets injected')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one resolved value (exact bytes; a newline is added only on a terminal)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print every manifest entry resolved, for tools that read a file of variables')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the manifest and resolve every reference; prints a table, never a value')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List secret names under a location (names only)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Write a secret; the value comes from stdin (byte for byte) or --from-file')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a secret')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the local store''s identity and store, and a starter sx.toml')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sx;help;exec' {
            break
        }
        'sx;help;get' {
            break
        }
        'sx;help;export' {
            break
        }
        'sx;help;check' {
            break
        }
        'sx;help;ls' {
            break
        }
        'sx;help;set' {
            break
        }
        'sx;help;rm' {
            break
        }
        'sx;help;init' {
            break
        }
        'sx;help;completions' {
            break
        }
        'sx;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
