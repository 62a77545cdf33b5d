#!/usr/bin/env bash
# Browser tests need Debian's chromium (Playwright's own browser download cannot work offline) and the
# playwright Python package in the venv. Idempotent: does nothing that is already done. Run as root on CI.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PEERBRIDGE_VENV:-.venv}"
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
fi
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c "import playwright" >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip install --quiet playwright
fi
