#!/usr/bin/env bash
# The embedded labeling editor (the Label Studio frontend build, Apache-2.0): only
#   package/build/static/js/main.js and package/build/static/css/main.css
# into frontend/static/editor/, verified against the pinned hash (scripts/fetch_npm.sh).
#
# Overrides (for upgrades; change both together):
#   EDITOR_VERSION    default 1.4.0 (1.8.0 is broken on the registry)
#   EDITOR_INTEGRITY  default the pinned sha512 SRI string below
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/fetch_npm.sh" editor "@heartexlabs/label-studio" \
  "${EDITOR_VERSION:-1.4.0}" \
  "${EDITOR_INTEGRITY:-sha512-NczF2gDF/Whq7+xI3tYZLrAk8Pq6hacXhYEDmWfHAQIZ0eiieyrMxxHz4KIU7wnagComaGv+QJ2Zc6SBcBmuCg==}" \
  frontend/static/editor package/build/static/js/main.js package/build/static/css/main.css
