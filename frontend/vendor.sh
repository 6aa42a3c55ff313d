#!/usr/bin/env bash
# Copies the locked front-end packages into static/vendor, where the app serves them itself
# (the platform runs on closed intranets: no CDN). Run through `make vendor` after changing
# package.json; commit package-lock.json and static/vendor together.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../static/vendor
rm -rf "$out" && mkdir -p "$out"/{bootstrap,htmx,echarts,bootstrap-icons}
cp node_modules/bootstrap/dist/css/bootstrap.min.css "$out/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$out/bootstrap/"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx/"
cp node_modules/echarts/dist/echarts.min.js "$out/echarts/"
# Not the icon font: only the icons in use, as one small stylesheet of SVG masks.
python3 ../tools/build_icons.py
# The source maps are not shipped: drop the comments naming them, or the production
# collectstatic (hashed names) fails on the missing .map files.
sed -i '/sourceMappingURL=/d' "$out/bootstrap/bootstrap.min.css" "$out/bootstrap/bootstrap.bundle.min.js"
for p in bootstrap bootstrap-icons echarts htmx.org; do
  cp "node_modules/$p/LICENSE" "$out/LICENSE.$p" 2>/dev/null || true
done
# The manifest ties the copied files to the lock file; tests/test_static.py checks they agree.
node -e '
const lock = require("./package-lock.json");
const names = ["bootstrap", "bootstrap-icons", "echarts", "htmx.org"];
const out = {};
for (const n of names) out[n] = lock.packages["node_modules/" + n].version;
process.stdout.write(JSON.stringify(out, null, 2) + "\n");
' > "$out/MANIFEST.json"
echo "vendored: $(tr -d '\n ' < "$out/MANIFEST.json")"
