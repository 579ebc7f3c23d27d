#!/bin/sh
# make demo-patroni: start a real Patroni cluster on loopback (tests/lib/patroni_bed.sh:
# etcd, three Patroni members each managing PostgreSQL 15 as user postgres, one sshd per
# member on 127.0.2.1-3), make a restart-requiring setting pending and a new package
# version available, start a writer committing a row every ~10 ms, then upgrade the
# cluster with playbooks/patroni-rolling.yml and end with one line: rows acknowledged,
# rows found in the final primary, the longest write outage, switchovers, restarts.
# Everything started here is stopped by pid at the end.
set -eu
cd "$(dirname "$0")/.."
. tests/lib/patroni_bed.sh
pb=playbooks/patroni-rolling.yml
dir=$(mktemp -d /tmp/ccrup-demo-patroni.XXXXXX)
trap 'bed_stop "$dir"; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
net=127.0.2
ss -ltn 2>/dev/null | grep -q " $net\." && net=$(bed_free_net)

echo "== starting the bed: etcd on $net.10, Patroni members pg1-pg3 on $net.1-3 (PostgreSQL 15)"
bed_start "$dir" "$net"
inv=$dir/inventory.yml
state=$dir/state
bed_inventory "$dir" "$inv"
curl -s "http://$net.1:8008/cluster" | $BED_PY -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    print("   %-4s %-8s %-8s lag %s" % (m["name"], m["role"], m["state"], m.get("lag", "-")))'

echo
echo "== the upgrade to apply: max_connections 100 -> 110 (needs a restart), package ${BED_TARGET_VERSION:-15.99-0+bed1}"
bed_prepare_upgrade "$dir"
echo "== a writer commits one numbered row every ~10 ms (target_session_attrs=read-write)"
bed_writer_start "$dir"

echo
echo "== ccrup plan --live (read-only: roles from Patroni's REST API)"
bin/ccrup plan --live "$inv" -p "$pb" --state-dir "$state" | sed -n '3,8p'

echo
echo "== ccrup apply --yes"
bin/ccrup apply "$inv" -p "$pb" --state-dir "$state" --yes
sleep 1
bed_writer_stop "$dir" >/dev/null

echo
echo "== ccrup status"
bin/ccrup status "$inv" -p "$pb" --state-dir "$state" | head -n 7

echo
bed_summary "$dir"
