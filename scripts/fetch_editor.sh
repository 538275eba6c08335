#!/usr/bin/env bash
# The embedded labeling editor (the Label Studio frontend build, Apache-2.0): only
#   package/build/static/js/main.js and package/build/static/css/main.css
# into frontend/static/editor/VERSION/, verified against the pinned hash
# (scripts/fetch_npm.sh), each with a gzip copy (scripts/gzip_static.sh); the version in
# the folder's name lets the files be served as immutable (see fetch_editor_ls.sh).
#
# Overrides (for upgrades; change both together, and LABELHUB_EDITOR_FILES in
# labelhub/settings.py):
#   EDITOR_VERSION    default 1.4.0 (1.8.0 is broken on the registry)
#   EDITOR_INTEGRITY  default the pinned sha512 SRI string below
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="${EDITOR_VERSION:-1.4.0}"
# the unversioned layout of earlier checkouts (frontend/static/editor/main.*) is not served
rm -f "$HERE/../frontend/static/editor/main.js" "$HERE/../frontend/static/editor/main.css" \
  "$HERE/../frontend/static/editor/.editor-stamp"
bash "$HERE/fetch_npm.sh" editor "@heartexlabs/label-studio" "$VERSION" \
  "${EDITOR_INTEGRITY:-sha512-NczF2gDF/Whq7+xI3tYZLrAk8Pq6hacXhYEDmWfHAQIZ0eiieyrMxxHz4KIU7wnagComaGv+QJ2Zc6SBcBmuCg==}" \
  "frontend/static/editor/$VERSION" package/build/static/js/main.js package/build/static/css/main.css
bash "$HERE/gzip_static.sh" "$HERE/../frontend/static/editor/$VERSION"
