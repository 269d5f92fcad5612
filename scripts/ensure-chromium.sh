#!/usr/bin/env bash
# The UI and report tests drive Debian's Chromium headless. Installs it with apt when it is
# missing and this is a root shell on Debian (as CI is); otherwise says what to do. Fast and
# silent when Chromium is already there.
set -euo pipefail
chromium="${PROVENANT_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
if [ -z "${PROVENANT_CHROMIUM:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "installing chromium with apt (needed by the UI and report tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  exit 0
fi
echo "Chromium not found at $chromium: install it (Debian: apt-get install chromium) or set PROVENANT_CHROMIUM" >&2
exit 1
