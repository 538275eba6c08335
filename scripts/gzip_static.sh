#!/usr/bin/env bash
# Writes a gzip copy (NAME.gz, level 9, no name or time in it, so the same bytes every
# run) beside each compressible file of a fetched static folder, and drops copies whose
# file is gone. WhiteNoise serves NAME.gz for NAME to a browser that accepts gzip (it
# looks for the sibling whether the file comes from collectstatic or from the app's
# static folder), so the editors (7 MB of JavaScript, CSS, WebAssembly and fonts for
# 1.23) go over the wire at about a quarter of that without compressing per request.
#
#   scripts/gzip_static.sh DIR...
#
# Idempotent: a copy newer than its file is kept.
set -euo pipefail
for dir in "$@"; do
  [[ -d "$dir" ]] || continue
  while IFS= read -r -d '' file; do
    [[ -f "$file.gz" && "$file.gz" -nt "$file" ]] && continue
    gzip -9 -n -c "$file" >"$file.gz.tmp" && mv -f "$file.gz.tmp" "$file.gz"
  done < <(find "$dir" -type f \( -name '*.js' -o -name '*.css' -o -name '*.wasm' -o -name '*.ttf' -o -name '*.map' \) -print0)
  while IFS= read -r -d '' copy; do
    [[ -f "${copy%.gz}" ]] || rm -f "$copy"
  done < <(find "$dir" -type f -name '*.gz' -print0)
done
