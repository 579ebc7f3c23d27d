/*
 * check_expr.c — unit tests for the expression language (orchestrator/load/expr.h):
 * precedence, value typing, truthiness, evaluation errors, every parse error
 * with its column, the nesting and length caps, identifier listing and the
 * exact "values seen" text.  Most tests are rows of a table, each row run as
 * its own Check test so a failure names the row (_i) and its source.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "util.h"

/* Facts for a test, from a spec such as "a=1;b=x y" (split at ';', then at the first '='). */
struct facts {
	char buf[256];	    /* the spec, cut into names and values */
	const char *kv[33]; /* name, value, name, value, ..., NULL */
	int calls;	    /* lookups made */
};

static void facts_init(struct facts *f, const char *spec)
{
	char *p = f->buf, *pair, *eq;
	int n = 0;

	memset(f, 0, sizeof *f);
	snprintf(f->buf, sizeof f->buf, "%s", spec);
	while ((pair = strsep(&p, ";")) != NULL && *pair != '\0' && n < 32) {
		eq = strchr(pair, '=');
		ck_assert_msg(eq != NULL, "bad facts spec '%s'", spec);
		*eq = '\0';
		f->kv[n++] = pair;
		f->kv[n++] = eq + 1;
	}
}

static const char *facts_lookup(const char *name, void *arg)
{
	struct facts *f = arg;
	int i;

	f->calls++;
	for (i = 0; f->kv[i] != NULL; i += 2)
		if (strcmp(f->kv[i], name) == 0)
			return f->kv[i + 1];
	return NULL;
}

/* Parse src (which must parse) and evaluate it against facts. */
static int eval_src(const char *src, struct facts *f, int *result, struct sbuf *why)
{
	char err[128] = "";
	int col = 0, rc;
	struct expr *e = expr_parse(src, err, sizeof err, &col);

	ck_assert_msg(e != NULL, "parse '%s' failed: col %d: %s", src, col, err);
	rc = expr_eval(e, facts_lookup, f, result, why);
	expr_free(e);
	return rc;
}

/* The truth of src with the facts in spec; src must evaluate without error. */
static int truth(const char *src, const char *spec)
{
	struct facts f;
	int result = -7;

	facts_init(&f, spec);
	ck_assert_msg(eval_src(src, &f, &result, NULL) == 0, "'%s' failed", src);
	ck_assert_msg(result == 0 || result == 1, "result %d", result);
	return result;
}

/* Parse src, which must fail: check the message and column. */
static void parse_fails(const char *src, const char *msg, int col)
{
	char err[128] = "";
	int errcol = -1;
	struct expr *e = expr_parse(src, err, sizeof err, &errcol);

	ck_assert_msg(e == NULL, "'%s' parsed", src);
	ck_assert_str_eq(err, msg);
	ck_assert_int_eq(errcol, col);
}

#define EXAMPLE_FACTS                                                                              \
	"cms_owner=NODE1;node=NODE2;copy_queue=4;copy_status=Healthy;"                             \
	"exchange_version=8.1.375.2;os_sp=2;saved.firewall_start=Disabled;net_sp=1;"               \
	"pending_reboot=0"

