/*
 * check_yamltree.c — the located YAML tree (orchestrator/load/yamltree.h): node
 * shapes and locations, null and string scalars, and every refusal (limits,
 * anchors, aliases, tags, duplicate keys, several documents, NUL, bad
 * UTF-8) with its exact message and position.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "util.h"
#include "yamltree.h"

static struct diag d;

static void setup(void)
{
	diag_init(&d);
}

static void teardown(void)
{
	diag_release(&d);
}

static struct ydoc *parse(const char *s)
{
	return ydoc_parse("t.yml", s, strlen(s), NULL, &d);
}

/* "LINE:COL: message" of error i. */
static const char *err(int i)
{
	static char buf[1024];
	ck_assert_int_gt(d.n, i);
	snprintf(buf, sizeof(buf), "%d:%d: %s", d.v[i].line, d.v[i].col, d.v[i].msg);
	return buf;
}

/* Parse s, expect a refusal whose first error is want. */
static void refused(const char *s, const char *want)
{
	struct ydoc *doc = parse(s);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(err(0), want);
}

START_TEST(mapping_shape_and_locations)
{
	struct ydoc *doc = parse("a: 1\nbb:\n  - x\n  - 'y'\nc: {k: v}\n");
	ck_assert_ptr_nonnull(doc);
	const struct ynode *r = ydoc_root(doc);
	ck_assert_int_eq(r->kind, YNODE_MAP);
	ck_assert_int_eq(r->n, 3);
	ck_assert_str_eq(r->keys[1]->text, "bb");
	ck_assert_int_eq(r->keys[1]->line, 2);
	ck_assert_int_eq(r->keys[1]->col, 1);
	const struct ynode *l = ymap_get(r, "bb");
	ck_assert_int_eq(l->kind, YNODE_SEQ);
	ck_assert_int_eq(l->n, 2);
	ck_assert_int_eq(l->items[1]->line, 4);
	ck_assert_int_eq(l->items[1]->col, 5);
	ck_assert_int_eq(l->items[1]->style, YSTYLE_QUOTED);
	ck_assert_str_eq(ymap_get(ymap_get(r, "c"), "k")->text, "v");
	ck_assert_int_eq(ymap_get(r, "c")->col, 4);
	ck_assert_ptr_null(ymap_get(r, "zz"));
	ck_assert_ptr_null(ymap_get(l, "x"));
	ck_assert_int_eq(d.n, 0);
	ydoc_free(doc);
}
END_TEST

START_TEST(nulls_and_strings)
{
	struct ydoc *doc = parse("a:\nb: ~\nc: null\nd: ''\ne: \"\"\nf: NULL\ng: nil\nh: !!str\n");
	ck_assert_ptr_nonnull(doc);
	const struct ynode *r = ydoc_root(doc);
	ck_assert(ymap_get(r, "a")->is_null);
	ck_assert(ymap_get(r, "b")->is_null);
	ck_assert(ymap_get(r, "c")->is_null);
	ck_assert(!ymap_get(r, "d")->is_null);
	ck_assert_str_eq(ymap_get(r, "d")->text, "");
	ck_assert(!ymap_get(r, "e")->is_null);
	ck_assert(ymap_get(r, "f")->is_null);
	ck_assert(!ymap_get(r, "g")->is_null);
	ck_assert(!ymap_get(r, "h")->is_null);
	ck_assert_int_eq(ymap_get(r, "h")->style, YSTYLE_QUOTED);
	ydoc_free(doc);
}
END_TEST

START_TEST(block_scalars_and_end_marks)
{
	struct ydoc *doc = parse("a: >-\n  one\n  two\nb: plain text\n");
	ck_assert_ptr_nonnull(doc);
	const struct ynode *a = ymap_get(ydoc_root(doc), "a"), *b = ymap_get(ydoc_root(doc), "b");
	ck_assert_int_eq(a->style, YSTYLE_BLOCK);
	ck_assert_str_eq(a->text, "one two");
	ck_assert_int_eq(b->line, b->end_line);
	ck_assert_int_eq(b->end_col - b->col, (int)b->len);
	ydoc_free(doc);
}
END_TEST

