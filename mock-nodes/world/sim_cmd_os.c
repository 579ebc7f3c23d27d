/*
 * sim_cmd_os.c — Windows itself: reg query|add|delete over the few keys the
 * procedure reads, wmic os get, and shutdown.
 *
 * The procedure's registry is not stored: each key is computed from the world
 * when it is read (the .NET SP level, PendingFileRenameOperations, the
 * v8.0\CMS key of the cluster, the setup watermark), so it can never disagree
 * with it.  Any other key is free-form storage per host (a run marker, say):
 * `reg add` writes values there, `reg query` and `reg delete` read and remove
 * them; the computed keys refuse `reg add` (access denied).
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HKLM "HKEY_LOCAL_MACHINE"

enum reg_key {
	REG_NDP,
	REG_SESSION,
	REG_EXCH,
	REG_CMS,
	REG_MAILBOX,
	REG_SETUP,
	REG_NKEYS,
};

static const char *const reg_paths[REG_NKEYS] = {
    [REG_NDP] = HKLM "\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v2.0.50727",
    [REG_SESSION] = HKLM "\\SYSTEM\\CurrentControlSet\\Control\\Session Manager",
    [REG_EXCH] = HKLM "\\SOFTWARE\\Microsoft\\Exchange\\v8.0",
    [REG_CMS] = HKLM "\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\CMS",
    [REG_MAILBOX] = HKLM "\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\MailboxRole",
    [REG_SETUP] = HKLM "\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\Setup",
};

struct reg_val {
	const char *name; /* value name */
	const char *type; /* REG_SZ, REG_DWORD, REG_MULTI_SZ */
	char *data;	  /* rendered data (owned) */
};

static int reg_exists(const struct sim_action *a, int k)
{
	const struct sim_host *h = sim_act_host(a);
	switch (k) {
	case REG_NDP:
		return h->net_sp >= 0;
	case REG_CMS:
		return h->role == SIM_ROLE_NODE && h->cluster >= 0 &&
		       a->w->clusters[h->cluster].cms_key;
	case REG_MAILBOX:
		return h->role == SIM_ROLE_NODE;
	default:
		return 1;
	}
}

static void val(struct reg_val *v, int *n, const char *name, const char *type, char *data)
{
	v[*n].name = name;
	v[*n].type = type;
	v[*n].data = data;
	(*n)++;
}

static void ndp_values(const struct sim_host *h, struct reg_val *v, int *n)
{
	val(v, n, "Install", "REG_DWORD", xstrdup("0x1"));
	val(v, n, "SP", "REG_DWORD", xasprintf("0x%x", (unsigned)h->net_sp));
	val(v, n, "Version", "REG_SZ", xstrdup(h->net_sp >= 1 ? "2.0.50727.1433" : "2.0.50727.42"));
}

static void exch_values(const struct sim_action *a, int k, struct reg_val *v, int *n)
{
	const struct sim_host *h = sim_act_host(a);
	if (k == REG_CMS) {
		const struct sim_cluster *c = &a->w->clusters[h->cluster];
		val(v, n, "Name", "REG_SZ", xstrdup(c->cms));
		val(v, n, "ConfiguredVersion", "REG_SZ", xstrdup(c->cms_version));
	} else if (k == REG_MAILBOX) {
		val(v, n, "ConfiguredVersion", "REG_SZ", xstrdup(h->binaries));
		if (h->watermark > 0) {
			val(v, n, "Action", "REG_SZ", xstrdup("BuildToBuildUpgrade"));
			val(v, n, "Watermark", "REG_SZ", xasprintf("%d", h->watermark));
		}
	} else if (k == REG_SETUP) {
		val(v, n, "MsiInstallPath", "REG_SZ",
		    xstrdup("C:\\Program Files\\Microsoft\\Exchange Server\\"));
		val(v, n, "MsiProductMajor", "REG_DWORD", xstrdup("0x8"));
	}
}