static const struct {
	const char *src;   /* the expression */
	const char *facts; /* what names resolve to */
	int want;	   /* its truth */
} truth_cases[] = {
    /* precedence: or < and < not < comparison */
    {"a or b and c", "a=1;b=0;c=0", 1},
    {"b and c or a", "a=1;b=0;c=0", 1},
    {"(a or b) and c", "a=1;b=0;c=0", 0},
    {"not a and b", "a=1;b=0", 0}, /* (not a) and b */
    {"not (a and b)", "a=1;b=0", 1},
    {"not x == 1", "x=1", 0}, /* not (x == 1) */
    {"not not x", "x=1", 1},
    {"a and (b or (c and not b))", "a=1;b=0;c=1", 1},
    {"a and (b or (c and b))", "a=1;b=0;c=1", 0},
    {"(a == 1) == (c == 1)", "a=1;c=1", 1},
    {"a and b and c", "a=1;b=1;c=1", 1},
    {"a and b and c and d", "a=1;b=1;c=1;d=0", 0},
    {"d or d or d or c", "c=1;d=0", 1},
    {"d or d or d", "d=0", 0},
    {"not false", "", 1},
    {"true and false", "", 0},
    {"true or false", "", 1},
    /* integers compare as integers, also when they come from lookup */
    {"x > y", "x=10;y=9", 1}, /* as strings "10" < "9" */
    {"x > '9'", "x=10", 1},
    {"n < 3", "n=-5", 1},
    {"z == 7", "z=007", 1},
    {"-9223372036854775808 < 9223372036854775807", "", 1},
    /* hex */
    {"0x1F == 31", "", 1},
    {"x == 0x1f", "x=31", 1},
    {"h == x", "h=0X1f;x=31", 1},
    {"-0x10 == -16", "", 1},
    {"0x7FFFFFFFFFFFFFFF == 9223372036854775807", "", 1},
    /* versions: component by component, missing components are 0 */
    {"v >= 8.1.240.6", "v=8.1.240.6", 1},
    {"v > 8.1.240.6", "v=8.1.240.6", 0},
    {"8.1.240.6 > 8.0.685.25", "", 1},
    {"8.1 == 8.1.0.0", "", 1},
    {"8.1 < 8.1.0.1", "", 1},
    {"padded == 8.1.240.6", "padded=08.01.0240.006", 1},
    {"v == '8.1.240.6'", "v=8.1.240.6", 1},
    {"9999999999.1 > 9999999998.2", "", 1},
    /* strings: == and != ignore case */
    {"cms_owner == node", "cms_owner=NODE1;node=node1", 1},
    {"cms_owner != node", "cms_owner=NODE1;node=node1", 0},
    {"copy_status == 'Healthy'", "copy_status=healthy", 1},
    {"copy_status == \"HEALTHY\"", "copy_status=healthy", 1},
    {"copy_status == 'Healthy '", "copy_status=healthy", 0},
    {"copy_status != 5", "copy_status=healthy", 1}, /* mixed: compared as strings */
    {"'8.1' == 8.1.0", "", 1},			    /* quoted text is typed by shape */
    {"'and' == 'AND'", "", 1},
    /* booleans compare by truth */
    {"force == true", "force=yes", 1},
    {"off == false", "off=0", 1},
    {"off != true", "off=0", 1},
    {"(a == b) == false", "a=1;b=2", 1},
    {"(a < b) == (b > a)", "a=1;b=2", 1},
    /* the examples of the brief */
    {"cms_owner != node", EXAMPLE_FACTS, 1},
    {"copy_queue <= 10 and copy_status == 'Healthy'", EXAMPLE_FACTS, 1},
    {"exchange_version >= 8.1.240.6", EXAMPLE_FACTS, 1},
    {"not (os_sp < 2)", EXAMPLE_FACTS, 1},
    {"saved.firewall_start == 'DISABLED'", EXAMPLE_FACTS, 1},
    {"net_sp >= 1", EXAMPLE_FACTS, 1},
    {"pending_reboot == 0 or force", EXAMPLE_FACTS, 1},
    /* string escapes, both quotes */
    {"q == 'it\\'s'", "q=it's", 1},
    {"q == \"it's\"", "q=it's", 1},
    {"d == \"say \\\"hi\\\"\"", "d=say \"hi\"", 1},
    {"b == 'back\\\\slash'", "b=back\\slash", 1},
    /* whitespace and names */
    {"  a\t==\n1\r\n", "a=1", 1},
    {"(a==1)and(a!=2)", "a=1", 1},
    {"_x.y_2 == 1", "_x.y_2=1", 1},
};

