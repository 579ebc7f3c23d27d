#!/bin/sh
# Install the Debian packages ccrup needs to build and test, only those missing.
# Non-interactive; does nothing (and needs no network) when all are present.
set -e
PKGS="build-essential pkg-config libssh-dev libyaml-dev libcurl4-openssl-dev libjansson-dev \
check zlib1g-dev libssl-dev openssh-client openssh-server python3 procps valgrind \
libxml2-dev etcd-server etcd-client postgresql-15 postgresql-client-15 patroni python3-psycopg2 \
python3-winrm python3-paramiko tmux curl iproute2"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run 'make deps' as root (or install them with apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