START_TEST(standard_tags)
{
	struct ydoc *doc = parse("a: !!int 5\nb: !!null x\nc: !!seq [1]\nd: !!map {}\n");
	ck_assert_ptr_nonnull(doc);
	ck_assert(ymap_get(ydoc_root(doc), "b")->is_null);
	ydoc_free(doc);
}
END_TEST

START_TEST(custom_tag_refused)
{
	refused("a: !foo 1\n",
		"1:4: YAML tag '!foo' is not supported (only the standard !!str, !!int, ...)");
}
END_TEST

START_TEST(anchor_refused)
{
	refused("a: &x 1\nb: 2\n", "1:4: YAML anchors (&x) are not supported: write the value out");
}
END_TEST

START_TEST(alias_refused)
{
	refused("b: *x\n", "1:4: YAML aliases (*x) are not supported: repeat the value");
}
END_TEST

START_TEST(anchor_on_collection_refused)
{
	refused("a: &base\n  k: v\n",
		"1:4: YAML anchors (&base) are not supported: write the value out");
}
END_TEST

START_TEST(duplicate_keys_all_reported)
{
	refused("NODE1: 1\nx: 2\nNODE1: 3\ny:\n  a: 1\n  a: 2\n",
		"3:1: duplicate key 'NODE1' (first at 1:1)");
	ck_assert_int_eq(d.n, 2);
	ck_assert_str_eq(err(1), "6:3: duplicate key 'a' (first at 5:3)");
}
END_TEST

START_TEST(duplicate_key_in_big_mapping)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (int i = 0; i < 5000; i++)
		sbuf_addf(&sb, "k%d: %d\n", i, i);
	sbuf_adds(&sb, "k42: again\n");
	refused(sb.buf, "5001:1: duplicate key 'k42' (first at 43:1)");
	ck_assert_int_eq(d.n, 1);
	sbuf_release(&sb);
}
END_TEST

START_TEST(same_key_in_different_mappings_is_fine)
{
	struct ydoc *doc = parse("- a: 1\n- a: 2\n");
	ck_assert_ptr_nonnull(doc);
	ydoc_free(doc);
}
END_TEST

START_TEST(complex_key_refused)
{
	refused("? [a]\n: 1\n", "1:3: mapping keys must be plain text, not a list");
}
END_TEST

START_TEST(multiple_documents_refused)
{
	refused("a: 1\n---\nb: 2\n",
		"2:1: more than one YAML document ('---'): one file holds one document");
}
END_TEST

START_TEST(explicit_single_document_ok)
{
	struct ydoc *doc = parse("---\na: 1\n...\n");
	ck_assert_ptr_nonnull(doc);
	ydoc_free(doc);
}
END_TEST

START_TEST(empty_inputs)
{
	refused("", "1:1: empty file (no YAML content)");
	diag_release(&d);
	refused("\n\n   \n", "1:1: empty file (no YAML content)");
	diag_release(&d);
	refused("# only a comment\n", "1:1: empty file (no YAML content)");
}
END_TEST

START_TEST(tab_indentation)
{
	refused("a:\n\tb: 1\n", "2:1: YAML syntax error: found character that cannot start any "
				"token (a tab: YAML is indented with spaces)");
}
END_TEST

START_TEST(syntax_error_with_context)
{
	refused("a: [1, 2\nb: 3\n", "2:2: YAML syntax error: did not find expected ',' or ']' "
				    "(while parsing a flow sequence at 1:4)");
}
END_TEST

START_TEST(bad_indentation)
{
	struct ydoc *doc = parse("a:\n  b: 1\n c: 2\n");
	ck_assert_ptr_null(doc);
	ck_assert(str_startswith(d.v[0].msg, "YAML syntax error: "));
	ck_assert_int_eq(d.v[0].line, 3);
}
END_TEST

