#!/usr/bin/env bash
# Builds the self-contained gingr-sync binary.
#   ./build.sh        dist/gingr-sync for this machine
#   ./build.sh all    also dist/gingr-sync-linux-{x64,x64-baseline,arm64}, a copy of install-cron.sh
#                     and dist/sha256sums.txt: dist/ is then the release folder to copy to a server
# GINGR_SYNC_BUILD_DIR (default dist) is where the files go; GINGR_SYNC_BUILD_TARGETS (default
# "linux-x64 linux-x64-baseline linux-arm64"; empty: none) what "all" builds besides this machine's:
# the tests make a release folder elsewhere without downloading the other platforms' runtimes.
set -euo pipefail
cd "$(dirname "$0")"
out=${GINGR_SYNC_BUILD_DIR:-dist}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi

build() { # target outfile
  local target=$1 outfile=$2
  # No automatic .env or bunfig.toml loading: the binary runs from cron in an arbitrary directory and
  # must read only the settings it is given. --bytecode ships the code precompiled: a sync run's
  # start costs about 77 ms of CPU instead of 120 (the test suite runs the binary hundreds of times).
  bun build src/cli.ts --compile --minify --sourcemap --bytecode --format esm \
    --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
    --define "BUILD_COMMIT=\"$commit\"" \
    ${target:+--target "$target"} --outfile "$outfile" >/dev/null
  echo "built $outfile"
}

mkdir -p "$out"

if [ "${1:-}" = "all" ]; then
  read -r -a targets <<<"${GINGR_SYNC_BUILD_TARGETS-linux-x64 linux-x64-baseline linux-arm64}"
  # A release holds only this build: a target left from an earlier one would be picked by
  # install-cron.sh and refused, as sha256sums.txt no longer lists it.
  rm -f "$out"/gingr-sync-linux-* "$out/sha256sums.txt" "$out/install-cron.sh"
  build "" "$out/gingr-sync"
  for target in "${targets[@]}"; do
    build "bun-$target" "$out/gingr-sync-$target"
  done
  # The installer beside the binaries, so the folder installs without a checkout.
  cp install-cron.sh "$out/install-cron.sh"
  files=("${targets[@]/#/gingr-sync-}" install-cron.sh)
  (cd "$out" && sha256sum "${files[@]}" >sha256sums.txt && echo "wrote $out/sha256sums.txt")
else
  build "" "$out/gingr-sync"
fi
