/*
 * fuzz_jpath.c — libFuzzer target for the JSON path language (jpath.h) that
 * reads facts from JSON output (Patroni's REST API, patronictl -f json).
 *
 * The input up to its first NUL byte is a path; the rest is a JSON document
 * (when it does not parse, a fixed Patroni-like document is used instead).
 *
 * Contracts checked: jpath_check() and jpath_select() agree on whether the
 * path is valid; a refused path has a message and a column in
 * [1, strlen(path) + 1]; a selection returns n >= 0 non-NULL texts and frees
 * cleanly; jpath_text() of the document round-trips through json_loads for
 * objects and arrays.
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "jpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fallback[] =
    "{\"members\":[{\"name\":\"pg1\",\"role\":\"leader\",\"state\":\"running\",\"lag\":0},"
    "{\"name\":\"pg2\",\"role\":\"replica\",\"state\":\"streaming\",\"lag\":\"unknown\","
    "\"pending_restart\":true,\"tags\":{\"nofailover\":false}}],\"pause\":null,"
    "\"scope\":\"demo\",\"x\":[1,2.5,-3,[],{}],\"Lag in MB\":7}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	char *path = malloc(plen + 1);
	char err[256];
	int col = 0, n = -1;
	char **vals = NULL;

	if (path == NULL)
		return 0;
	memcpy(path, data, plen);
	path[plen] = '\0';
	json_t *doc = NULL;
	if (nul)
		doc = json_loadb((const char *)nul + 1, size - plen - 1, JSON_DECODE_ANY, NULL);
	if (doc == NULL)
		doc = json_loads(fallback, 0, NULL);

	err[0] = '\0';
	int ok = jpath_check(path, &col, err, sizeof(err)) == 0;
	if (!ok && (err[0] == '\0' || col < 1 || (size_t)col > plen + 1))
		abort(); /* a refusal names what and where */
	err[0] = '\0';
	int sel = jpath_select(doc, path, &vals, &n, err, sizeof(err));
	if ((sel == 0) != ok)
		abort(); /* the checker and the selector agree */
	if (sel == 0) {
		if (n < 0 || (n > 0 && vals == NULL))
			abort();
		for (int i = 0; i < n; i++) {
			if (vals[i] == NULL)
				abort();
			free(vals[i]);
		}
		free(vals);
	} else if (err[0] == '\0') {
		abort();
	}
	char *t = jpath_text(doc);
	if (t && (json_is_object(doc) || json_is_array(doc))) {
		json_t *back = json_loads(t, JSON_DECODE_ANY, NULL);
		if (back == NULL)
			abort(); /* compact JSON reads back */
		json_decref(back);
	}
	free(t);
	json_decref(doc);
	free(path);
	return 0;
}
