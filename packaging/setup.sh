#!/usr/bin/env bash
# warbler set-up script: the README's two quick-start commands.
#
#   packaging/setup.sh run    install what is needed, build, and start warblerd
#                             on etc/warbler.conf (SQLite, no other server)
#   packaging/setup.sh test   install what is needed, build, and run the whole
#                             test suite (unit, fuzz-replay, integration, bot eval)
#
# Runs as root on Debian 12 (apt-get). Set WB_NO_APT=1 to skip installing.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-}

build_deps=(build-essential cmake pkg-config python3 openssl
            libwebsockets-dev libjansson-dev libconfig-dev libcurl4-gnutls-dev
            libsqlite3-dev libssl-dev libcmocka-dev libetpan-dev libesmtp-dev)
# clang for the libFuzzer harnesses; wrk and nginx for tests/bench; a real
# Dovecot and Postfix for the email tests (started by the tests themselves on
# loopback ports, never as system services)
test_deps=(clang sqlite3 wrk nginx-light dovecot-imapd dovecot-lmtpd postfix curl openssl procps)

apt_install() {
    [ "${WB_NO_APT:-0}" = 1 ] && return 0
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    export DEBIAN_FRONTEND=noninteractive
    # postfix: install without configuring a system mail server
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
    local werror=OFF
    [ "${CI:-}" = true ] && werror=ON
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
        -DWB_WERROR="$werror" >/dev/null
    cmake --build build -j"$(nproc)"
}

case "$mode" in
run)
    apt_install "${build_deps[@]}"
    build
    # warblerd binds as root, then runs as this user (`user` in etc/warbler.conf)
    id warbler >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/warblerd \
        --no-create-home --shell /usr/sbin/nologin warbler
    install -d -m 0750 -o warbler -g warbler /var/lib/warblerd
    if [ ! -s /var/lib/warblerd/api.secret ]; then
        (umask 077 && openssl rand -hex 32 > /var/lib/warblerd/api.secret)
        echo "warbler: generated the API channel secret in /var/lib/warblerd/api.secret"
    fi
    chown warbler:warbler /var/lib/warblerd/api.secret
    exec build/src/warblerd -c etc/warbler.conf
    ;;
test)
    apt_install "${build_deps[@]}" "${test_deps[@]}"
    # the test mail servers store mail as this unprivileged user
    id wbmail >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin wbmail
    build
    cd build
    ctest --output-on-failure -j2 --timeout 900
    ;;
*)
    echo "usage: packaging/setup.sh run|test" >&2
    exit 64
    ;;
esac