/* Expressions without names: each operator, and the truth of literals. */
static const struct {
	const char *src; /* the expression */
	int want;	 /* its truth */
} literal_cases[] = {
    /* 8 is a version too; 8.10 > 8.9: version parts compare as numbers, not decimals */
    {"3 == 3", 1}, {"3 == 4", 0},  {"3 != 4", 1},  {"3 != 3", 0},  {"3 < 4", 1},
    {"4 < 4", 0},  {"4 <= 4", 1},  {"5 <= 4", 0},  {"5 > 4", 1},   {"4 > 4", 0},
    {"4 >= 4", 1}, {"3 >= 4", 0},  {"3==3", 1},	   {"'no'", 0},	   {"'x'", 1},
    {"0", 0},	   {"7", 1},	   {"''", 0},	   {"true", 1},	   {"false", 0},
    {"10 > 9", 1}, {"0xA > 9", 1}, {"8 < 8.1", 1}, {"9 > 8.1", 1}, {"8.10 > 8.9", 1},
};

/* The truth of a bare name, from the text it resolves to. */
static const struct {
	const char *value; /* what v resolves to */
	int want;	   /* the truth of "v" */
} value_truth_cases[] = {
    {"1", 1},	  {"-1", 1},	{"yes", 1}, {"abc", 1}, {"8.1", 1}, {"true", 1},
    {"off", 1},	  {"0", 0},	{"00", 0},  {"0x0", 0}, {"-0", 0},  {"", 0},
    {"false", 0}, {"FALSE", 0}, {"no", 0},  {"No", 0},
};

START_TEST(truth_of_literal)
{
	ck_assert_msg(truth(literal_cases[_i].src, "") == literal_cases[_i].want, "'%s'",
		      literal_cases[_i].src);
}
END_TEST

START_TEST(truth_of_value)
{
	char spec[32];
	snprintf(spec, sizeof spec, "v=%s", value_truth_cases[_i].value);
	ck_assert_msg(truth("v", spec) == value_truth_cases[_i].want, "'%s'",
		      value_truth_cases[_i].value);
}
END_TEST

START_TEST(truth_of)
{
	ck_assert_msg(truth(truth_cases[_i].src, truth_cases[_i].facts) == truth_cases[_i].want,
		      "'%s' with %s", truth_cases[_i].src, truth_cases[_i].facts);
}
END_TEST

static const struct {
	const char *src;   /* the expression */
	const char *facts; /* what names resolve to */
	const char *why;   /* the message */
} eval_error_cases[] = {
    {"a < b", "a=abc;b=def", "cannot order 'abc' and 'def'"},
    {"a >= 8.1", "a=abc", "cannot order 'abc' and '8.1'"},
    {"a < 'x'", "a=1", "cannot order '1' and 'x'"},
    /* beyond int64 and beyond 10-digit version parts a number is just text */
    {"big > 1", "big=99999999999999999999", "cannot order '99999999999999999999' and '1'"},
    {"x == 1", "", "unknown identifier 'x'"},
    {"a == 1 and saved.fw", "a=1", "unknown identifier 'saved.fw'"},
    {"pending_reboot == 0 or force", "pending_reboot=1", "unknown identifier 'force'"},
};

START_TEST(eval_error)
{
	struct facts f;
	struct sbuf why;
	int result = 42;

	facts_init(&f, eval_error_cases[_i].facts);
	sbuf_init(&why);
	ck_assert_int_eq(eval_src(eval_error_cases[_i].src, &f, &result, &why), -1);
	ck_assert_str_eq(why.buf, eval_error_cases[_i].why);
	ck_assert_int_eq(result, 42); /* untouched */
	ck_assert_int_eq(eval_src(eval_error_cases[_i].src, &f, &result, NULL), -1);
	sbuf_release(&why);
}
END_TEST

