#!/usr/bin/env bash
# make demo: the seed's story with two local agents. Alice, an authority on
# octopi, lets Bob, her ghost writer, publish posts under her name; then
# takes the permission back. Everything lives in a temporary directory and
# both daemons are stopped at the end.
set -euo pipefail
n2n="$(cd "$(dirname "$0")" && pwd)/bin/n2n"
work=$(mktemp -d)
cleanup() {
  "$n2n" --home "$work/alice" stop 2>/dev/null || true
  "$n2n" --home "$work/bob" stop 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
bold=$(tput bold 2>/dev/null || true) reset=$(tput sgr0 2>/dev/null || true)
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$reset"; }
alice() { printf '%s$ n2n %s%s\n' "$bold" "$*" "$reset" | sed 's/^/alice /'; "$n2n" --home "$work/alice" "$@"; }
bob() { printf '%s$ n2n %s%s\n' "$bold" "$*" "$reset" | sed 's/^/bob   /'; "$n2n" --home "$work/bob" "$@"; }

say "Alice and Bob each create an identity (unattended homes: no passphrase)"
A=$(alice init --no-passphrase | tail -1)
B=$(bob init --no-passphrase | tail -1)
echo "Alice is $A"
echo "Bob   is $B"

say "Alice's publish_post function writes the post to her own chain and replies with its hash"
mkdir -p "$work/alice/functions"
cat > "$work/alice/functions/publish_post" <<'FN'
#!/bin/sh
# Runs as Alice, in her daemon: n2n here writes to her chain.
set -e
hashes=$(n2n commit --type post -)
printf '%s\n' "${hashes%%	*}"
FN
chmod 755 "$work/alice/functions/publish_post"
cat "$work/alice/functions/publish_post"

say "Both run their conductor on this machine; Bob finds Alice through her DHT node"
alice serve --detach --listen /ip4/127.0.0.1/tcp/0 --addr-file "$work/alice.addr"
bob --bootstrap "$(head -1 "$work/alice.addr")" serve --detach --listen /ip4/127.0.0.1/tcp/0 --addr-file "$work/bob.addr"
alice peers add "$B" "$(head -1 "$work/bob.addr")"

say "Alice grants Bob publish_post, and delivers the claim to him directly"
alice grant --assigned "$B" --tag "write octopus camouflage articles for Alice" --deliver publish_post
GRANT=$("$n2n" --home "$work/alice" grants | cut -f1)

say "Bob sees who granted him what, and why"
bob claims
CLAIM=$("$n2n" --home "$work/bob" claims | cut -f1)

say "Bob publishes his draft as Alice"
printf '# Octopus camouflage\nChromatophores, iridophores and leucophores let an octopus vanish.\n' > "$work/draft.md"
bob call --claim "${CLAIM:0:17}" publish_post - < "$work/draft.md"

say "The post is on Alice's chain, authored by Alice; her audit log shows Bob's call"
alice chain log
alice audit

say "Alice revokes; Bob's next call is refused (exit 7)"
alice revoke "${GRANT:0:17}"
set +e
bob call --claim "${CLAIM:0:17}" publish_post - < "$work/draft.md"
echo "exit status $?"
set -e

say "Both chains still verify"
alice chain verify
bob chain verify
