/*
 * etcd_json.c — see etcd_json.h.  Base64 is OpenSSL's (EVP_EncodeBlock,
 * EVP_DecodeBlock); the only care taken here is that EVP_DecodeBlock
 * counts the bytes padding stands for, so the '=' are subtracted.
 */
#include "etcd_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

char *etcd_b64_encode(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
	return out;
}

char *etcd_b64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text);
	char *out;
	int got, pad = 0;

	if (n % 4 != 0 || n > (size_t)1 << 30)
		return NULL;
	out = xmalloc(n / 4 * 3 + 1);
	got = n ? EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n) : 0;
	if (got < 0) {
		free(out);
		return NULL;
	}
	if (n >= 1 && text[n - 1] == '=')
		pad++;
	if (n >= 2 && text[n - 2] == '=')
		pad++;
	*len = (size_t)got - (size_t)pad;
	out[*len] = '\0';
	return out;
}

int etcd_json_int(const json_t *obj, const char *key, int64_t *v)
{
	json_t *m = json_object_get(obj, key);
	const char *s;

	*v = 0;
	if (m == NULL)
		return 0;
	if (json_is_integer(m)) {
		*v = (int64_t)json_integer_value(m);
		return 0;
	}
	s = json_string_value(m);
	if (s == NULL || *s == '\0')
		return -1;
	/* uint64 values (lease ids, member ids) above INT64_MAX do not occur for
	 * the fields we read; parse_int64 refuses them rather than wrapping. */
	if (parse_int64(s, INT64_MIN, INT64_MAX, v) < 0) {
		*v = 0;
		return -1;
	}
	return 0;
}

int64_t etcd_json_int0(const json_t *obj, const char *key)
{
	int64_t v;

	return etcd_json_int(obj, key, &v) == 0 ? v : 0;
}

int etcd_json_bool(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

json_t *etcd_json_int64(int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_string(buf);
}

static json_t *b64_string(const void *data, size_t len)
{
	char *s = etcd_b64_encode(data, len);
	json_t *j = json_string(s);

	free(s);
	return j;
}

char *etcd_prefix_end(const char *prefix)
{
	char *end = xstrdup(prefix);
	size_t n = strlen(end);

	/* Our prefixes are printable text, so the last byte can always be bumped. */
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		end[--n] = '\0';
	if (n > 0)
		end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	return end;
}

json_t *etcd_req_key(const char *key, const char *end)
{
	json_t *o = json_object();

	json_object_set_new(o, "key", b64_string(key, strlen(key)));
	if (end != NULL)
		json_object_set_new(o, "range_end", b64_string(end, strlen(end)));
	return o;
}

json_t *etcd_req_prefix(const char *prefix)
{
	char *end = etcd_prefix_end(prefix);
	json_t *o = etcd_req_key(prefix, end);

	free(end);
	return o;
}

json_t *etcd_req_put(const char *key, const void *value, size_t len, int64_t lease)
{
	json_t *o = etcd_req_key(key, NULL);

	json_object_set_new(o, "value", b64_string(value, len));
	if (lease != 0)
		json_object_set_new(o, "lease", etcd_json_int64(lease));
	return o;
}

static json_t *cmp_rev(const char *key, const char *target, const char *field, int64_t rev)
{
	json_t *o = etcd_req_key(key, NULL);

	json_object_set_new(o, "target", json_string(target));
	json_object_set_new(o, "result", json_string("EQUAL"));
	json_object_set_new(o, field, etcd_json_int64(rev));
	return o;
}

json_t *etcd_cmp_create(const char *key, int64_t rev)
{
	return cmp_rev(key, "CREATE", "create_revision", rev);
}

json_t *etcd_cmp_mod(const char *key, int64_t rev)
{
	return cmp_rev(key, "MOD", "mod_revision", rev);
}

static int parse_kv(const json_t *o, struct etcd_kv *kv)
{
	const char *k = json_string_value(json_object_get(o, "key"));
	const char *v = json_string_value(json_object_get(o, "value"));

	if (!json_is_object(o) || k == NULL)
		return -1;
	if ((kv->key = etcd_b64_decode(k, &kv->key_len)) == NULL)
		return -1;
	kv->value = etcd_b64_decode(v ? v : "", &kv->value_len);
	if (kv->value == NULL)
		return -1;
	if (etcd_json_int(o, "create_revision", &kv->create_revision) < 0 ||
	    etcd_json_int(o, "mod_revision", &kv->mod_revision) < 0 ||
	    etcd_json_int(o, "version", &kv->version) < 0 ||
	    etcd_json_int(o, "lease", &kv->lease) < 0)
		return -1;
	return 0;
}

int etcd_parse_kvs(const json_t *resp, struct etcd_kv **kvs, size_t *n, int *more)
{
	json_t *arr = json_object_get(resp, "kvs");
	size_t cnt = json_array_size(arr);
	struct etcd_kv *out = NULL;

	*kvs = NULL;
	*n = 0;
	if (more != NULL)
		*more = etcd_json_bool(resp, "more");
	if (arr != NULL && !json_is_array(arr))
		return -1;
	if (cnt == 0)
		return 0;
	out = xcalloc(cnt, sizeof(*out));
	for (size_t i = 0; i < cnt; i++) {
		if (parse_kv(json_array_get(arr, i), &out[i]) < 0) {
			etcd_kvs_free(out, i + 1);
			return -1;
		}
	}
	*kvs = out;
	*n = cnt;
	return 0;
}

void etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; kvs != NULL && i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}
