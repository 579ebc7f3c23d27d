#!/bin/sh
# The crash matrix (crash_matrix.sh) on the etcd backend: the journal and lock in
# a throwaway etcd, ccrup SIGKILLed mid-command and at step boundaries, another
# `resume --wait` reaching the undisturbed world with no reboot repeated.  In CI a
# representative subset (every 11th target); `make crash-matrix-etcd` runs all.
cd "$(dirname "$0")/../.."
CRASH_MATRIX_STATE=etcd CRASH_MATRIX_EVERY=${CRASH_MATRIX_EVERY:-11} exec sh tests/integration/crash_matrix.sh
