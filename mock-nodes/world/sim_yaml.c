/*
 * sim_yaml.c — see sim_yaml.h.  Lines and columns are 1-based, as editors
 * show them (libyaml's marks are 0-based).
 */
#include "sim_yaml.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_world_int.h"

#define SIM_YAML_MAX_BYTES (4u << 20)

int sim_yaml_fail(struct sim_yaml *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	if (y->failed)
		return -1;
	y->failed = 1;
	char *msg;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	snprintf(y->err, y->errlen, "%s:%d:%d: %s", y->path, n ? (int)n->start_mark.line + 1 : 1,
		 n ? (int)n->start_mark.column + 1 : 1, msg);
	free(msg);
	return -1;
}

int sim_yaml_load(struct sim_yaml *y, const char *path, char *err, size_t errlen)
{
	yaml_parser_t p;
	char *data = NULL;
	size_t len = 0;
	int rc = -1;
	memset(y, 0, sizeof(*y));
	y->path = path;
	y->err = err;
	y->errlen = errlen;
	if (read_file(path, SIM_YAML_MAX_BYTES, &data, &len) != 0) {
		snprintf(err, errlen, "%s:0:0: cannot read the scenario file", path);
		y->failed = 1;
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &y->doc)) {
		snprintf(err, errlen, "%s:%d:%d: %s", path, (int)p.problem_mark.line + 1,
			 (int)p.problem_mark.column + 1, p.problem ? p.problem : "YAML error");
		y->failed = 1;
		memset(&y->doc, 0, sizeof(y->doc));
		goto out;
	}
	if (yaml_document_get_root_node(&y->doc) == NULL) {
		snprintf(err, errlen, "%s:1:1: the scenario is empty", path);
		y->failed = 1;
		goto out;
	}
	rc = 0;
out:
	yaml_parser_delete(&p);
	free(data);
	return rc;
}

void sim_yaml_release(struct sim_yaml *y)
{
	if (y->doc.nodes.start != NULL)
		yaml_document_delete(&y->doc);
	memset(&y->doc, 0, sizeof(y->doc));
}

yaml_node_t *sim_yaml_root(struct sim_yaml *y)
{
	return yaml_document_get_root_node(&y->doc);
}

yaml_node_t *sim_yaml_node(struct sim_yaml *y, int index)
{
	return yaml_document_get_node(&y->doc, index);
}

int sim_yaml_is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

const char *sim_yaml_scalar(struct sim_yaml *y, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		sim_yaml_fail(y, n, "%s: expected a scalar value", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int key_allowed(const char *k, const char *const *allowed)
{
	for (int i = 0; allowed[i] != NULL; i++)
		if (strcmp(allowed[i], k) == 0)
			return 1;
	return 0;
}

int sim_yaml_check_map(struct sim_yaml *y, yaml_node_t *n, const char *const *allowed)
{
	if (n->type != YAML_MAPPING_NODE)
		return sim_yaml_fail(y, n, "expected a mapping");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = sim_yaml_node(y, p->key);
		if (k->type != YAML_SCALAR_NODE)
			return sim_yaml_fail(y, k, "mapping keys must be scalars");
		const char *ks = (const char *)k->data.scalar.value;
		if (allowed != NULL && !key_allowed(ks, allowed))
			return sim_yaml_fail(y, k, "unknown key \"%s\"", ks);
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = sim_yaml_node(y, q->key);
			if (k2->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k2->data.scalar.value, ks) == 0)
				return sim_yaml_fail(y, k, "duplicate key \"%s\"", ks);
		}
	}
	return 0;
}

yaml_node_t *sim_yaml_get(struct sim_yaml *y, yaml_node_t *n, const char *key)
{
	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = sim_yaml_node(y, p->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return sim_yaml_node(y, p->value);
	}
	return NULL;
}

int sim_yaml_int(struct sim_yaml *y, yaml_node_t *map, const char *key, int64_t min, int64_t max,
		 int64_t def, int64_t *out)
{
	yaml_node_t *v = sim_yaml_get(y, map, key);
	*out = def;
	if (v == NULL)
		return 0;
	const char *s = sim_yaml_scalar(y, v, key);
	if (s == NULL)
		return -1;
	if (parse_int64(s, min, max, out) != 0)
		return sim_yaml_fail(y, v, "%s: expected an integer in [%lld, %lld], got \"%s\"",
				     key, (long long)min, (long long)max, s);
	return 0;
}

