#!/usr/bin/env bash
# make demo: two local agents, each with its own home, walk through what n2n
# does today. Everything lives in a temporary directory removed at the end.
set -euo pipefail
n2n="$(cd "$(dirname "$0")" && pwd)/bin/n2n"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bold=$(tput bold 2>/dev/null || true) reset=$(tput sgr0 2>/dev/null || true)
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$reset"; }
run() { printf '$ n2n %s\n' "$*"; "$n2n" "$@"; }

export N2N_HOME="$work/alice"
say "Alice and Bob each create an identity (unattended homes, no passphrase)"
alice=$("$n2n" init --no-passphrase)
bob=$("$n2n" --home "$work/bob" init --no-passphrase)
echo "alice: $alice"
echo "bob:   $bob"

say "Alice writes a draft to her source chain"
printf '# Octopus camouflage\nChromatophores, iridophores, leucophores.\n' | run commit --type post -

say "Her chain: genesis, then the post"
run chain log

say "Verification re-derives every hash and signature"
run chain verify

say "Bob's chain is his own"
run --home "$work/bob" chain log