START_TEST(invalid_utf8_located)
{
	refused("a: 1\nb: \xff\xfe\n",
		"2:4: invalid input: invalid leading UTF-8 octet (byte 0xff at offset 8; save the "
		"file as UTF-8)");
}
END_TEST

START_TEST(latin1_points_at_the_lead_byte)
{
	refused("a: caf\xe9\nb: 1\n",
		"1:7: invalid input: invalid trailing UTF-8 octet (byte 0xe9 at "
		"offset 6; save the file as UTF-8)");
}
END_TEST

START_TEST(control_character_located)
{
	refused("a: \"x\x01\"\n",
		"1:6: invalid input: control characters are not allowed (byte 0x01 at offset 5)");
}
END_TEST

START_TEST(nul_byte_refused)
{
	struct ydoc *doc = ydoc_parse("t.yml", "a: 1\nb: 2\0x\n", 11, NULL, &d);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(err(0), "2:5: NUL byte in the file (at offset 9): not a text file");
}
END_TEST

static char *nested(int depth)
{
	char *s = xmalloc((size_t)depth * 2 + 2);
	memset(s, '[', (size_t)depth);
	memset(s + depth, ']', (size_t)depth);
	s[2 * depth] = '\n';
	s[2 * depth + 1] = '\0';
	return s;
}

START_TEST(depth_limit_exact)
{
	char *ok = nested(MODEL_MAX_DEPTH), *bad = nested(MODEL_MAX_DEPTH + 1);
	struct ydoc *doc = parse(ok);
	ck_assert_ptr_nonnull(doc);
	ydoc_free(doc);
	refused(bad, "1:33: nesting deeper than 32 levels");
	free(ok);
	free(bad);
}
END_TEST

START_TEST(depth_10000_refused)
{
	char *s = xmalloc(10002);
	memset(s, '[', 10000);
	s[10000] = '\n';
	s[10001] = '\0';
	refused(s, "1:33: nesting deeper than 32 levels");
	ck_assert_int_eq(d.n, 1);
	free(s);
}
END_TEST

START_TEST(block_nesting_limit)
{
	struct sbuf sb;
	sbuf_init(&sb);
	for (int i = 0; i < 40; i++) {
		for (int k = 0; k < i; k++)
			sbuf_adds(&sb, "  ");
		sbuf_addf(&sb, "k%d:\n", i);
	}
	refused(sb.buf, "33:65: nesting deeper than 32 levels");
	sbuf_release(&sb);
}
END_TEST

START_TEST(node_limit_custom)
{
	struct ylimits lim = {1000, 8, 5};
	struct ydoc *doc = ydoc_parse("t.yml", "[1, 2, 3, 4]", 12, &lim, &d);
	ck_assert_ptr_nonnull(doc);
	ydoc_free(doc);
	doc = ydoc_parse("t.yml", "[1, 2, 3, 4, 5]", 15, &lim, &d);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(err(0), "1:14: too many YAML nodes (limit 5)");
}
END_TEST

START_TEST(node_limit_default)
{
	size_t n = MODEL_MAX_NODES + 1, len = 2 * n + 1;
	char *s = xmalloc(len + 1);
	s[0] = '[';
	for (size_t i = 0; i < n; i++) {
		s[1 + 2 * i] = '0';
		s[2 + 2 * i] = ',';
	}
	s[len - 1] = ']';
	s[len] = '\0';
	struct ydoc *doc = ydoc_parse("t.yml", s, len, NULL, &d);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(d.v[0].msg, "too many YAML nodes (limit 2000000)");
	free(s);
}
END_TEST

START_TEST(size_limit)
{
	struct ylimits lim = {10, 8, 100};
	struct ydoc *doc = ydoc_parse("t.yml", "a: 12345678901", 14, &lim, &d);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(d.v[0].msg, "file too large (14 bytes, limit 10)");
	ck_assert_int_eq(d.v[0].line, 0);
}
END_TEST

