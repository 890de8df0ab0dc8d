#!/usr/bin/env bash
# Installs what the tests and scripts need beyond the .NET SDK, only when missing. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null; then
  echo "the .NET 10 SDK is required: https://dotnet.microsoft.com/download" >&2
  exit 1
fi

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-tools: need root to apt-get install $*" >&2
    return 1
  fi
  if [ ! -f /tmp/.streaming-apt-updated ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && touch /tmp/.streaming-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v openssl >/dev/null || apt_install openssl
command -v curl >/dev/null || apt_install curl
