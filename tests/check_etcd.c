/*
 * check_etcd.c — the pure parts of the etcd state backend: the gateway's
 * JSON (etcd_json.h: int64 as strings, omitted zero/false fields, base64
 * keys and values), the state URL (state_url.h), and journals kept in a
 * store (journal_open_store: replay, append through the store, a failed
 * append is sticky).  The protocol against a real etcd is tested by
 * tests/integration/etcd_*.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "etcd_json.h"
#include "journal.h"
#include "state_url.h"
#include "util.h"

static json_t *parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(int64_as_string_or_number_or_missing)
{
	json_t *o = parse("{\"a\":\"42\",\"b\":7,\"c\":\"-9223372036854775808\","
			  "\"d\":\"9223372036854775807\",\"e\":\"x1\",\"f\":\"\",\"g\":true,"
			  "\"h\":\"18446744073709551615\",\"i\":\" 5\"}");
	int64_t v = 99;

	ck_assert_int_eq(etcd_json_int(o, "a", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(etcd_json_int(o, "b", &v), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(etcd_json_int(o, "c", &v), 0);
	ck_assert(v == INT64_MIN);
	ck_assert_int_eq(etcd_json_int(o, "d", &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(etcd_json_int(o, "missing", &v), 0); /* omitted = zero */
	ck_assert_int_eq(v, 0);
	for (const char *k = "efghi"; *k; k++) {
		char key[2] = {*k, 0};
		v = 5;
		ck_assert_int_eq(etcd_json_int(o, key, &v), -1);
		ck_assert_int_eq(v, 0);
		ck_assert_int_eq(etcd_json_int0(o, key), 0);
	}
	ck_assert_int_eq(etcd_json_int0(NULL, "a"), 0);
	json_decref(o);
}
END_TEST

START_TEST(omitted_false_fields)
{
	/* A failed txn as etcd 3.4's gateway sends it: no "succeeded" at all. */
	json_t *failed =
	    parse("{\"header\":{\"revision\":\"3\"},\"responses\":[{\"response_range\":"
		  "{\"header\":{\"revision\":\"3\"}}}]}");
	json_t *ok = parse("{\"header\":{\"revision\":\"4\"},\"succeeded\":true}");
	json_t *str = parse("{\"succeeded\":\"true\"}");
	/* An expired lease's keepalive: no TTL. */
	json_t *ka = parse("{\"result\":{\"header\":{\"revision\":\"3\"},\"ID\":\"77\"}}");

	ck_assert_int_eq(etcd_json_bool(failed, "succeeded"), 0);
	ck_assert_int_eq(etcd_json_bool(ok, "succeeded"), 1);
	ck_assert_int_eq(etcd_json_bool(str, "succeeded"), 0);
	ck_assert_int_eq(etcd_json_int0(json_object_get(ka, "result"), "TTL"), 0);
	ck_assert_int_eq(etcd_json_int0(json_object_get(ka, "result"), "ID"), 77);
	ck_assert_int_eq(etcd_json_int0(json_object_get(failed, "header"), "revision"), 3);
	json_decref(failed);
	json_decref(ok);
	json_decref(str);
	json_decref(ka);
}
END_TEST

