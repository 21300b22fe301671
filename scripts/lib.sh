#!/usr/bin/env bash
# shellcheck shell=bash
#
# Shared helpers for scripts/run-app and scripts/test-all.
#
# Source it from a script:   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Or run it directly to prepare a machine without building anything else:
#   ./scripts/lib.sh                          # Debian packages + tauri-driver + UI build
#   ./scripts/lib.sh need_debian_packages     # just one of the steps
#
# Every need_* function is idempotent, and fast when everything is present already.

LOKET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LOKET_ROOT

# tauri-driver 2.1.0 is the newest stable release (3.0.0-alpha.1 exists); STACK.md measured 2.1.0.
TAURI_DRIVER_VERSION="2.1.0"

# Where `cargo build` puts binaries (honours CARGO_TARGET_DIR, relative to the repo root).
loket_target_dir() {
    local dir="${CARGO_TARGET_DIR:-target}"
    case "$dir" in
        /*) printf '%s\n' "$dir" ;;
        *) printf '%s\n' "$LOKET_ROOT/$dir" ;;
    esac
}

# `cargo install` puts tauri-driver here; make sure it is found.
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in
    *":$CARGO_BIN_DIR:"*) ;;
    *) PATH="$CARGO_BIN_DIR:$PATH" ;;
esac
export PATH

say() { printf '[loket] %s\n' "$*" >&2; }
warn() { printf '[loket] WARNING: %s\n' "$*" >&2; }
die() {
    printf '[loket] ERROR: %s\n' "$*" >&2
    exit 1
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' and sudo is not installed; run this script as root or install the packages yourself"
    fi
}

# apt-get that waits for the dpkg lock (another apt may be running) and retries a lock race.
apt_get() {
    local attempt
    for attempt in 1 2 3; do
        if as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 "$@"; then
            return 0
        fi
        if [ "$attempt" -lt 3 ]; then
            warn "apt-get $1 failed (attempt $attempt of 3); retrying in 15 s (another apt/dpkg may hold the lock)"
            sleep 15
        fi
    done
    return 1
}

# Debian packages the project needs, with the reason for each.
declare -A LOKET_PACKAGE_REASON=(
    [build-essential]="C compiler and linker for Rust -sys crates (Tauri build)"
    [pkg-config]="locates system libraries for the Tauri build"
    [libssl-dev]="OpenSSL headers (Tauri build; libcrypto for SQLCipher)"
    [libwebkit2gtk-4.1-dev]="WebKitGTK 4.1 + GTK 3 headers (Tauri build)"
    [librsvg2-dev]="SVG icons (Tauri build)"
    [curl]="health checks in scripts/run-app"
    [xvfb]="virtual X screen for the real-window end-to-end test and headless run-app"
    [xauth]="xvfb-run needs it"
    [webkit2gtk-driver]="WebKitWebDriver, driven by tauri-driver (real-window e2e)"
    [chromium]="headless browser for the back-office page e2e"
    [chromium-driver]="chromedriver for the back-office page e2e"
    [poppler-utils]="pdftotext/pdftoppm for PDF checks in tests"
    [zbar-tools]="zbarimg, an independent QR decoder for tests"
    [python3-cryptography]="independent Ed25519 check of QR signatures (crates/loket-qr/tests/independent.rs)"
    [fonts-dejavu-core]="fonts for rendering in WebKit/Chromium"
    [nodejs]="builds the UI (only installed when node is missing)"
    [npm]="builds the UI (only installed when node is missing)"
)
# What ./scripts/run-app needs: the Tauri build, curl, and Xvfb for a headless window.
LOKET_APP_PACKAGES=(
    build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev librsvg2-dev curl
    xvfb xauth fonts-dejavu-core
)
# What ./scripts/test-all needs on top: the WebDriver servers and the PDF/QR tools.
LOKET_PACKAGES=(
    "${LOKET_APP_PACKAGES[@]}"
    webkit2gtk-driver
    chromium chromium-driver
    poppler-utils zbar-tools python3-cryptography
)

# need_debian_packages [PACKAGE...] — install the missing ones (default: everything test-all needs).
# nodejs and npm are added only when node is missing (an existing Node.js is never replaced).
need_debian_packages() {
    local packages=("$@") missing=() pkg status
    if [ "${#packages[@]}" -eq 0 ]; then
        packages=("${LOKET_PACKAGES[@]}")
    fi
    if ! command -v node >/dev/null 2>&1; then
        say "node is not installed: adding Debian's nodejs and npm"
        packages+=(nodejs npm)
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        warn "dpkg-query not found: not a Debian system, skipping the package check. Install these yourself: ${packages[*]}"
        return 0
    fi
    say "Checking ${#packages[@]} Debian packages"
    for pkg in "${packages[@]}"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        if [ "$status" != "install ok installed" ]; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "All Debian packages are installed"
        return 0
    fi
    say "Missing Debian packages:"
    for pkg in "${missing[@]}"; do
        say "  - $pkg: ${LOKET_PACKAGE_REASON[$pkg]:-needed by Loket}"
    done
    say "Running apt-get update (once)"
    apt_get update || die "apt-get update failed"
    say "Installing: ${missing[*]}"
    apt_get install -y --no-install-recommends "${missing[@]}" || die "apt-get install failed for: ${missing[*]}"
    say "Installed ${#missing[@]} Debian packages"
}

# The tauri-driver version installed, or nothing. 2.1.0 has no --version flag, so fall back
# to cargo's own record of what it installed.
tauri_driver_installed_version() {
    command -v tauri-driver >/dev/null 2>&1 || return 0
    local out
    out="$(tauri-driver --version 2>/dev/null || true)"
    if [[ "$out" =~ ([0-9]+\.[0-9]+\.[0-9]+[^[:space:]]*) ]]; then
        printf '%s\n' "${BASH_REMATCH[1]}"
        return 0
    fi
    cargo install --list 2>/dev/null | sed -n 's/^tauri-driver v\([^:]*\):$/\1/p'
}

# need_tauri_driver — cargo install the pinned tauri-driver unless it is there already.
need_tauri_driver() {
    command -v cargo >/dev/null 2>&1 || die "cargo is not installed: install Rust with rustup (https://rustup.rs)"
    local have
    have="$(tauri_driver_installed_version)"
    if [ "$have" = "$TAURI_DRIVER_VERSION" ]; then
        say "tauri-driver $have is installed ($(command -v tauri-driver))"
        return 0
    fi
    say "Installing tauri-driver $TAURI_DRIVER_VERSION (found: ${have:-none}) with cargo install — about 1-2 minutes"
    cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION" ||
        die "cargo install tauri-driver failed"
    command -v tauri-driver >/dev/null 2>&1 || die "tauri-driver was installed but is not on PATH (expected in $CARGO_BIN_DIR)"
}

# need_ui — npm ci when node_modules is missing or older than the lock file, then npm run build.
need_ui() {
    local ui="$LOKET_ROOT/ui"
    command -v npm >/dev/null 2>&1 || die "npm is not installed (run need_debian_packages, or install Node.js 20+)"
    [ -f "$ui/package.json" ] || die "ui/package.json is missing"
    [ -f "$ui/package-lock.json" ] || die "ui/package-lock.json is missing: run 'npm install' in ui/ and commit the lock file"
    local why=""
    if [ ! -d "$ui/node_modules" ]; then
        why="ui/node_modules is missing"
    elif [ "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]; then
        why="ui/package-lock.json is newer than ui/node_modules"
    fi
    if [ -n "$why" ]; then
        say "Installing UI dependencies: npm ci ($why)"
        (cd "$ui" && npm ci --no-audit --no-fund) || die "npm ci failed in ui/"
    else
        say "UI dependencies are up to date (ui/node_modules matches ui/package-lock.json)"
    fi
    ui_build
}

ui_build() {
    local ui="$LOKET_ROOT/ui"
    say "Building the UI: npm run build (ui/ -> ui/dist)"
    (cd "$ui" && npm run build) || die "npm run build failed in ui/"
    [ -f "$ui/dist/index.html" ] || die "npm run build finished but ui/dist/index.html is missing"
}

# Run directly: ./scripts/lib.sh [function...]
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    if [ "$#" -eq 0 ]; then
        set -- need_debian_packages need_tauri_driver need_ui
    fi
    for fn in "$@"; do
        case "$fn" in
            need_debian_packages | need_tauri_driver | need_ui) "$fn" ;;
            *) die "unknown step '$fn' (use need_debian_packages, need_tauri_driver or need_ui)" ;;
        esac
    done
fi