/* Values of key k (at most 8); each data string is freed by reg_vals_free. */
static int reg_values(const struct sim_action *a, int k, struct reg_val *v)
{
	const struct sim_host *h = sim_act_host(a);
	int n = 0;
	if (k == REG_NDP) {
		ndp_values(h, v, &n);
	} else if (k == REG_SESSION) {
		val(v, &n, "BootExecute", "REG_MULTI_SZ", xstrdup("autocheck autochk *"));
		val(v, &n, "CriticalSectionTimeout", "REG_SZ", xstrdup("2592000"));
		if (h->pending_reboot)
			val(v, &n, "PendingFileRenameOperations", "REG_MULTI_SZ",
			    xstrdup("\\??\\C:\\Program Files\\Microsoft\\Exchange "
				    "Server\\Bin\\Microsoft.Exchange.Data.Storage.dll.pending"));
	} else {
		exch_values(a, k, v, &n);
	}
	return n;
}

static void reg_vals_free(struct reg_val *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i].data);
}

/* "HKLM\x\y\" -> "HKEY_LOCAL_MACHINE\x\y" (caller frees). */
static char *reg_norm(const char *key)
{
	const char *rest = key;
	if (strncasecmp(key, "HKLM", 4) == 0 && (key[4] == '\\' || key[4] == '\0'))
		rest = key + 4;
	else if (strncasecmp(key, HKLM, strlen(HKLM)) == 0)
		rest = key + strlen(HKLM);
	else
		return NULL;
	char *s = xasprintf("%s%s", HKLM, rest);
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '\\')
		s[--n] = '\0';
	return s;
}

static int reg_find(const struct sim_action *a, const char *norm)
{
	for (int k = 0; k < REG_NKEYS; k++)
		if (str_ieq(reg_paths[k], norm) && reg_exists(a, k))
			return k;
	return -1;
}

static void reg_not_found(struct sim_action *a)
{
	sim_act_err(
	    a, "\nError: The system was unable to find the specified registry key or value.\n");
	sim_act_exit(a, 1);
}

static void reg_syntax(struct sim_action *a)
{
	sim_act_err(a, "\nError: Invalid syntax.\nType \"REG /?\" for usage.\n");
	sim_act_exit(a, 1);
}

/* Print the immediate subkeys of norm, found as ancestors of existing keys. */
static int reg_subkeys(struct sim_action *a, const char *norm, struct sbuf *sb)
{
	size_t n = strlen(norm);
	int found = 0;
	for (int k = 0; k < REG_NKEYS; k++) {
		const char *p = reg_paths[k];
		if (!reg_exists(a, k) || strlen(p) <= n + 1 || strncasecmp(p, norm, n) != 0 ||
		    p[n] != '\\')
			continue;
		const char *end = strchr(p + n + 1, '\\');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *child = xstrndup(p, len);
		if (strstr(sb->buf, child) == NULL)
			sbuf_addf(sb, "%s\n", child);
		free(child);
		found = 1;
	}
	return found;
}

static void reg_query(struct sim_action *a, const char *norm, const char *vname)
{
	int k = reg_find(a, norm);
	struct sbuf subs;
	sbuf_init(&subs);
	int has_subs = vname == NULL && reg_subkeys(a, norm, &subs);
	if (k < 0 && !has_subs) {
		reg_not_found(a);
		goto out;
	}
	struct reg_val v[8];
	int n = k >= 0 ? reg_values(a, k, v) : 0;
	int shown = 0;
	sim_act_out(a, "\n! REG.EXE VERSION 3.0\n\n%s\n", k >= 0 ? reg_paths[k] : norm);
	for (int i = 0; i < n; i++)
		if (vname == NULL || str_ieq(vname, v[i].name)) {
			sim_act_out(a, "    %s\t%s\t%s\n", v[i].name, v[i].type, v[i].data);
			shown++;
		}
	reg_vals_free(v, n);
	if (vname != NULL && shown == 0) {
		sbuf_reset(&a->out);
		reg_not_found(a);
		goto out;
	}
	sim_act_out(a, "\n%s", subs.buf);
	sim_act_exit(a, 0);
out:
	sbuf_release(&subs);
}

