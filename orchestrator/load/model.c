/*
 * model.c — value kinds, lookups, and the cross-check of an inventory
 * against a playbook (contracts in model.h).
 *
 * The kind patterns are the line between data and command text: every
 * value substituted into a command must fit its kind, so a host name can
 * never carry a `;`, a path never a `"` or `&`.  They are hand-written
 * matchers rather than regexes so that each is readable next to the
 * pattern documented in model.h and docs/playbook.md.
 */
#include "model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "loader.h"
#include "util.h"

static const char *const kind_names[] = {"name", "service", "path", "version", "int",	  "word",
					 "text", "url",	    "enum", "raw",     "package", "dn"};

const char *var_kind_name(enum var_kind kind)
{
	if ((unsigned)kind >= CCR_ARRAY_LEN(kind_names))
		return "?";
	return kind_names[kind];
}

int var_kind_parse(const char *s)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(kind_names); i++)
		if (strcmp(s, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *var_kind_hint(enum var_kind kind)
{
	switch (kind) {
	case VK_NAME:
		return "a host or DNS name: letters, digits, '-' and dots, e.g. NODE1";
	case VK_SERVICE:
		return "a service name: 1-80 of letters, digits, _ . @ -";
	case VK_PATH:
		return "a path: letters, digits, space, _ . - \\ / ( ), optional drive 'C:'";
	case VK_VERSION:
		return "dotted numbers, e.g. 8.1.240.6";
	case VK_INT:
		return "a decimal integer";
	case VK_WORD:
		return "letters, digits, _ . -";
	case VK_TEXT:
		return "up to 200 of letters, digits, space and _ . , : ( ) -";
	case VK_URL:
		return "http(s)://host[:port][/path], or empty";
	case VK_ENUM:
		return "one of the declared values";
	case VK_PACKAGE:
		return "a package name or version: letters, digits and . + _ : ~ = -, starting "
		       "with "
		       "a letter or digit (postgresql-15=15.10-0+deb12u1), or empty";
	case VK_DN:
		return "an LDAP distinguished name: ATTR=VALUE pairs separated by commas, values "
		       "of letters, digits, space and _ . - (CN=Users,DC=contoso,DC=com)";
	default:
		return "anything";
	}
}

/* One RDN of a DN: ATTR=VALUE, ATTR a letter then letters, digits, '-'; VALUE not empty,
 * [A-Za-z0-9 _.-], neither starting nor ending with a space. */
static int check_rdn(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-'))
		i++;
	if (i == n || s[i] != '=' || i + 1 == n || s[i + 1] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i++; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(" _.-", s[i]))
			return 0;
	return 1;
}

static int check_dn(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 1024)
		return 0;
	for (const char *p = v;;) {
		const char *c = strchr(p, ',');
		size_t len = c != NULL ? (size_t)(c - p) : strlen(p);
		if (!check_rdn(p, len))
			return 0;
		if (c == NULL)
			return 1;
		p = c + 1;
	}
}

static int all_in(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && (s[i] == '\0' || !strchr(set, s[i])))
			return 0;
	return 1;
}

static int check_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253 || !isalnum((unsigned char)s[0]) || s[n - 1] == '.')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
	return all_in(s, n, "-.");
}

static int check_path(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 1024 || s[0] == '-')
		return 0;
	if (n >= 2 && s[1] == ':' && isalpha((unsigned char)s[0]))
		return all_in(s + 2, n - 2, " _.-\\/()");
	return all_in(s, n, " _.-\\/()");
}

static int check_version(const char *s)
{
	int digits = 0;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			if (++digits > 10)
				return 0;
		} else if (*s == '.' && digits > 0) {
			digits = 0;
		} else {
			return 0;
		}
	}
	return digits > 0;
}

static int check_int(const char *s)
{
	int64_t v;
	return parse_int64(s, INT64_MIN, INT64_MAX, &v) == 0;
}

static int check_url_host(const char *h, size_t n)
{
	char buf[256];
	unsigned char addr[16];

	if (n == 0 || n >= sizeof(buf))
		return 0;
	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']')
			return 0;
		memcpy(buf, h + 1, n - 2);
		buf[n - 2] = '\0';
		return inet_pton(AF_INET6, buf, addr) == 1;
	}
	memcpy(buf, h, n);
	buf[n] = '\0';
	return check_name(buf);
}

