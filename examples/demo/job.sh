#!/bin/sh
# The demo job: shows what it received without printing any secret.
set -eu
echo "job: connecting as $DB_USER (password: ${#DB_PASSWORD} bytes)"
echo "job: API token: ${#API_TOKEN} bytes, log level $LOG_LEVEL"
echo "job: TLS key at $TLS_KEY, mode $(stat -c %a "$TLS_KEY"), first line: $(head -n 1 "$TLS_KEY")"
echo "job: done"