static void reg_delete(struct sim_action *a, const char *norm, int force)
{
	int k = reg_find(a, norm);
	if (k < 0) {
		reg_not_found(a);
		return;
	}
	if (k != REG_CMS) {
		sim_act_err(a, "\nError: Access is denied.\n");
		sim_act_exit(a, 1);
		return;
	}
	if (!force) {
		sim_act_out(a, "\nPermanently delete the registry key %s (Yes/No)? ", reg_paths[k]);
		sim_act_exit(a, 1);
		return;
	}
	/* Rule 9's way out: the key lives in the cluster checkpoint, shared by both nodes. */
	a->w->clusters[sim_act_host(a)->cluster].cms_key = 0;
	sim_act_out(a, "\nThe operation completed successfully.\n");
	sim_act_exit(a, 0);
}

/* ---- free-form keys: values written with `reg add` ---- */

static int computed_key(const char *norm)
{
	for (int k = 0; k < REG_NKEYS; k++)
		if (str_ieq(reg_paths[k], norm))
			return 1;
	return 0;
}

/* Index of the stored value (key, name), or -1; name NULL: the first of key. */
static int stored_find(const struct sim_host *h, const char *norm, const char *name)
{
	for (int i = 0; i < h->nregvals; i++)
		if (str_ieq(h->regvals[i].key, norm) &&
		    (name == NULL || str_ieq(h->regvals[i].name, name)))
			return i;
	return -1;
}

static void stored_query(struct sim_action *a, const char *norm, const char *vname)
{
	const struct sim_host *h = sim_act_host(a);
	if (stored_find(h, norm, vname) < 0) {
		reg_not_found(a);
		return;
	}
	sim_act_out(a, "\n! REG.EXE VERSION 3.0\n\n%s\n", norm);
	for (int i = 0; i < h->nregvals; i++)
		if (str_ieq(h->regvals[i].key, norm) &&
		    (vname == NULL || str_ieq(h->regvals[i].name, vname)))
			sim_act_out(a, "    %s\t%s\t%s\n", h->regvals[i].name, h->regvals[i].type,
				    h->regvals[i].data);
	sim_act_out(a, "\n");
	sim_act_exit(a, 0);
}

static void stored_delete(struct sim_action *a, const char *norm, const char *vname, int force)
{
	struct sim_host *h = sim_act_host(a);
	int i, n = 0;
	if (!force) {
		sim_act_out(a, "\nPermanently delete the registry value %s (Yes/No)? ",
			    vname ? vname : norm);
		sim_act_exit(a, 1);
		return;
	}
	while ((i = stored_find(h, norm, vname)) >= 0) {
		struct sim_regval *v = &h->regvals[i];
		free(v->key);
		free(v->name);
		free(v->type);
		free(v->data);
		*v = h->regvals[--h->nregvals];
		n++;
	}
	if (n == 0) {
		reg_not_found(a);
		return;
	}
	sim_act_out(a, "\nThe operation completed successfully.\n");
	sim_act_exit(a, 0);
}

