#!/usr/bin/env bash
# Chart.js (the quality page's charts): only package/dist/chart.umd.min.js into
# frontend/static/vendor/, verified against the pinned hash (scripts/fetch_npm.sh).
#
# Overrides (for upgrades; change both together):
#   CHARTJS_VERSION    default 4.6.1
#   CHARTJS_INTEGRITY  default the pinned sha512 SRI string below
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/fetch_npm.sh" chartjs chart.js \
  "${CHARTJS_VERSION:-4.6.1}" \
  "${CHARTJS_INTEGRITY:-sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g==}" \
  frontend/static/vendor package/dist/chart.umd.min.js