int sim_yaml_bool(struct sim_yaml *y, yaml_node_t *map, const char *key, int def, int *out)
{
	yaml_node_t *v = sim_yaml_get(y, map, key);
	*out = def;
	if (v == NULL)
		return 0;
	const char *s = sim_yaml_scalar(y, v, key);
	if (s == NULL)
		return -1;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = 0;
	else
		return sim_yaml_fail(y, v, "%s: expected true or false, got \"%s\"", key, s);
	return 0;
}

int sim_yaml_str(struct sim_yaml *y, yaml_node_t *map, const char *key, const char *def,
		 const char **out)
{
	yaml_node_t *v = sim_yaml_get(y, map, key);
	*out = def;
	if (v == NULL)
		return 0;
	*out = sim_yaml_scalar(y, v, key);
	if (*out == NULL)
		return -1;
	if ((*out)[0] == '\0')
		return sim_yaml_fail(y, v, "%s: must not be empty", key);
	return 0;
}

int sim_yaml_duration(struct sim_yaml *y, yaml_node_t *map, const char *key, int64_t def,
		      int64_t *out)
{
	yaml_node_t *v = sim_yaml_get(y, map, key);
	*out = def;
	if (v == NULL)
		return 0;
	const char *s = sim_yaml_scalar(y, v, key);
	if (s == NULL)
		return -1;
	if (parse_duration_ms(s, out) != 0)
		return sim_yaml_fail(
		    y, v, "%s: expected a duration like 30m, 90s or 200ms, got \"%s\"", key, s);
	return 0;
}

int sim_yaml_version(struct sim_yaml *y, yaml_node_t *map, const char *key, const char *def,
		     char **out)
{
	yaml_node_t *v = sim_yaml_get(y, map, key);
	int parts[4];
	*out = NULL;
	if (v == NULL) {
		*out = def ? xstrdup(def) : NULL;
		return 0;
	}
	const char *s = sim_yaml_scalar(y, v, key);
	if (s == NULL)
		return -1;
	if (sim_ver_parse(s, parts) != 0 || strchr(s, '.') == NULL)
		return sim_yaml_fail(y, v, "%s: expected a version like 8.1.240.6, got \"%s\"", key,
				     s);
	*out = xstrdup(s);
	return 0;
}

int sim_parse_iso(const char *s, int64_t *unix_s)
{
	struct tm tm;
	int Y, M, D, h, m, sec;
	memset(&tm, 0, sizeof(tm));
	size_t n = strlen(s);
	if ((n != 19 && !(n == 20 && s[19] == 'Z')) || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return -1;
	if (parse_digits(s, 4, &Y) || parse_digits(s + 5, 2, &M) || parse_digits(s + 8, 2, &D) ||
	    parse_digits(s + 11, 2, &h) || parse_digits(s + 14, 2, &m) ||
	    parse_digits(s + 17, 2, &sec))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 59)
		return -1;
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*unix_s = (int64_t)timegm(&tm);
	return 0;
}

static json_t *scalar_json(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	int64_t v;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (parse_int64(s, INT64_MIN, INT64_MAX, &v) == 0)
			return json_integer(v);
		if (sim_yaml_is_null(n))
			return json_null();
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
			return json_boolean(s[0] == 't');
	}
	return json_string(s);
}

json_t *sim_yaml_json(struct sim_yaml *y, yaml_node_t *n)
{
	if (n->type == YAML_SCALAR_NODE)
		return scalar_json(n);
	if (n->type == YAML_SEQUENCE_NODE) {
		json_t *a = json_array();
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++)
			json_array_append_new(a, sim_yaml_json(y, sim_yaml_node(y, *i)));
		return a;
	}
	json_t *o = json_object();
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = sim_yaml_node(y, p->key);
		if (k->type == YAML_SCALAR_NODE)
			json_object_set_new(o, (const char *)k->data.scalar.value,
					    sim_yaml_json(y, sim_yaml_node(y, p->value)));
	}
	return o;
}