static const struct {
	const char *src;   /* the expression */
	const char *facts; /* what names resolve to */
	int want;	   /* its truth */
	const char *why;   /* the values seen */
} why_cases[] = {
    {"cms_owner != node", "cms_owner=NODE1;node=NODE2", 1, "cms_owner = 'NODE1', node = 'NODE2'"},
    /* short-circuit: force is not evaluated, so neither looked up nor shown */
    {"pending_reboot == 0 or force", "pending_reboot=0", 1, "pending_reboot = '0'"},
    {"pending_reboot == 1 and force", "pending_reboot=0", 0, "pending_reboot = '0'"},
    /* each name once, in source order */
    {"a == b or c == a or q > 0", "a=1;b=2;c=1;q=3", 1, "a = '1', b = '2', c = '1'"},
    {"saved.firewall_start == 'DISABLED'", "saved.firewall_start=Disabled", 1,
     "saved.firewall_start = 'Disabled'"},
    {"x and y", "x=it's;y=", 0, "x = 'it's', y = ''"},
    {"x == 1", "x=a\nb\t\x01", 0, "x = 'a\\nb\\t\\x01'"}, /* escaped for display */
    {"1 == 1", "", 1, ""},
};

START_TEST(why_lists_values_seen)
{
	struct facts f;
	struct sbuf why;
	int result = 42;

	facts_init(&f, why_cases[_i].facts);
	sbuf_init(&why);
	sbuf_adds(&why, "seen: "); /* expr_eval() appends */
	ck_assert_int_eq(eval_src(why_cases[_i].src, &f, &result, &why), 0);
	ck_assert_int_eq(result, why_cases[_i].want);
	ck_assert_str_eq(why.buf + 6, why_cases[_i].why);
	ck_assert(strncmp(why.buf, "seen: ", 6) == 0);
	sbuf_release(&why);
}
END_TEST

START_TEST(each_name_is_looked_up_once)
{
	struct facts f;
	struct expr *e = expr_parse("a == 1 or a == 3 or b == a or a", NULL, 0, NULL);
	int result = 42;

	facts_init(&f, "a=2;b=3");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(expr_eval(e, facts_lookup, &f, &result, NULL), 0);
	ck_assert_int_eq(result, 1);
	ck_assert_int_eq(f.calls, 2);
	f.calls = 0; /* and again on every evaluation: values are not kept between them */
	ck_assert_int_eq(expr_eval(e, facts_lookup, &f, &result, NULL), 0);
	ck_assert_int_eq(f.calls, 2);
	expr_free(e);
}
END_TEST

START_TEST(compare_values_directly)
{
	int cmp = 99;
	ck_assert_int_eq(expr_compare_values("8.1.240.6", "8.0.685.25", &cmp), 0);
	ck_assert_int_eq(cmp, 1);
	ck_assert_int_eq(expr_compare_values("8.1", "8.1.0.0", &cmp), 0);
	ck_assert_int_eq(cmp, 0);
	ck_assert_int_eq(expr_compare_values("9", "10", &cmp), 0);
	ck_assert_int_eq(cmp, -1);
	ck_assert_int_eq(expr_compare_values("-0x8000000000000000", "-9223372036854775808", &cmp),
			 0);
	ck_assert_int_eq(cmp, 0);
	cmp = 99;
	ck_assert_int_eq(expr_compare_values("abc", "def", &cmp), -1);
	ck_assert_int_eq(expr_compare_values("1.2", "1.2.", &cmp), -1);
	ck_assert_int_eq(expr_compare_values("1.12345678901", "1.1", &cmp), -1);
	ck_assert_int_eq(expr_compare_values("", "1.1", &cmp), -1);
	ck_assert_int_eq(expr_compare_values("-1", "1.1", &cmp), -1);
	ck_assert_int_eq(expr_compare_values(" 1", "2", &cmp), -1);
	ck_assert_int_eq(expr_compare_values("0x", "2", &cmp), -1);
	ck_assert_int_eq(cmp, 99); /* untouched when not orderable */
}
END_TEST

