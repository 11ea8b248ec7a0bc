#!/usr/bin/env bash
# Creates or replaces one MQTT credential in Mosquitto's password file and prints it as one JSON line.
#
#   scripts/provision-station.sh STATION_ID [PASSWORD_FILE]   a station; its username is its id
#   scripts/provision-station.sh --hub [PASSWORD_FILE]        the hub (username "hub")
#
# PASSWORD_FILE defaults to /etc/mosquitto/passwd and is created (mode 0640, group mosquitto when
# that group exists) if missing. The password is random unless STATION_MQTT_PASSWORD is set.
# Output (stdout):  {"station":"ST0001","username":"ST0001","password":"..."}
#                   {"username":"hub","password":"..."}
# A running broker reads the file again on SIGHUP: `systemctl reload mosquitto`.
#
# Station ids are capital letters and digits, starting with a letter, 1-16 characters. That rule is
# also what keeps the ACL safe: the id is the username, the ACL pattern puts it into the topic
# (gs/v1/stations/%u/#), so it must never hold "/", "+" or "#", and it can never be "hub".
set -euo pipefail

usage() {
    echo "usage: $0 STATION_ID [PASSWORD_FILE]   or   $0 --hub [PASSWORD_FILE]" >&2
    exit 2
}

(($# >= 1 && $# <= 2)) || usage
case "$1" in
--hub) station="" username="hub" ;;
-*) usage ;;
*)
    station="$1"
    if ! [[ $station =~ ^[A-Z][A-Z0-9]{0,15}$ ]]; then
        echo "error: invalid station id '$station': use capital letters A-Z and digits 0-9, starting with a letter, 1 to 16 characters (e.g. ST0001)" >&2
        exit 1
    fi
    username="$station"
    ;;
esac
password_file="${2:-/etc/mosquitto/passwd}"

command -v mosquitto_passwd >/dev/null || {
    echo "error: mosquitto_passwd not found: install the mosquitto package (scripts/install-deps.sh)" >&2
    exit 1
}

if [[ -n ${STATION_MQTT_PASSWORD+set} ]]; then
    password="$STATION_MQTT_PASSWORD"
    if [[ -z $password || $password =~ [[:cntrl:]] ]]; then
        echo "error: STATION_MQTT_PASSWORD must be non-empty and hold no control characters" >&2
        exit 1
    fi
else
    # 24 characters from 18 random bytes, URL-safe base64: no quoting problems anywhere.
    password="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
fi

if [[ ! -e $password_file ]]; then
    (umask 027 && : >"$password_file")
    if getent group mosquitto >/dev/null && [[ $(id -u) -eq 0 ]]; then
        chgrp mosquitto "$password_file"
    fi
fi

# -b replaces the entry when the user exists, so running this again rotates the password.
mosquitto_passwd -b "$password_file" "$username" "$password" >&2

json_escape() {
    local text="$1"
    text="${text//\\/\\\\}"
    printf '%s' "${text//\"/\\\"}"
}
if [[ -n $station ]]; then
    printf '{"station":"%s","username":"%s","password":"%s"}\n' "$station" "$username" "$(json_escape "$password")"
else
    printf '{"username":"%s","password":"%s"}\n' "$username" "$(json_escape "$password")"
fi