START_TEST(load_file_too_large)
{
	char dir[] = "/tmp/check_yamltree.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *path = xasprintf("%s/big.yml", dir);
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(ftruncate(fileno(fp), 10485760), 0);
	fclose(fp);
	ck_assert_ptr_null(ydoc_load(path, NULL, &d));
	ck_assert_str_eq(d.v[0].msg, "file too large (10485760 bytes, limit 8388608)");
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

START_TEST(load_missing_file)
{
	ck_assert_ptr_null(ydoc_load("/nonexistent/x.yml", NULL, &d));
	ck_assert_str_eq(d.v[0].msg, "cannot read: No such file or directory");
	ck_assert_str_eq(d.v[0].file, "/nonexistent/x.yml");
}
END_TEST

START_TEST(sha256_of_bytes)
{
	const char *s = "a: 1\n";
	char want[65];
	struct ydoc *doc = parse(s);
	sha256_hex(s, strlen(s), want);
	ck_assert_str_eq(ydoc_sha256(doc), want);
	ck_assert_str_eq(ydoc_file(doc), "t.yml");
	ydoc_free(doc);
}
END_TEST

START_TEST(unknown_keys_suggest_or_list)
{
	static const char *const allowed[] = {"require", "run", "name", NULL};
	struct ydoc *doc = parse("requires: x\nrun: y\nzzzzzz: 1\n");
	int n = ymap_check_keys(ydoc_root(doc), allowed, "step", "t.yml", &d);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(err(0), "1:1: unknown key 'requires' in step (did you mean 'require'?)");
	ck_assert_str_eq(err(1),
			 "3:1: unknown key 'zzzzzz' in step (valid keys: require, run, name)");
	ydoc_free(doc);
}
END_TEST

START_TEST(edit_distance)
{
	ck_assert_int_eq(yedit_distance("kitten", "sitting", 5), 3);
	ck_assert_int_eq(yedit_distance("abc", "abc", 2), 0);
	ck_assert_int_eq(yedit_distance("a", "abcdef", 2), 3);
	static const char *const c[] = {"timeout", "retries", NULL};
	ck_assert_str_eq(ysuggest("timout", c), "timeout");
	ck_assert_ptr_null(ysuggest("xyz", c));
	ck_assert_str_eq(ynode_describe(NULL), "nothing");
}
END_TEST

static Suite *yamltree_suite(void)
{
	Suite *s = suite_create("yamltree");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, mapping_shape_and_locations);
	tcase_add_test(tc, nulls_and_strings);
	tcase_add_test(tc, block_scalars_and_end_marks);
	tcase_add_test(tc, standard_tags);
	tcase_add_test(tc, custom_tag_refused);
	tcase_add_test(tc, anchor_refused);
	tcase_add_test(tc, alias_refused);
	tcase_add_test(tc, anchor_on_collection_refused);
	tcase_add_test(tc, duplicate_keys_all_reported);
	tcase_add_test(tc, duplicate_key_in_big_mapping);
	tcase_add_test(tc, same_key_in_different_mappings_is_fine);
	tcase_add_test(tc, complex_key_refused);
	tcase_add_test(tc, multiple_documents_refused);
	tcase_add_test(tc, explicit_single_document_ok);
	tcase_add_test(tc, empty_inputs);
	tcase_add_test(tc, tab_indentation);
	tcase_add_test(tc, syntax_error_with_context);
	tcase_add_test(tc, bad_indentation);
	tcase_add_test(tc, invalid_utf8_located);
	tcase_add_test(tc, latin1_points_at_the_lead_byte);
	tcase_add_test(tc, control_character_located);
	tcase_add_test(tc, nul_byte_refused);
	tcase_add_test(tc, depth_limit_exact);
	tcase_add_test(tc, depth_10000_refused);
	tcase_add_test(tc, block_nesting_limit);
	tcase_add_test(tc, node_limit_custom);
	tcase_add_test(tc, node_limit_default);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, load_file_too_large);
	tcase_add_test(tc, load_missing_file);
	tcase_add_test(tc, sha256_of_bytes);
	tcase_add_test(tc, unknown_keys_suggest_or_list);
	tcase_add_test(tc, edit_distance);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(yamltree_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
