#!/usr/bin/env bash
# Browser tests need Debian's chromium: Playwright's own browser download cannot work offline (the playwright
# Python package comes from uv.lock). Idempotent: does nothing that is already done. Run as root on CI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
fi
