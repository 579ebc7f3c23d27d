/*
 * httpexpect.h — what an http_check expects of a JSON body: the values a
 * path selects (`json:`, load/jpath.h) must each match an ERE (`value:`) and
 * number exactly `count:` (or at least one).  Pure, no I/O: the runner's
 * HTTP attempt and the unit tests share it.  (`body:`, a regex over the
 * text, is tested by the runner itself.)
 */
#ifndef CCR_HTTPEXPECT_H
#define CCR_HTTPEXPECT_H

#include <stddef.h>

#include "model.h"

/*
 * Does body (len bytes; the caller kept at most cap of them, 0: no cap) meet
 * h's json expectations?  path is the substituted json path (NULL: h->json).
 * Returns 1 (also when h has no json), or 0 with err saying what was found,
 * naming the path: "json 'state' is 'starting', want /^running$/", "json
 * 'members[role=leader]' selected nothing", "the body is not JSON (...)".
 * Memory is bounded by len: jansson refuses nesting deeper than its limit.
 */
int httpexpect_json(const struct http_check_spec *h, const char *path, const char *body, size_t len,
		    size_t cap, char *err, size_t errlen);

#endif
