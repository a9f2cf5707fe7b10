#!/usr/bin/env bash
# Installs what the test suite runs against, when it is missing: PostgreSQL (Debian's package)
# for the event store's scale-out backend. The tests start and stop their own servers.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL is missing: run 'sudo apt-get update && sudo apt-get install -y postgresql', then 'make test' again" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
