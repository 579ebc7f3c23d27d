/*
 * etcd_json.h — the JSON of etcd's v3 HTTP gateway (grpc-gateway), with no
 * I/O: building requests and reading responses, so it can be unit-tested
 * without an etcd.
 *
 * Two habits of the gateway shape everything here (checked on etcd 3.4):
 *  - int64 and uint64 fields (revisions, lease ids, TTLs, counts) are JSON
 *    strings ("revision":"42"); we accept a string or a number;
 *  - fields at their zero value are omitted: a failed txn has no
 *    "succeeded", an expired lease's keepalive has no "TTL", an empty range
 *    has no "kvs".  Missing means false, 0 or empty — never an error.
 * Keys and values are base64 on the wire; callers deal in raw bytes.
 */
#ifndef CCR_ETCD_JSON_H
#define CCR_ETCD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util.h"

/* One key-value pair of a range response; key and value are NUL-terminated copies. */
struct etcd_kv {
	char *key;		 /* raw bytes */
	size_t key_len;		 /* without the NUL */
	char *value;		 /* raw bytes */
	size_t value_len;	 /* without the NUL */
	int64_t create_revision; /* 0 when omitted */
	int64_t mod_revision;	 /* 0 when omitted */
	int64_t version;	 /* 0 when omitted */
	int64_t lease;		 /* 0 when omitted (no lease) */
};

/* Base64 of len bytes (new string, caller frees). */
char *etcd_b64_encode(const void *data, size_t len);
/*
 * Decode base64 text into a new buffer (NUL-terminated, *len without the
 * NUL).  Returns NULL for text that is not base64.  Caller frees.
 */
char *etcd_b64_decode(const char *text, size_t *len);

/*
 * The int64 member key of obj: a JSON string of decimal digits (the
 * gateway's form) or a JSON integer.  A missing member is 0.  Returns 0 and
 * sets *v, or -1 when the member is present but not an int64 (v set to 0).
 */
int etcd_json_int(const json_t *obj, const char *key, int64_t *v) CCR_WUR;
/* Like etcd_json_int but returns the value (0 when missing or malformed). */
int64_t etcd_json_int0(const json_t *obj, const char *key);
/* A boolean member: true only for JSON true; missing is false. */
int etcd_json_bool(const json_t *obj, const char *key);

/* An int64 as the gateway wants it in requests: a JSON string. */
json_t *etcd_json_int64(int64_t v);

/* {"key": b64, "range_end": b64} for every key starting with prefix. */
json_t *etcd_req_prefix(const char *prefix);
/* {"key": b64} (and "range_end" when end is not NULL). */
json_t *etcd_req_key(const char *key, const char *end);
/* A put request body: key, value (len bytes), lease (0: none). */
json_t *etcd_req_put(const char *key, const void *value, size_t len, int64_t lease);

/* Txn compare entries: the key's create or mod revision equals rev. */
json_t *etcd_cmp_create(const char *key, int64_t rev);
json_t *etcd_cmp_mod(const char *key, int64_t rev);

/*
 * The kvs of a range response (resp is the whole body or a txn's
 * response_range).  Returns 0 with *kvs (caller frees with etcd_kvs_free)
 * and *n, or -1 when an entry is malformed (bad base64, bad int).  No kvs
 * member: 0 entries.  *more is set from "more" (missing: 0).
 */
int etcd_parse_kvs(const json_t *resp, struct etcd_kv **kvs, size_t *n, int *more) CCR_WUR;
void etcd_kvs_free(struct etcd_kv *kvs, size_t n);

/* The smallest key greater than every key with this prefix (for range_end). */
char *etcd_prefix_end(const char *prefix);

#endif