static const struct {
	const char *src; /* the expression */
	const char *msg; /* the error */
	int col;	 /* its column */
} parse_error_cases[] = {
    {"x == 'abc", "unterminated string", 6},
    {"x == \"abc\\", "unterminated string", 6},
    {"x == 'a\nb'", "unterminated string", 6},
    {"x == 'a\\nb'", "unknown escape '\\n'", 8},
    {"x == 'a\\\x01'", "unknown escape '\\\\x01'", 8},
    {"(a == b", "expected ')'", 8},
    {"cms_owner != node and (x", "expected ')'", 25},
    {"((a) or b", "expected ')'", 10},
    {"(a b)", "expected ')'", 4},
    {"a == b c", "unexpected 'c'", 8},
    {"a == b)", "unexpected ')'", 7},
    {"a < b < c", "comparisons do not chain (join them with 'and')", 7},
    {"a == b != c", "comparisons do not chain (join them with 'and')", 8},
    {"", "empty expression", 1},
    {" \t\n ", "empty expression", 1},
    {"==", "unexpected '=='", 1},
    {"<", "unexpected '<'", 1},
    {"and", "unexpected 'and'", 1},
    {"a and or b", "unexpected 'or'", 7},
    {"a ==", "unexpected end of expression", 5},
    {"a == b and", "unexpected end of expression", 11},
    {"not", "unexpected end of expression", 4},
    {"()", "unexpected ')'", 2},
    {"a == not b", "unexpected 'not'", 6},
    {"a == 'x' 'y'", "unexpected string", 10},
    {"a = b", "unexpected character '=' (use ==, != or not)", 3},
    {"!a", "unexpected character '!' (use ==, != or not)", 1},
    {"a $ b", "unexpected character '$'", 3},
    {"a == \xc3\xa9", "unexpected character '\\xc3'", 6},
    {"a AND b", "unexpected 'AND' (keywords are lower-case)", 3},
    {"x == 12abc", "bad number '12abc'", 6},
    {"x == -8.1", "bad number '-8.1'", 6},
    {"x == 1.2.", "bad number '1.2.'", 6},
    {"x == 0x", "bad number '0x'", 6},
    {"x == 0xG1", "bad number '0xG1'", 6},
    {"x == 99999999999999999999", "bad number '99999999999999999999'", 6},
    {"x == 0x8000000000000000", "bad number '0x8000000000000000'", 6},
    {"x == 1.12345678901", "bad number '1.12345678901'", 6},
    {"x == -", "unexpected character '-'", 6},
    {"a..b == 1", "bad identifier 'a..b'", 1},
    {"x and saved. == 1", "bad identifier 'saved.'", 7},
    {"saved.1x == 1", "bad identifier 'saved.1x'", 1},
    {"true < 1", "cannot order a boolean with '<'", 6},
    {"(a == b) >= c", "cannot order a boolean with '>='", 10},
};

START_TEST(parse_error_located)
{
	parse_fails(parse_error_cases[_i].src, parse_error_cases[_i].msg,
		    parse_error_cases[_i].col);
}
END_TEST

START_TEST(parse_err_buffer)
{
	char err[8];
	int col = 0;
	struct expr *e;

	memset(err, 'z', sizeof err);
	ck_assert_ptr_null(expr_parse("(a", err, sizeof err, &col));
	ck_assert_str_eq(err, "expecte"); /* cut to fit, NUL-terminated */
	ck_assert_int_eq(col, 3);
	ck_assert_ptr_null(expr_parse("(a", NULL, 0, NULL)); /* err and errcol are optional */
	e = expr_parse("a", err, sizeof err, &col);	     /* success leaves them untouched */
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(err, "expecte");
	ck_assert_int_eq(col, 3);
	expr_free(e);
}
END_TEST

/* n opening parens and n "not "s (in that order), "x", then n closing parens. */
static char *nested(int nparens, int nnots)
{
	struct sbuf sb;
	int i;

	sbuf_init(&sb);
	for (i = 0; i < nparens; i++)
		sbuf_addc(&sb, '(');
	for (i = 0; i < nnots; i++)
		sbuf_adds(&sb, "not ");
	sbuf_addc(&sb, 'x');
	for (i = 0; i < nparens; i++)
		sbuf_addc(&sb, ')');
	return sbuf_detach(&sb);
}

