#!/usr/bin/env bash
# Build the Debian package, install it, and check that the installed
# warblerd accepts the shipped /etc/warbler/warbler.conf as the service user
# and serves /healthz; then remove the package again.
set -euo pipefail
build=${1:-build}
cd "$build"
rm -f warbler_*.deb
cpack -G DEB >/dev/null
deb=$(ls warbler_*.deb)
dpkg -i "$deb" >/dev/null
trap 'kill "$pid" 2>/dev/null || true; dpkg -r warbler >/dev/null || true' EXIT
test -s /var/lib/warblerd/api.secret
[ "$(stat -c %U:%a /var/lib/warblerd/api.secret)" = "warbler:600" ]
runuser -u warbler -- /usr/sbin/warblerd -t -c /etc/warbler/warbler.conf
grep -q '^ProtectSystem=strict' /lib/systemd/system/warblerd.service
grep -q '^NoNewPrivileges=yes' /lib/systemd/system/warblerd.service
port=8080 # the shipped configuration's port
runuser -u warbler -- /usr/sbin/warblerd -c /etc/warbler/warbler.conf 2>/tmp/warblerd-pkg.log &
pid=$!
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"api-main"'
/usr/bin/warblerctl -c /etc/warbler/warbler.conf status >/dev/null
echo "check_package: ok ($deb)"
