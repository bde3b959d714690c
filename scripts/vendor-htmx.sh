#!/usr/bin/env bash
# Vendor HTMX from the npm registry's `htmx.org` package into the static files, so that the
# running app needs neither npm nor a CDN. The result is committed; run this only to upgrade.
#   scripts/vendor-htmx.sh            # latest 2.x
#   scripts/vendor-htmx.sh 2.0.11     # an exact version
set -euo pipefail
cd "$(dirname "$0")/.."
spec="htmx.org@${1:-2}"
dest=src/rempart/web/ui/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `npm pack` checks the tarball against the registry's integrity hash before writing it.
tarball=$(cd "$work" && npm pack --silent "$spec" | tail -n 1)
tar -xzf "$work/$tarball" -C "$work"
version=$(node -p "require('$work/package/package.json').version")
license=$(node -p "require('$work/package/package.json').license")
integrity=$(cd "$work" && npm view "htmx.org@$version" dist.integrity)

mkdir -p "$dest"
cp "$work/package/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$work/package/LICENSE" "$dest/htmx.LICENSE"
sha=$(sha256sum "$dest/htmx.min.js" | cut -d' ' -f1)

cat >"$dest/README" <<README
Vendored client-side code (served from /static/vendor/, never from a CDN).

htmx.min.js
  package:   htmx.org $version, from the npm registry (npm pack $spec)
  tarball:   $integrity
  file:      dist/htmx.min.js, sha256 $sha
  licence:   $license (text in htmx.LICENSE)
  upgrade:   scripts/vendor-htmx.sh [VERSION], then run the browser tests
README
echo "vendored htmx.org $version ($license) into $dest"
