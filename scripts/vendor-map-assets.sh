#!/usr/bin/env bash
# Re-does the vendoring of the map page's JavaScript libraries into resources/vendor/.
#
# The output is committed: this script never runs at install or run time, and the map page
# makes no network request (control-room networks are often closed). Run it by hand when a
# library is upgraded, check the diff, update resources/vendor/SOURCES.md, commit.
#
# Packages come from the npm registry through `npm pack` (the ordinary client), by exact
# version, and npm checks each tarball against the registry's integrity hash.
set -euo pipefail
cd "$(dirname "$0")/.."

LEAFLET_VERSION=1.9.4
VENDOR=resources/vendor

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "vendor: npm pack leaflet@$LEAFLET_VERSION"
(cd "$work" && npm pack --silent "leaflet@$LEAFLET_VERSION" >/dev/null)
tar -xzf "$work/leaflet-$LEAFLET_VERSION.tgz" -C "$work"

dest=$VENDOR/leaflet-$LEAFLET_VERSION
rm -rf "$dest"
mkdir -p "$dest/images"
cp "$work/package/dist/leaflet.js" "$work/package/dist/leaflet.css" "$dest/"
cp "$work/package/dist/images/"*.png "$dest/images/"
cp "$work/package/LICENSE" "$dest/LICENSE"
# leaflet.js ends with a sourceMappingURL comment; the map file is for debugging only and is
# not shipped, so drop the comment too (DevTools would otherwise look for the missing file).
sed -i '/^\/\/# sourceMappingURL=/d' "$dest/leaflet.js"

echo "vendor: wrote $dest"
(cd "$dest" && sha256sum leaflet.js leaflet.css images/*.png LICENSE)
