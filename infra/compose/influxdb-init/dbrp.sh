#!/bin/bash
# Run once by the influxdb:2 image after its first-start setup (DOCKER_INFLUXDB_INIT_MODE=setup),
# with the influx CLI already configured with the admin token. The apps speak the v1-compatible
# API (/write, /query with a database name): map that database (CNX_INFLUX_DB, default cnx) to the
# bucket the setup created, as the default retention policy `autogen`. The bucket's retention
# (DOCKER_INFLUXDB_INIT_RETENTION, 90d) is what expires raw readings.
set -euo pipefail
influx v1 dbrp create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --db "${CNX_INFLUX_DB:-cnx}" \
  --rp autogen \
  --default