START_TEST(nesting_depth)
{
	char *ok[] = {nested(64, 0), nested(0, 64), nested(32, 32)};
	char *deep[] = {nested(65, 0), nested(0, 65), nested(32, 33)};
	struct sbuf flat;
	size_t i;

	for (i = 0; i < CCR_ARRAY_LEN(ok); i++)
		ck_assert_int_eq(truth(ok[i], "x=1"), 1);
	/* Depth is what is open at once: 100 closed groups in a row are fine. */
	sbuf_init(&flat);
	for (i = 0; i < 100; i++)
		sbuf_adds(&flat, "(not x) or ");
	sbuf_adds(&flat, "x");
	ck_assert_int_eq(truth(flat.buf, "x=1"), 1);
	sbuf_release(&flat);
	parse_fails(deep[0], "nesting deeper than 64 levels", 65);
	parse_fails(deep[1], "nesting deeper than 64 levels", 4 * 64 + 1);
	/* Parentheses and nots count together. */
	parse_fails(deep[2], "nesting deeper than 64 levels", 32 + 4 * 32 + 1);
	for (i = 0; i < CCR_ARRAY_LEN(ok); i++) {
		free(ok[i]);
		free(deep[i]);
	}
}
END_TEST

START_TEST(length_cap)
{
	struct sbuf sb;

	/* "a or a or ... or b", exactly 4096 bytes: a long flat list parses and runs. */
	sbuf_init(&sb);
	while (sb.len < EXPR_MAX_SOURCE - 6)
		sbuf_adds(&sb, "a or ");
	while (sb.len < EXPR_MAX_SOURCE - 1)
		sbuf_addc(&sb, ' ');
	sbuf_adds(&sb, "b");
	ck_assert_uint_eq(sb.len, EXPR_MAX_SOURCE);
	ck_assert_int_eq(truth(sb.buf, "a=0;b=1"), 1);
	sbuf_addc(&sb, ' ');
	parse_fails(sb.buf, "expression longer than 4096 bytes", 4097);
	while (sb.len < 5000)
		sbuf_addc(&sb, 'a');
	parse_fails(sb.buf, "expression longer than 4096 bytes", 4097);
	sbuf_release(&sb);
}
END_TEST

/* Records expr_foreach_ident() calls as "name@col " and stops on call stop_at. */
struct seen {
	struct sbuf text; /* what was seen */
	int n;		  /* calls */
	int stop_at;	  /* return 7 on this call (1-based); 0: never */
};

static int seen_add(const char *name, int col, void *arg)
{
	struct seen *s = arg;
	sbuf_addf(&s->text, "%s@%d ", name, col);
	return ++s->n == s->stop_at ? 7 : 0;
}

START_TEST(foreach_ident)
{
	struct expr *e = expr_parse("a == b or not (c.d < 1) and a", NULL, 0, NULL);
	struct seen s = {.stop_at = 0};

	sbuf_init(&s.text);
	ck_assert_int_eq(expr_foreach_ident(e, seen_add, &s), 0);
	ck_assert_str_eq(s.text.buf, "a@1 b@6 c.d@16 a@29 "); /* source order, duplicates too */
	sbuf_reset(&s.text);
	s.n = 0;
	s.stop_at = 2;
	ck_assert_int_eq(expr_foreach_ident(e, seen_add, &s), 7); /* stops with fn's value */
	ck_assert_str_eq(s.text.buf, "a@1 b@6 ");
	expr_free(e);

	e = expr_parse("1 < 2 and true and 'a'", NULL, 0, NULL);
	sbuf_reset(&s.text);
	ck_assert_int_eq(expr_foreach_ident(e, seen_add, &s), 0);
	ck_assert_str_eq(s.text.buf, "");
	expr_free(e);
	sbuf_release(&s.text);
}
END_TEST

static int eq_add(const char *name, const char *operand, int is_ident, void *arg)
{
	sbuf_addf(arg, "%s=%s%s ", name, is_ident ? "$" : "", operand);
	return 0;
}

