#!/usr/bin/env bash
# Installs what the test suite runs against, when it is missing: PostgreSQL (Debian's package)
# for the event store's scale-out backend; Chromium, its driver and a CJK font for the console's
# browser tests (tests/console). The tests start and stop their own servers and browsers.
set -euo pipefail
missing=()
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  missing+=(postgresql)
fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fc-list ':lang=zh' 2>/dev/null | grep -q . || missing+=(fonts-wqy-zenhei)  # the console's 中文 pages in screenshots
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]}: run 'sudo apt-get update && sudo apt-get install -y ${missing[*]}', then 'make test' again" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
