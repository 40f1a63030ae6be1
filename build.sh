#!/usr/bin/env bash
# Builds the self-contained gingr-sync binary.
#   ./build.sh        dist/gingr-sync for this machine
#   ./build.sh all    also dist/gingr-sync-linux-{x64,x64-baseline,arm64} and dist/sha256sums.txt
set -euo pipefail
cd "$(dirname "$0")"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi

build() { # target outfile
  local target=$1 outfile=$2
  # No automatic .env or bunfig.toml loading: the binary runs from cron in an arbitrary directory and
  # must read only the settings it is given.
  bun build src/cli.ts --compile --minify --sourcemap \
    --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
    --define "BUILD_COMMIT=\"$commit\"" \
    ${target:+--target "$target"} --outfile "$outfile" >/dev/null
  echo "built $outfile"
}

mkdir -p dist
build "" dist/gingr-sync

if [ "${1:-}" = "all" ]; then
  targets=(linux-x64 linux-x64-baseline linux-arm64)
  for target in "${targets[@]}"; do
    build "bun-$target" "dist/gingr-sync-$target"
  done
  (cd dist && sha256sum "${targets[@]/#/gingr-sync-}" > sha256sums.txt && echo "wrote dist/sha256sums.txt")
fi
