/*
 * fuzz_expr.c — libFuzzer target for the expression language (expr.h).
 *
 * The input up to its first NUL byte is an expression source.  It is parsed; a parsed
 * expression is walked with expr_foreach_ident() and evaluated with a lookup
 * that maps each name to one of a fixed set of texts (integers, versions,
 * hex, words, empty) chosen from the name's bytes, and knows no name that
 * starts with "x_" (to exercise the unknown-identifier error).  The rest of
 * the input, if any, split at its next NUL, is given to
 * expr_compare_values() as two value texts.
 *
 * Contracts checked: a failed parse always has a message and a column in
 * [1, strlen(src) + 1] (or EXPR_MAX_SOURCE + 1 for a too-long source); the
 * source round-trips through expr_source(); evaluation returns 0 with a
 * boolean or -1 with a message; comparison is antisymmetric.
 */
#include <stdint.h>

#include "expr.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const values[] = {
    "NODE1",
    "10",
    "8.1.240.6",
    "Healthy",
    "",
    "0x1f",
    "-3",
    "8.1",
    "9223372036854775807",
    "abc",
    "1.2.3.4.5.6.7.8.9.10",
    "Online",
    "0",
    "true",
};

static const char *lookup(const char *name, void *arg)
{
	unsigned h = 0;

	(void)arg;
	if (strncmp(name, "x_", 2) == 0)
		return NULL;
	for (const char *p = name; *p; p++)
		h = h * 31 + (unsigned char)*p;
	return values[h % CCR_ARRAY_LEN(values)];
}

static int count_ident(const char *name, int col, void *arg)
{
	FUZZ_ASSERT(name != NULL && name[0] != '\0' && col >= 1);
	(*(int *)arg)++;
	return 0;
}

static void check_parse(const char *src)
{
	char err[256];
	int errcol = -7, result = -7, n = 0;
	struct sbuf why;

	err[0] = '\0';
	struct expr *e = expr_parse(src, err, sizeof(err), &errcol);
	if (e == NULL) {
		int len = (int)strlen(src);
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT((errcol >= 1 && errcol <= len + 1) || errcol == EXPR_MAX_SOURCE + 1);
		return;
	}
	FUZZ_ASSERT(strcmp(expr_source(e), src) == 0);
	FUZZ_ASSERT(expr_foreach_ident(e, count_ident, &n) == 0);
	sbuf_init(&why);
	int rc = expr_eval(e, lookup, NULL, &result, &why);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0)
		FUZZ_ASSERT(result == 0 || result == 1);
	else
		FUZZ_ASSERT(why.len > 0 && result == -7);
	sbuf_release(&why);
	expr_free(e);
}

static void check_compare(const char *a, const char *b)
{
	int ab = 7, ba = 7;
	int r1 = expr_compare_values(a, b, &ab);
	int r2 = expr_compare_values(b, a, &ba);

	FUZZ_ASSERT(r1 == r2);
	if (r1 == 0)
		FUZZ_ASSERT(ab == -ba && ab >= -1 && ab <= 1);
	else
		FUZZ_ASSERT(ab == 7 && ba == 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	size_t n1 = strlen(s);

	check_parse(s);
	if (n1 < size) {
		const char *a = s + n1 + 1;
		size_t na = strlen(a);
		if (n1 + 1 + na < size)
			check_compare(a, a + na + 1);
	}
	free(s);
	return 0;
}
