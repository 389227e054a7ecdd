#!/usr/bin/env bash
# Adds a device's broker account to Mosquitto's password file, or replaces its password (--rotate).
#
#   infra/mosquitto/add-device.sh [--rotate] [--passwd FILE] [--acl FILE] <device-id>
#
# The username is the device id of the city pack (cities/<city>/devices.json). The password is
# random (openssl rand, 32 characters) unless CNX_DEVICE_PASSWORD is set; it is printed on standard
# output, once, and stored only as a hash (mosquitto_passwd, Debian package `mosquitto`). Put it in the
# device's configuration, then make the broker read the file again: `systemctl reload mosquitto`.
#
# The device's ACL entry is the `pattern` block of the ACL file, one rule for every device (%u = the
# username = the device id): this script checks that the ACL file has it, and writes no per-device
# line. Ids starting with `cnx-` are refused: that prefix names the service accounts (gateway, API,
# alerts, ops). Exit codes: 0 done, 2 usage, 3 the account exists (or not, with --rotate), 4 the ACL
# lacks the device rules.
set -euo pipefail

passwd_file=/etc/mosquitto/cnx/passwd
acl_file=/etc/mosquitto/cnx/acl
rotate=false
usage() {
  echo "usage: $0 [--rotate] [--passwd FILE] [--acl FILE] <device-id>" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --rotate) rotate=true; shift ;;
    --passwd) [ $# -ge 2 ] || usage; passwd_file=$2; shift 2 ;;
    --acl) [ $# -ge 2 ] || usage; acl_file=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || usage
device=$1

# The city pack's id rule (packages/protocol ID_PATTERN); no wildcards, so %u substitution is safe.
if ! [[ $device =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ ]]; then
  echo "device id '$device': expected [A-Za-z0-9][A-Za-z0-9_-]{0,63} (the id in devices.json)" >&2
  exit 2
fi
if [[ $device == cnx-* ]]; then
  echo "device id '$device': ids starting with cnx- are reserved for the service accounts" >&2
  exit 2
fi
if [ ! -f "$passwd_file" ]; then
  echo "no password file $passwd_file: create it with the first service account (infra/mosquitto/README.md)" >&2
  exit 2
fi
for kind in telemetry history status; do
  if ! grep -qxF "pattern write cnx/v1/+/devices/%u/$kind" "$acl_file"; then
    echo "$acl_file lacks 'pattern write cnx/v1/+/devices/%u/$kind': devices would be denied (use infra/mosquitto/acl)" >&2
    exit 4
  fi
done

exists=false
if cut -d: -f1 "$passwd_file" | grep -qxF "$device"; then exists=true; fi
if [ "$rotate" = false ] && [ "$exists" = true ]; then
  echo "$device has an account already: use --rotate to give it a new password" >&2
  exit 3
fi
if [ "$rotate" = true ] && [ "$exists" = false ]; then
  echo "$device has no account to rotate" >&2
  exit 3
fi

password=${CNX_DEVICE_PASSWORD:-$(openssl rand -base64 24)}
mosquitto_passwd -b "$passwd_file" "$device" "$password"
echo "$password"
echo "$device: account $([ "$rotate" = true ] && echo rotated || echo added) in $passwd_file; now: systemctl reload mosquitto" >&2