/* reg add KEY /v NAME [/t TYPE] [/d DATA] /f (without /f, Windows would ask: refused). */
static void reg_add(struct sim_action *a, const char *norm, const char *vname, const char *type,
		    const char *data, int force)
{
	struct sim_host *h = sim_act_host(a);
	if (computed_key(norm)) {
		sim_act_err(a, "\nError: Access is denied.\n");
		sim_act_exit(a, 1);
		return;
	}
	if (vname == NULL || !force) {
		reg_syntax(a);
		return;
	}
	int i = stored_find(h, norm, vname);
	if (i < 0) {
		h->regvals =
		    xreallocarray(h->regvals, (size_t)h->nregvals + 1, sizeof(*h->regvals));
		i = h->nregvals++;
		h->regvals[i].key = xstrdup(norm);
		h->regvals[i].name = xstrdup(vname);
	} else {
		free(h->regvals[i].type);
		free(h->regvals[i].data);
	}
	h->regvals[i].type = xstrdup(type ? type : "REG_SZ");
	h->regvals[i].data = xstrdup(data ? data : "");
	sim_act_out(a, "The operation completed successfully.\n");
	sim_act_exit(a, 0);
}

void sim_cmd_reg(struct sim_action *a, int64_t at)
{
	(void)at;
	const char *vname = NULL, *type = NULL, *data = NULL;
	int force = 0, bad = 0, recurse = 0;
	if (a->argc < 3) {
		reg_syntax(a);
		return;
	}
	for (int i = 3; i < a->argc; i++) {
		if (str_ieq(a->argv[i], "/v") && i + 1 < a->argc)
			vname = a->argv[++i];
		else if (str_ieq(a->argv[i], "/t") && i + 1 < a->argc)
			type = a->argv[++i];
		else if (str_ieq(a->argv[i], "/d") && i + 1 < a->argc)
			data = a->argv[++i];
		else if (str_ieq(a->argv[i], "/f"))
			force = 1;
		else if (str_ieq(a->argv[i], "/s") && str_ieq(a->argv[1], "query"))
			recurse = 1;
		else
			bad = 1;
	}
	char *norm = reg_norm(a->argv[2]);
	int query = str_ieq(a->argv[1], "query"), add = str_ieq(a->argv[1], "add");
	int del = str_ieq(a->argv[1], "delete");
	if (norm == NULL || bad || !(query || add || del) || (!add && (type || data)))
		reg_syntax(a);
	else if (query && sim_msi_reg_query(a, norm, vname, recurse))
		;
	else if (add)
		reg_add(a, norm, vname, type, data, force);
	else if (!computed_key(norm) && stored_find(sim_act_host(a), norm, NULL) >= 0)
		query ? stored_query(a, norm, vname) : stored_delete(a, norm, vname, force);
	else if (query)
		reg_query(a, norm, vname);
	else if (vname != NULL)
		reg_syntax(a);
	else
		reg_delete(a, norm, force);
	free(norm);
}

/* wmic os get PROP[,PROP]: a table whose columns are padded with trailing spaces. */
static char *wmic_value(struct sim_action *a, const char *prop, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	(void)at;
	if (str_ieq(prop, "LastBootUpTime")) {
		time_t t = (time_t)h->boot_s;
		struct tm tm;
		char buf[32];
		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y%m%d%H%M%S.000000+000", &tm);
		return xstrdup(buf);
	}
	if (str_ieq(prop, "ServicePackMajorVersion"))
		return xasprintf("%d", h->os_sp);
	if (str_ieq(prop, "Caption"))
		return xstrdup("Microsoft(R) Windows(R) Server 2003, Enterprise Edition");
	if (str_ieq(prop, "CSName"))
		return xstrdup(h->name);
	if (str_ieq(prop, "Version"))
		return xstrdup("5.2.3790");
	return NULL;
}

static void wmic_table(struct sim_action *a, char **props, char **vals, int n)
{
	struct sbuf head, row;
	sbuf_init(&head);
	sbuf_init(&row);
	for (int i = 0; i < n; i++) {
		size_t w = strlen(props[i]) > strlen(vals[i]) ? strlen(props[i]) : strlen(vals[i]);
		sbuf_addf(&head, "%-*s  ", (int)w, props[i]);
		sbuf_addf(&row, "%-*s  ", (int)w, vals[i]);
	}
	sim_act_out(a, "%s\n%s\n\n", head.buf, row.buf);
	sbuf_release(&head);
	sbuf_release(&row);
}

