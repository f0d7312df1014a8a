#!/usr/bin/env bash
# Installs what the tests need beyond Go, when it is missing: Debian packages with apt-get
# (as root) and npm packages with `npm ci` from the committed lock file. When it cannot
# install something, it names what is missing and how to get it, and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(python3-boto3 python3-botocore chromium)
missing=()
/usr/bin/python3 -c 'import boto3, botocore' 2>/dev/null || missing+=(python3-boto3 python3-botocore)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: install them with: sudo apt-get install ${apt_packages[*]}" >&2
    exit 1
  fi
fi

if [ -f package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "deps: npm is missing: install Node.js 20+ (Debian: sudo apt-get install nodejs npm), then run make test again" >&2
    exit 1
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "deps: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
