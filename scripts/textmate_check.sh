#!/usr/bin/env bash
# The TextMate check (issue 15): installs the extension's npm packages
# (`npm ci` from editors/vscode/package-lock.json) and runs its node checks:
#   test/tokenize.js       every keyword of grammar/procdsl.pest is in the
#                          TextMate grammar and comes out scoped in every
#                          example and every proc block of docs/LANGUAGE.md
#   test/extension_load.js src/extension.js (with a stand-in vscode) starts
#                          `procdsl.path lsp` and completes the LSP handshake
#                          with a stand-in server; with PROCDSL_BIN set (the
#                          Rust test sets it), also with that binary's own
#                          `lsp` once it has one
# Exits non-zero on any failure. Needs node and npm (Debian: nodejs, npm).
#
#   scripts/textmate_check.sh            the checks
#   scripts/textmate_check.sh --package  the checks, then the .vsix (vsce
#                                        needs Node 20 or later)
#
# `npm ci` deletes and reinstalls node_modules, so it runs only when the
# installed tree is not the lockfile's (a copy of the lockfile is kept in
# node_modules as the stamp); PROCDSL_NPM_CI=1 forces it.
set -euo pipefail
cd "$(dirname "$0")/../editors/vscode"

package=false
case "${1:-}" in
  "") ;;
  --package) package=true ;;
  *) echo "usage: scripts/textmate_check.sh [--package]" >&2; exit 2 ;;
esac

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "textmate check: \`$tool\` is not installed (Debian: apt-get install nodejs npm)" >&2
    exit 2
  fi
done

stamp=node_modules/.procdsl-package-lock.json
if [ "${PROCDSL_NPM_CI:-}" = 1 ] || ! cmp -s package-lock.json "$stamp"; then
  # No install scripts: nothing the checks use has one, and vsce's signing
  # helper is not needed to package.
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  cp package-lock.json "$stamp"
fi

node test/tokenize.js
node test/extension_load.js

if $package; then
  npx --no-install vsce package --allow-missing-repository
fi