START_TEST(range_kvs)
{
	struct etcd_kv *kvs = NULL;
	size_t n = 9;
	int more = 7;
	/* "a/1" -> "x\n", create 5, mod 6; "a/2" -> "" (value omitted: empty), lease id */
	json_t *r = parse("{\"header\":{},\"kvs\":[{\"key\":\"YS8x\",\"create_revision\":\"5\","
			  "\"mod_revision\":\"6\",\"version\":\"1\",\"value\":\"eAo=\"},"
			  "{\"key\":\"YS8y\",\"lease\":\"694d7ad0d9b9e012\"}],\"count\":\"2\"}");
	json_t *empty = parse("{\"header\":{\"revision\":\"1\"}}");
	json_t *more_r = parse("{\"kvs\":[],\"more\":true}");

	/* A lease id is decimal on the wire; hex text is malformed. */
	ck_assert_int_eq(etcd_parse_kvs(r, &kvs, &n, &more), -1);
	ck_assert_ptr_null(kvs);
	json_object_set_new(json_array_get(json_object_get(r, "kvs"), 1), "lease",
			    json_string("7587862000617496594"));
	ck_assert_int_eq(etcd_parse_kvs(r, &kvs, &n, &more), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(more, 0);
	ck_assert_str_eq(kvs[0].key, "a/1");
	ck_assert_int_eq(kvs[0].value_len, 2);
	ck_assert_str_eq(kvs[0].value, "x\n");
	ck_assert_int_eq(kvs[0].create_revision, 5);
	ck_assert_int_eq(kvs[0].mod_revision, 6);
	ck_assert_int_eq(kvs[0].lease, 0);
	ck_assert_str_eq(kvs[1].value, "");
	ck_assert_int_eq(kvs[1].value_len, 0);
	ck_assert(kvs[1].lease == 7587862000617496594LL);
	ck_assert_int_eq(kvs[1].create_revision, 0);
	etcd_kvs_free(kvs, n);
	ck_assert_int_eq(etcd_parse_kvs(empty, &kvs, &n, &more), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(etcd_parse_kvs(more_r, &kvs, &n, &more), 0);
	ck_assert_int_eq(more, 1);
	json_decref(r);
	json_decref(empty);
	json_decref(more_r);
}
END_TEST

START_TEST(malformed_kvs)
{
	static const char *const bad[] = {
	    "{\"kvs\":{}}",
	    "{\"kvs\":[1]}",
	    "{\"kvs\":[{}]}",
	    "{\"kvs\":[{\"key\":\"!!!!\"}]}",
	    "{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"abc\"}]}",
	    "{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"1e3\"}]}",
	    "{\"kvs\":[{\"key\":\"YQ==\",\"version\":[]}]}",
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(bad); i++) {
		json_t *r = parse(bad[i]);
		struct etcd_kv *kvs = (void *)1;
		size_t n = 5;
		ck_assert_msg(etcd_parse_kvs(r, &kvs, &n, NULL) == -1, "%s", bad[i]);
		ck_assert_ptr_null(kvs);
		ck_assert_int_eq(n, 0);
		json_decref(r);
	}
}
END_TEST

START_TEST(base64_round_trip)
{
	unsigned char all[256];
	size_t len;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	for (size_t n = 0; n <= 256; n += (n < 8 ? 1 : 37)) {
		char *enc = etcd_b64_encode(all, n);
		char *dec = etcd_b64_decode(enc, &len);
		ck_assert_ptr_nonnull(dec);
		ck_assert_int_eq(len, n);
		ck_assert(memcmp(dec, all, n) == 0);
		ck_assert_int_eq(dec[len], '\0');
		free(enc);
		free(dec);
	}
	ck_assert_ptr_null(etcd_b64_decode("abc", &len));
	ck_assert_ptr_null(etcd_b64_decode("a b=", &len));
}
END_TEST

START_TEST(requests_carry_int64_as_strings)
{
	json_t *put = etcd_req_put("k", "v", 1, 123456789012345LL);
	json_t *cmp = etcd_cmp_create("k", 0);
	json_t *nolease = etcd_req_put("k", "", 0, 0);
	json_t *pre = etcd_req_prefix("ccrup/clusters/A/");

	ck_assert_str_eq(json_string_value(json_object_get(put, "lease")), "123456789012345");
	ck_assert_str_eq(json_string_value(json_object_get(put, "key")), "aw==");
	ck_assert_str_eq(json_string_value(json_object_get(put, "value")), "dg==");
	ck_assert_ptr_null(json_object_get(nolease, "lease"));
	ck_assert_str_eq(json_string_value(json_object_get(nolease, "value")), "");
	ck_assert_str_eq(json_string_value(json_object_get(cmp, "create_revision")), "0");
	ck_assert_str_eq(json_string_value(json_object_get(cmp, "target")), "CREATE");
	ck_assert_str_eq(json_string_value(json_object_get(cmp, "result")), "EQUAL");
	size_t len;
	char *end = etcd_b64_decode(json_string_value(json_object_get(pre, "range_end")), &len);
	ck_assert_str_eq(end, "ccrup/clusters/A0"); /* '/' + 1 */
	free(end);
	json_decref(put);
	json_decref(cmp);
	json_decref(nolease);
	json_decref(pre);
}
END_TEST

START_TEST(state_urls)
{
	struct state_url u;
	char err[256];

	ck_assert_int_eq(state_url_parse("etcd://127.0.0.1:2379/ccrup", &u, err, sizeof(err)), 0);
	ck_assert_int_eq(u.nendpoints, 1);
	ck_assert_str_eq(u.endpoints[0], "127.0.0.1:2379");
	ck_assert_str_eq(u.prefix, "ccrup");
	ck_assert_int_eq(u.tls, 0);
	state_url_release(&u);
	ck_assert_int_eq(
	    state_url_parse("etcds://a.example:1,[::1]:2,b-c:3/x/y.z/?ttl=5", &u, err, sizeof(err)),
	    0);
	ck_assert_int_eq(u.nendpoints, 3);
	ck_assert_str_eq(u.endpoints[1], "[::1]:2");
	ck_assert_str_eq(u.prefix, "x/y.z");
	ck_assert_int_eq(u.tls, 1);
	ck_assert_int_eq(u.ttl_s, 5);
	state_url_release(&u);

	static const struct {
		const char *url;
		const char *want; /* substring of the message, with the column */
	} bad[] = {
	    {"http://h:1/p", "column 1: must start with etcd://"},
	    {"etcd://h:1", "column 11: missing /PREFIX"},
	    {"etcd://h:1/", "missing /PREFIX"},
	    {"etcd://h/p", "column 9: endpoint needs HOST:PORT"},
	    {"etcd://h:0/p", "column 10: port must be 1-65535"},
	    {"etcd://h:65536/p", "port must be 1-65535"},
	    {"etcd://h:1,/p", "column 12: empty endpoint"},
	    {"etcd://:1/p", "column 8: bad host name"},
	    {"etcd://h;x:1/p", "bad host name"},
	    {"etcd://h:1/a//b", "column 14: prefix segments"},
	    {"etcd://h:1/a/../b", "prefix segments"},
	    {"etcd://h:1/a b", "prefix segments"},
	    {"etcd://h:1/p?ttl=1", "ttl=SECONDS (2-3600)"},
	    {"etcd://h:1/p?x=1", "the only option is ttl"},
	    {"etcd:///p", "no endpoint"},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(state_url_parse(bad[i].url, &u, err, sizeof(err)) == -1, "%s",
			      bad[i].url);
		ck_assert_msg(strstr(err, bad[i].want) != NULL, "%s: got '%s'", bad[i].url, err);
		ck_assert_int_eq(u.nendpoints, 0);
		ck_assert_ptr_null(u.prefix);
	}
}
END_TEST

/* A fake store: keeps lines in memory; fails from append number fail_at on. */
struct fake_store {
	struct sbuf data;
	int calls;
	int fail_at;
	long long last_seq;
};

static int fake_append(void *arg, long long seq, const char *line, size_t len, char *why,
		       size_t whylen)
{
	struct fake_store *fs = arg;

	fs->calls++;
	if (fs->fail_at > 0 && fs->calls >= fs->fail_at) {
		snprintf(why, whylen, "lost the lock");
		return -1;
	}
	ck_assert_int_eq(seq, fs->last_seq + 1);
	ck_assert_int_eq(line[len - 1], '\n');
	fs->last_seq = seq;
	sbuf_add(&fs->data, line, len);
	return 0;
}

static const struct journal_store fake = {fake_append};

START_TEST(journal_in_a_store)
{
	struct fake_store fs = {.fail_at = 0};
	struct journal *j = NULL, *j2 = NULL;
	char msg[256];
	json_t *rec = json_pack("{s:s}", "event", "begin");

	sbuf_init(&fs.data);
	ck_assert_int_eq(journal_open_store("etcd:x", "", 0, &fake, &fs, &j, msg, sizeof(msg)),
			 JOURNAL_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(journal_append(j, rec), 0);
	journal_close(j);
	/* The bytes stored replay as the same journal, and appends continue the seq. */
	ck_assert_int_eq(journal_open_store("etcd:x", fs.data.buf, fs.data.len, &fake, &fs, &j2,
					    msg, sizeof(msg)),
			 JOURNAL_OK);
	ck_assert_int_eq(journal_count(j2), 3);
	fs.fail_at = fs.calls + 2;
	ck_assert_int_eq(journal_append(j2, rec), 0);
	ck_assert_int_eq(journal_append(j2, rec), -1); /* the store refused */
	ck_assert_ptr_nonnull(strstr(journal_error(j2), "lost the lock"));
	fs.fail_at = 0;
	ck_assert_int_eq(journal_append(j2, rec), -1); /* sticky */
	ck_assert_int_eq(journal_count(j2), 4);
	journal_close(j2);
	/* Read-only (no store): appends fail, nothing is called. */
	int calls = fs.calls;
	ck_assert_int_eq(journal_open_store("etcd:x", fs.data.buf, fs.data.len, NULL, NULL, &j, msg,
					    sizeof(msg)),
			 JOURNAL_OK);
	ck_assert_int_eq(journal_append(j, rec), -1);
	ck_assert_int_eq(fs.calls, calls);
	journal_close(j);
	/* A store never holds half a record: a missing newline is corruption. */
	ck_assert_int_eq(journal_open_store("etcd:x", fs.data.buf, fs.data.len - 1, &fake, &fs, &j,
					    msg, sizeof(msg)),
			 JOURNAL_CORRUPT);
	ck_assert_ptr_null(j);
	ck_assert_ptr_nonnull(strstr(msg, "etcd:x"));
	/* A damaged record is reported with its line, as for a file. */
	fs.data.buf[fs.data.len - 5] ^= 1;
	ck_assert_int_eq(journal_open_store("etcd:x", fs.data.buf, fs.data.len, &fake, &fs, &j, msg,
					    sizeof(msg)),
			 JOURNAL_CORRUPT);
	ck_assert_ptr_nonnull(strstr(msg, "etcd:x:4:"));
	json_decref(rec);
	sbuf_release(&fs.data);
}
END_TEST

static Suite *etcd_suite(void)
{
	Suite *s = suite_create("etcd");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, int64_as_string_or_number_or_missing);
	tcase_add_test(tc, omitted_false_fields);
	tcase_add_test(tc, range_kvs);
	tcase_add_test(tc, malformed_kvs);
	tcase_add_test(tc, base64_round_trip);
	tcase_add_test(tc, requests_carry_int64_as_strings);
	tcase_add_test(tc, state_urls);
	tcase_add_test(tc, journal_in_a_store);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(etcd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
