/*
 * jrecord.h — the journal's record encoding, shared by every storage backend
 * (the local file in journal.c; a remote store may keep the same lines).
 *
 * A record is one line: the compact, member-order-preserving JSON of the
 * record with `,"crc":"xxxxxxxx"}` as its last 18 bytes and a "\n" after it,
 * where xxxxxxxx is the zlib CRC-32 (lower-case hex) of the line without
 * those 18 bytes plus a closing "}" (docs/journal.md §1.3).  Every record
 * carries an integer seq, one more than the record before it.
 *
 * Pure functions: no I/O, no global state.
 */
#ifndef CCR_JRECORD_H
#define CCR_JRECORD_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

#define JRECORD_MAX_LINE (1024 * 1024) /* longer lines are corruption */

/*
 * Serialise rec (a JSON object without "crc", members in the order they are
 * to be written) into a complete line, newline included.  Returns the new
 * string with *len its length and *crc its CRC, or NULL if rec cannot be
 * serialised or the line would exceed JRECORD_MAX_LINE.
 */
char *jrecord_encode(json_t *rec, size_t *len, unsigned long *crc) CCR_WUR;

/*
 * Check one complete line (without its newline): length, JSON object, crc
 * last and correct, seq == prev_seq + 1.  Returns the parsed record (owned,
 * its "crc" member kept), or NULL with the reason appended to why
 * ("CRC mismatch: line says …", "seq 5 after seq 3 (gap: …)").
 */
json_t *jrecord_decode(const char *line, size_t len, long long prev_seq, struct sbuf *why) CCR_WUR;

#endif
