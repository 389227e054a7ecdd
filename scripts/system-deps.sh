#!/usr/bin/env bash
# The system services the test suite starts as real processes, and the Debian packages that
# provide them. One list, used by scripts/test.sh and .ci/run.
#   binary            Debian package      used by
SYSTEM_DEPS=(
  "mosquitto:mosquitto"              # MQTT broker for integration and end-to-end tests
  "mosquitto_pub:mosquitto-clients"  # third-party MQTT client used in tests
  "influxd:influxdb"                 # InfluxDB 1.x, the production store's reference server
  "openssl:openssl"                  # makes the CA and certificates of the MQTT TLS tests
  "socat:socat"                      # virtual serial lines (pty pairs) for Modbus RTU tests
  "mbpoll:mbpoll"                    # third-party Modbus master used in tests
  "chromium:chromium"                # headless browser for the dashboard e2e tests (playwright-core)
  "/usr/share/fonts/truetype/tlwg/Garuda.ttf:fonts-thai-tlwg"  # Thai glyphs for the dashboard screenshots
  "docker-compose:docker-compose"    # `docker-compose config` validates infra/compose (test/infra)
  "yamllint:yamllint"                # lints infra/compose and infra/k8s (test/infra)
  "caddy:caddy"                      # `caddy validate` on infra/caddy/Caddyfile (test/infra)
  "systemd-analyze:systemd"          # `systemd-analyze verify` on infra/systemd units (test/infra)
)

missing_system_deps() {
  local entry bin pkg out=()
  for entry in "${SYSTEM_DEPS[@]}"; do
    bin=${entry%%:*}; pkg=${entry#*:}
    if [[ $bin == /* ]]; then [ -e "$bin" ] || out+=("$pkg"); continue; fi  # a file, e.g. a font
    if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ] && [ ! -x "/usr/bin/$bin" ]; then out+=("$pkg"); fi
  done
  echo "${out[@]:-}"
}

# Install what is missing where the machine allows (root + apt-get), else fail naming the packages.
ensure_system_deps() {
  local missing
  missing=$(missing_system_deps)
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages for the tests: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    missing=$(missing_system_deps)
    [ -z "$missing" ] && return 0
  fi
  echo "ERROR: the test suite needs these system packages, which are not installed: $missing" >&2
  echo "Install them (Debian/Ubuntu): sudo apt-get install -y $missing" >&2
  exit 1
}
