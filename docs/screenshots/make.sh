#!/usr/bin/env bash
# Re-makes the console's screenshots in this directory from the demo (made-up counties on
# loopback), logged in as the demo's admin and as 龙川县's user, in headless Chromium driven by
# chromedriver.
#
#   docs/screenshots/make.sh
#
# Needs chromium and chromium-driver (Debian packages) and a Chinese font (fonts-wqy-microhei).
set -euo pipefail
need() { command -v "$1" >/dev/null 2>&1 || { echo "missing $1: apt-get install $2" >&2; exit 1; }; }
need chromium chromium
need chromedriver chromium-driver
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
cargo run -q -p xunjian-tests --bin xunjian-screenshots -- --out "$here"
