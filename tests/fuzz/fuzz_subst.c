/*
 * fuzz_subst.c — libFuzzer target for variable substitution, the line
 * between inventory data and command text (subst.h, model.h).
 *
 * Input: byte 0 picks the variable's kind, byte 1 where the value comes
 * from (cluster var, host var, playbook default, the node, cluster or cms
 * builtins, a role's host, a for_each item), the rest up to a NUL is the
 * value.  A one-variable playbook and a one-cluster inventory are built in
 * memory around it and a template that uses the variable twice is expanded.
 *
 * The property: subst_expand() either refuses, with a message, or returns
 * the template with the value in it verbatim, and then every byte of the
 * value is within its kind's documented pattern (model.h) — checked here
 * with an independent, deliberately plain re-statement of the patterns,
 * and never a shell metacharacter unless the kind allows it.
 */
#include <ctype.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "subst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum source {
	SRC_CLUSTER,
	SRC_HOST,
	SRC_DEFAULT,
	SRC_NODE,
	SRC_CLNAME,
	SRC_CMS,
	SRC_ROLE,
	SRC_ITEM,
	SRC_COUNT
};

static const enum var_kind kinds[] = {VK_NAME, VK_SERVICE, VK_PATH, VK_VERSION, VK_INT,
				      VK_WORD, VK_TEXT,	   VK_URL,  VK_ENUM};

/* Characters each kind may contain besides ASCII letters and digits (model.h). */
static const char *extra_chars(enum var_kind k)
{
	switch (k) {
	case VK_NAME:
		return "-.";
	case VK_SERVICE:
		return "_.@-";
	case VK_PATH:
		return " _.-\\/():";
	case VK_VERSION:
		return ".";
	case VK_INT:
		return "-";
	case VK_WORD:
		return "_.-";
	case VK_TEXT:
		return " _.,:()-";
	case VK_URL:
		return "._~-/+=?,:@%[]";
	default:
		return "";
	}
}

static size_t max_len(enum var_kind k)
{
	switch (k) {
	case VK_NAME:
		return 253;
	case VK_SERVICE:
		return 80;
	case VK_TEXT:
	case VK_WORD:
		return 200;
	case VK_PATH:
		return 1024;
	default:
		return SIZE_MAX; /* url, version, int: no length limit is documented */
	}
}

static void check_value(enum var_kind k, const char *v)
{
	size_t n = strlen(v);
	const char *extra = extra_chars(k);

	if (k == VK_ENUM) {
		FUZZ_ASSERT(strcmp(v, "none") == 0 || strcmp(v, "original") == 0);
		return;
	}
	FUZZ_ASSERT(n <= max_len(k));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		FUZZ_ASSERT(c < 0x80 && (isalnum(c) || strchr(extra, c) != NULL));
		FUZZ_ASSERT(strchr(";&|`$\"'<>!*{}#\n\r\t", c) == NULL);
	}
	if (k == VK_NAME || k == VK_SERVICE || k == VK_PATH || k == VK_VERSION || k == VK_INT ||
	    k == VK_WORD)
		FUZZ_ASSERT(n > 0);
	if (k == VK_PATH || k == VK_INT)
		FUZZ_ASSERT(v[0] != '-' || (k == VK_INT && n > 1));
}

/* A template using variable name three times, quoted and not. */
static char *make_template(const char *name)
{
	return xasprintf("run --x=${%s} '${%s}' && echo ${%s} end", name, name, name);
}

/* What make_template(name) must expand to when name's value is value. */
static char *expected(const char *value)
{
	return xasprintf("run --x=%s '%s' && echo %s end", value, value, value);
}

static void expand(enum var_kind kind, enum source src, const char *value)
{
	char *enum_values[] = {"none", "original"};
	struct var_def var = {.name = "v", .kind = kind, .ndef_list = -1};
	struct playbook pb = {.name = "fuzz", .format = 1, .vars = &var, .nvars = 1};
	struct inv_value iv = {.key = "v", .value = (char *)value};
	struct host_def host = {.name = "NODE1", .port = 22};
	struct cluster_def cl = {.name = "CLUS1", .cms = "CMS1"};
	struct inventory inv = {
	    .name = "fuzz", .hosts = &host, .nhosts = 1, .clusters = &cl, .nclusters = 1};
	struct role_binding role = {.role = "v", .host = value};
	struct subst_ctx c = {.pb = &pb, .inv = &inv, .cl = &cl, .node = "NODE1"};
	const char *name = "v";
	char err[512];

	if (kind == VK_ENUM) {
		var.values = enum_values;
		var.nvalues = 2;
	}
	switch (src) {
	case SRC_CLUSTER:
		cl.vars = &iv;
		cl.nvars = 1;
		break;
	case SRC_HOST:
		host.vars = &iv;
		host.nvars = 1;
		break;
	case SRC_DEFAULT:
		var.def = (char *)value;
		break;
	case SRC_NODE:
		name = "node";
		c.node = value;
		kind = VK_NAME;
		break;
	case SRC_CLNAME:
		name = "cluster";
		cl.name = (char *)value;
		kind = VK_NAME;
		break;
	case SRC_CMS:
		name = "cms";
		cl.cms = (char *)value;
		kind = VK_NAME;
		break;
	case SRC_ROLE:
		c.roles = &role;
		c.nroles = 1;
		kind = VK_NAME;
		break;
	default:
		name = "item";
		c.item = value;
		c.item_kind = kind;
		break;
	}
	err[0] = '\0';
	char *tmpl = make_template(name);
	char *out = subst_expand(&c, tmpl, err, sizeof(err));
	free(tmpl);
	if (out == NULL) {
		FUZZ_ASSERT(err[0] != '\0');
		return;
	}
	char *want = expected(value);
	FUZZ_ASSERT(strcmp(out, want) == 0);
	check_value(kind, value);
	free(want);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	enum var_kind kind = kinds[data[0] % CCR_ARRAY_LEN(kinds)];
	enum source src = (enum source)(data[1] % SRC_COUNT);
	char *value = fuzz_strdup(data + 2, size - 2);

	expand(kind, src, value);
	free(value);
	return 0;
}