/* Only the equalities that must hold: joined by `and` at the top, through parentheses. */
START_TEST(foreach_equality)
{
	static const char *const cases[][2] = {
	    {"cms_owner == node and cms_state == 'Online'", "cms_owner=$node cms_state=Online "},
	    {"(a == 1 and (b == c)) and d != 2", "a=1 b=$c "},
	    {"'x' == y", "y=x "},
	    {"a == 1 or b == 2", ""},
	    {"not (a == 1)", ""},
	    {"a == 1 and (b == 2 or c == 3)", "a=1 "},
	    {"1 == 1 and true", ""},
	};
	struct sbuf b;
	sbuf_init(&b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct expr *e = expr_parse(cases[i][0], NULL, 0, NULL);
		ck_assert_ptr_nonnull(e);
		sbuf_reset(&b);
		ck_assert_int_eq(expr_foreach_equality(e, eq_add, &b), 0);
		ck_assert_msg(strcmp(b.buf, cases[i][1]) == 0, "%s: got '%s'", cases[i][0], b.buf);
		expr_free(e);
	}
	sbuf_release(&b);
}
END_TEST

START_TEST(source_is_a_copy)
{
	char src[] = "a == 'b'";
	struct expr *e = expr_parse(src, NULL, 0, NULL);

	ck_assert_ptr_nonnull(e);
	src[0] = 'z';
	ck_assert_str_eq(expr_source(e), "a == 'b'");
	expr_free(e);
	expr_free(NULL);
}
END_TEST

/* Random text from a small alphabet: every result is a tree or a located error. */
START_TEST(random_input_never_crashes)
{
	static const char alphabet[] = "ab.01x(' \")=<>!-\\not and or true\n";
	uint32_t seed = 12345;
	struct facts f;
	char src[40], err[128];
	int i, j, col, result, len;

	facts_init(&f, "a=1;b=abc;x=8.1");
	for (i = 0; i < 20000; i++) {
		struct expr *e;
		len = (int)(seed % (sizeof src - 1));
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			src[j] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		src[len] = '\0';
		col = 0;
		e = expr_parse(src, err, sizeof err, &col);
		if (e == NULL) {
			ck_assert_msg(col >= 1 && col <= len + 1, "'%s': col %d", src, col);
			ck_assert_msg(err[0] != '\0', "'%s': no message", src);
			continue;
		}
		result = -7;
		if (expr_eval(e, facts_lookup, &f, &result, NULL) == 0)
			ck_assert_msg(result == 0 || result == 1, "'%s'", src);
		expr_free(e);
	}
}
END_TEST

static Suite *expr_suite(void)
{
	Suite *s = suite_create("expr");
	TCase *tc = tcase_create("expr");

	tcase_add_loop_test(tc, truth_of_literal, 0, (int)CCR_ARRAY_LEN(literal_cases));
	tcase_add_loop_test(tc, truth_of_value, 0, (int)CCR_ARRAY_LEN(value_truth_cases));
	tcase_add_loop_test(tc, truth_of, 0, (int)CCR_ARRAY_LEN(truth_cases));
	tcase_add_loop_test(tc, eval_error, 0, (int)CCR_ARRAY_LEN(eval_error_cases));
	tcase_add_loop_test(tc, why_lists_values_seen, 0, (int)CCR_ARRAY_LEN(why_cases));
	tcase_add_test(tc, each_name_is_looked_up_once);
	tcase_add_test(tc, compare_values_directly);
	tcase_add_loop_test(tc, parse_error_located, 0, (int)CCR_ARRAY_LEN(parse_error_cases));
	tcase_add_test(tc, parse_err_buffer);
	tcase_add_test(tc, nesting_depth);
	tcase_add_test(tc, length_cap);
	tcase_add_test(tc, foreach_ident);
	tcase_add_test(tc, foreach_equality);
	tcase_add_test(tc, source_is_a_copy);
	tcase_add_test(tc, random_input_never_crashes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(expr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
