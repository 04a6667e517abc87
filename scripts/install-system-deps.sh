#!/bin/bash
# Installs the system packages needed to build Postdesk (Debian 12, run as root).
# Idempotent: when every package is already installed it does nothing and never touches apt.
set -euo pipefail

packages=(libsqlite3-dev libxml2-dev zlib1g-dev libssl-dev)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-system-deps: all build dependencies already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-system-deps: missing ${missing[*]}; run this script as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-system-deps: installing ${missing[*]}"
# A fresh image may have no package lists at all; refresh once, and only when needed.
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
