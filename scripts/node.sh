#!/usr/bin/env bash
# Prints the bin directory of a real Node.js <major> (default 24) from the npm registry's package
# `node`, installing it once under LIVESCOPE_HOME (about 12-15 s). CI puts it first on PATH:
#   export PATH="$(bash scripts/node.sh 24):$PATH"
set -euo pipefail
major=${1:-24}
case "$major" in ''|*[!0-9]*) echo "scripts/node.sh: expected a Node.js major version, got '$major'" >&2; exit 2 ;; esac
home=${LIVESCOPE_HOME:-$HOME/.cache/livescope}
dir=$home/node$major
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  mkdir -p "$dir"
  # The package's install script downloads the binary; npm 11 runs it only when allowed here.
  printf '{ "name": "livescope-node%s", "version": "1.0.0", "private": true, "allowScripts": { "node": true } }\n' "$major" >"$dir/package.json"
  (cd "$dir" && npm install "node@$major" --no-audit --no-fund --silent) >&2
fi
got=$("$dir/node_modules/.bin/node" --version)
case "$got" in "v$major".*) ;; *) echo "scripts/node.sh: $dir holds Node $got, not $major" >&2; exit 1 ;; esac
echo "$dir/node_modules/.bin"
