#!/usr/bin/env bash
# Fuzzes a real server with schemathesis: `run.sh DATABASE_URL`. Starts `securescore serve
# --demo` on the database, mints a platform admin's and the demo tenant's GlobalAdmin's tokens,
# runs test_graphql.py in a virtual environment it creates, and stops the server.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${SECURESCORE_BIN:-$here/../../target/debug/securescore}"
database_url="$1"
venv="${SECURESCORE_FUZZ_VENV:-$here/../../target/fuzz-venv}"

if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

secret="fuzz-secret-$(date +%s%N)"
log="$(mktemp)"
# Port 0: the system picks a free port (a guessed one may be taken); the log names it.
"$binary" serve --demo --bind "127.0.0.1:0" --database-url "$database_url" \
  --jwt-secret "$secret" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
address=""
for _ in $(seq 1 1500); do
  address="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'securescore listening.*address=[0-9.:]*' | sed 's/.*address=//' || true)"
  [ -n "$address" ] && curl -fs "http://$address/readyz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.2
done
[ -n "$address" ] && curl -fs "http://$address/readyz" >/dev/null || { echo "the server did not become ready" >&2; tail -50 "$log"; exit 1; }

export SECURESCORE_URL="http://$address"
SECURESCORE_PLATFORM_TOKEN="$("$binary" token --role platform-admin --jwt-secret "$secret")"
SECURESCORE_TENANT_TOKEN="$("$binary" token --role global-admin --tenant contoso --jwt-secret "$secret")"
export SECURESCORE_PLATFORM_TOKEN SECURESCORE_TENANT_TOKEN
status=0
(cd "$here" && "$venv/bin/pytest" -q -p no:cacheprovider test_graphql.py) || status=$?
if grep -q "panicked" "$log"; then
  echo "the server panicked:" >&2
  grep -A5 "panicked" "$log" >&2
  status=1
fi
exit "$status"