static int check_url_path(const char *p)
{
	for (; *p; p++) {
		if (*p == '%') {
			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				return 0;
			p += 2;
		} else if (!isalnum((unsigned char)*p) && !strchr("._~-/+=?,:@", *p)) {
			return 0;
		}
	}
	return 1;
}

static int check_url(const char *s)
{
	const char *h, *end, *colon;
	int64_t port;

	if (*s == '\0')
		return 1;
	if (str_startswith(s, "https://"))
		h = s + 8;
	else if (str_startswith(s, "http://"))
		h = s + 7;
	else
		return 0;
	end = h + strcspn(h, "/");
	colon = NULL;
	for (const char *p = h; p < end; p++)
		if (*p == ':' && (h[0] != '[' || p[-1] == ']'))
			colon = p;
	if (colon) {
		char pbuf[8];
		size_t pn = (size_t)(end - colon - 1);
		if (pn == 0 || pn >= sizeof(pbuf))
			return 0;
		memcpy(pbuf, colon + 1, pn);
		pbuf[pn] = '\0';
		if (parse_int64(pbuf, 1, 65535, &port) < 0)
			return 0;
	}
	if (!check_url_host(h, (size_t)((colon ? colon : end) - h)))
		return 0;
	return check_url_path(end);
}

int var_kind_check(enum var_kind kind, const struct var_def *def, const char *value)
{
	size_t n = strlen(value);

	switch (kind) {
	case VK_NAME:
		return check_name(value);
	case VK_SERVICE:
		return n >= 1 && n <= 80 && all_in(value, n, "_.@-");
	case VK_PATH:
		return check_path(value);
	case VK_VERSION:
		return check_version(value);
	case VK_INT:
		return check_int(value);
	case VK_WORD:
		return n >= 1 && n <= 200 && all_in(value, n, "_.-");
	case VK_TEXT:
		return n <= 200 && all_in(value, n, " _.,:()-");
	case VK_URL:
		return check_url(value);
	case VK_ENUM:
		for (int i = 0; def && i < def->nvalues; i++)
			if (strcmp(def->values[i], value) == 0)
				return 1;
		return 0;
	case VK_RAW:
		return 1;
	case VK_PACKAGE:
		return n == 0 || (n <= 200 && isalnum((unsigned char)value[0]) &&
				  all_in(value, n, ".+_:~=-"));
	case VK_DN:
		return check_dn(value);
	}
	return 0;
}

const struct var_def *playbook_var(const struct playbook *pb, const char *name)
{
	for (int i = 0; i < pb->nvars; i++)
		if (strcmp(pb->vars[i].name, name) == 0)
			return &pb->vars[i];
	return NULL;
}

const struct fact_def *playbook_fact(const struct playbook *pb, const char *name)
{
	for (int i = 0; i < pb->nfacts; i++)
		if (strcmp(pb->facts[i].name, name) == 0)
			return &pb->facts[i];
	return NULL;
}

const struct role_def *playbook_role(const struct playbook *pb, const char *name)
{
	for (int i = 0; i < pb->nroles; i++)
		if (strcmp(pb->roles[i].name, name) == 0)
			return &pb->roles[i];
	return NULL;
}

const char *playbook_service_label(const struct playbook *pb)
{
	return pb && pb->service_label ? pb->service_label : "service";
}

const struct host_def *inventory_host(const struct inventory *inv, const char *name)
{
	if (inv->host_index) {
		int i = nameidx_get(inv->host_index, name);
		return i >= 0 ? &inv->hosts[i] : NULL;
	}
	for (int i = 0; i < inv->nhosts; i++)
		if (strcmp(inv->hosts[i].name, name) == 0)
			return &inv->hosts[i];
	return NULL;
}

const struct cluster_def *inventory_cluster(const struct inventory *inv, const char *name)
{
	if (inv->cluster_index) {
		int i = nameidx_get(inv->cluster_index, name);
		return i >= 0 ? &inv->clusters[i] : NULL;
	}
	for (int i = 0; i < inv->nclusters; i++)
		if (strcmp(inv->clusters[i].name, name) == 0)
			return &inv->clusters[i];
	return NULL;
}

const struct host_group *cluster_group(const struct cluster_def *c, const char *name)
{
	for (int i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

const struct inv_value *cluster_var(const struct cluster_def *c, const char *name)
{
	for (int i = 0; i < c->nvars; i++)
		if (strcmp(c->vars[i].key, name) == 0)
			return &c->vars[i];
	return NULL;
}
