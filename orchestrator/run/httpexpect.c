/*
 * httpexpect.c — an http_check's expectations of a body (httpexpect.h).
 * It reuses the facts' path language, so a path that reads a
 * fact reads a check the same way: `members[role=leader].name`.
 */
#include "httpexpect.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "jpath.h"

/* The first selected value value_re refuses, or -1 when all match. */
static int first_mismatch(const struct http_check_spec *h, char **vals, int n)
{
	for (int i = 0; h->value && i < n; i++)
		if (regexec(&h->value_re, vals[i], 0, NULL, 0) != 0)
			return i;
	return -1;
}

/* Judge the values selected by path.  1 good, 0 with err. */
static int judge(const struct http_check_spec *h, const char *path, char **vals, int n, char *err,
		 size_t errlen)
{
	int bad = first_mismatch(h, vals, n);

	if (h->count >= 0 && n != h->count) {
		if (n == 0)
			snprintf(err, errlen, "json '%s' selected nothing, want %d value%s", path,
				 h->count, h->count == 1 ? "" : "s");
		else
			snprintf(err, errlen, "json '%s' selected %d value%s, want %d", path, n,
				 n == 1 ? "" : "s", h->count);
		return 0;
	}
	if (h->count < 0 && n == 0) {
		snprintf(err, errlen, "json '%s' selected nothing", path);
		return 0;
	}
	if (bad >= 0) {
		snprintf(err, errlen, "json '%s' is '%.200s', want /%s/", path, vals[bad],
			 h->value);
		return 0;
	}
	return 1;
}

static int json_ok(const struct http_check_spec *h, const char *path, const char *body, size_t len,
		   size_t cap, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &je);
	char **vals = NULL, jerr[256] = "", cut[64];
	int n = 0, good = 0;

	if (root == NULL) {
		snprintf(cut, sizeof(cut), " (only its first %zu bytes are read)", cap);
		snprintf(err, errlen, "the body is not JSON (%s at line %d column %d)%s", je.text,
			 je.line, je.column, len >= cap && cap > 0 ? cut : "");
		return 0;
	}
	if (jpath_select(root, path, &vals, &n, jerr, sizeof(jerr)) < 0)
		snprintf(err, errlen, "json '%s': %s", path, jerr);
	else
		good = judge(h, path, vals, n, err, errlen);
	for (int i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
	json_decref(root);
	return good;
}

int httpexpect_json(const struct http_check_spec *h, const char *path, const char *body, size_t len,
		    size_t cap, char *err, size_t errlen)
{
	if (h->json == NULL)
		return 1;
	return json_ok(h, path ? path : h->json, body, len, cap, err, errlen);
}