void sim_cmd_wmic(struct sim_action *a, int64_t at)
{
	char *props[8] = {0}, *vals[8] = {0};
	int n = 0, bad = 0;
	if (a->argc >= 2 && str_ieq(a->argv[1], "datafile")) {
		sim_msi_wmic_datafile(a);
		return;
	}
	if (a->argc != 4 || !str_ieq(a->argv[1], "os") || !str_ieq(a->argv[2], "get")) {
		sim_act_err(a, "Invalid alias verb.\n");
		sim_act_exit(a, 1);
		return;
	}
	char *list = xstrdup(a->argv[3]);
	for (char *p = list, *save = NULL; n < 8 && (p = strtok_r(p, ",", &save)) != NULL;
	     p = NULL) {
		props[n] = p;
		vals[n] = wmic_value(a, p, at);
		bad |= vals[n] == NULL;
		n++;
	}
	if (bad || n == 0) {
		sim_act_err(a, "Node - %s\nERROR:\nDescription = Invalid query\n\n",
			    sim_act_host(a)->name);
		sim_act_exit(a, 1);
	} else {
		wmic_table(a, props, vals, n);
		sim_act_exit(a, 0);
	}
	for (int i = 0; i < n; i++)
		free(vals[i]);
	free(list);
}

static void shutdown_usage(struct sim_action *a)
{
	sim_act_err(a, "Usage: shutdown [-i | -l | -s | -r | -a] [-f] [-m \\\\computername] "
		       "[-t xx] [-c \"comment\"] [-d up:xx:yy]\n");
	sim_act_exit(a, 1);
}

struct shutdown_opts {
	int r;	       /* /r: restart */
	int s;	       /* /s: power off */
	int abort;     /* /a: abort a pending shutdown */
	int64_t delay; /* /t N: seconds before going down */
};

/* Parse shutdown's switches ("/x" or "-x"); 0, or -1 after printing the usage. */
static int shutdown_parse(struct sim_action *a, struct shutdown_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < a->argc; i++) {
		const char *v = a->argv[i];
		char c = (char)(v[0] != '\0' ? v[1] | 0x20 : 0);
		int ok = (v[0] == '/' || v[0] == '-') && v[1] != '\0' && v[2] == '\0';
		if (ok && c == 'r')
			o->r = 1;
		else if (ok && c == 's')
			o->s = 1;
		else if (ok && c == 'a')
			o->abort = 1;
		else if (ok && c == 't' && i + 1 < a->argc)
			ok = parse_int64(a->argv[++i], 0, 600, &o->delay) == 0;
		else if (ok && (c == 'c' || c == 'd') && i + 1 < a->argc)
			i++;
		else
			ok = ok && c == 'f';
		if (!ok) {
			shutdown_usage(a);
			return -1;
		}
	}
	if (!o->abort && o->r + o->s != 1) {
		shutdown_usage(a);
		return -1;
	}
	return 0;
}

/* shutdown /r [/t N] [/f] [/c text] [/d x]: restart; /s: power off; /a: abort. */
void sim_cmd_shutdown(struct sim_action *a, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	struct shutdown_opts o;
	if (shutdown_parse(a, &o) != 0)
		return;
	if (o.abort && h->down_at == SIM_NEVER) {
		sim_act_err(a, "Unable to abort the system shutdown because no shutdown was "
			       "in progress.(1116)\n");
		sim_act_exit(a, 1116);
	} else if (o.abort) {
		h->down_at = SIM_NEVER;
		sim_act_exit(a, 0);
	} else if (h->down_at != SIM_NEVER) {
		sim_act_err(a, "A system shutdown is in progress.(1115)\n");
		sim_act_exit(a, 1115);
	} else {
		sim_host_schedule_reboot(a->w, a->host, at + sim_scaled(a->w, o.delay * 1000));
		h->restarting = o.r;
		sim_act_exit(a, 0);
	}
}
