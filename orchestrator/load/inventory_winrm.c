/*
 * inventory_winrm.c — the transport keys of an inventory's defaults: and
 * hosts: (docs/inventory.md, WinRM): `transport: ssh|winrm` and the
 * winrm_* settings.  defaults: gives every host its values; a host's own
 * keys override them one by one.
 *
 * What is checked here, with the location of the key at fault: the values'
 * forms (port, scheme, auth, durations, paths, an environment variable
 * name), and, for a host that uses WinRM, that a password source is given
 * (winrm_password_file or winrm_password_env: never the password itself)
 * and that plain HTTP is only used with winrm_allow_unencrypted: true.
 */
#include "inventory_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const transports[] = {"ssh", "winrm", NULL};
static const char *const schemes[] = {"http", "https", NULL};
static const char *const auths[] = {"basic", "ntlm", "negotiate", NULL};

static int env_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 128 && !(s[0] >= '0' && s[0] <= '9') &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void read_str(struct yctx *c, const struct ynode *m, const char *key, int path, char **out)
{
	char *v = NULL;

	if (yget_str(c, m, key, &v) != 1)
		return;
	if (path ? !inv_file_path_ok(v) : !env_name_ok(v)) {
		yerr(c, ymap_get(m, key),
		     path ? "'%s': '%s' is not a usable file path"
			  : "'%s': '%s' is not an environment variable name (letters, digits, _)",
		     key, yq(c, v));
		free(v);
		return;
	}
	free(*out);
	*out = v;
}

void inv_read_winrm(struct yctx *c, const struct ynode *m, enum host_transport *t,
		    struct winrm_def *w)
{
	const struct ynode *n;
	int v;
	int64_t p;

	if (yget_enum(c, m, "transport", transports, &v) == 1) {
		*t = v == 1 ? TRANSPORT_WINRM : TRANSPORT_SSH;
		w->loc = yloc(c, ymap_get(m, "transport"));
	}
	if (yget_int(c, m, "winrm_port", 1, 65535, &p) == 1)
		w->port = (int)p;
	if (yget_enum(c, m, "winrm_scheme", schemes, &v) == 1)
		w->https = v;
	if (yget_enum(c, m, "winrm_auth", auths, &w->auth) != 1 && ymap_get(m, "winrm_auth"))
		w->auth = 0;
	yget_bool(c, m, "winrm_allow_unencrypted", &w->allow_unencrypted);
	yget_duration(c, m, "winrm_operation_timeout", 1000, &w->operation_timeout_ms);
	read_str(c, m, "winrm_password_file", 1, &w->password_file);
	read_str(c, m, "winrm_password_env", 0, &w->password_env);
	read_str(c, m, "winrm_ca_file", 1, &w->ca_file);
	if (yget_str(c, m, "winrm_user", &w->user) == 1 && !inv_user_ok(w->user))
		yerr(c, ymap_get(m, "winrm_user"),
		     "bad user name '%s' (letters, digits, . _ - and DOMAIN\\user)",
		     yq(c, w->user));
	if ((n = ymap_get(m, "winrm_server_name")) != NULL &&
	    yget_str(c, m, "winrm_server_name", &w->server_name) == 1 &&
	    !var_kind_check(VK_NAME, NULL, w->server_name))
		yerr(c, n, "bad winrm_server_name '%s' (a DNS name)", yq(c, w->server_name));
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void inv_winrm_copy(struct winrm_def *dst, const struct winrm_def *src)
{
	*dst = *src;
	dst->user = dup_or_null(src->user);
	dst->password_file = dup_or_null(src->password_file);
	dst->password_env = dup_or_null(src->password_env);
	dst->ca_file = dup_or_null(src->ca_file);
	dst->server_name = dup_or_null(src->server_name);
}

void inv_winrm_release(struct winrm_def *w)
{
	free(w->user);
	free(w->password_file);
	free(w->password_env);
	free(w->ca_file);
	free(w->server_name);
	memset(w, 0, sizeof(*w));
}

void inv_winrm_defaults(struct winrm_def *w)
{
	memset(w, 0, sizeof(*w));
	w->https = 1;
	w->operation_timeout_ms = 20000;
}

void inv_check_winrm(struct yctx *c, const struct host_def *h)
{
	const struct winrm_def *w = &h->winrm;
	int line = w->loc.line > 0 ? w->loc.line : h->loc.line;
	int col = w->loc.line > 0 ? w->loc.col : h->loc.col;

	if (h->transport != TRANSPORT_WINRM)
		return;
	if (w->password_file == NULL && w->password_env == NULL)
		yerr_at(c, line, col,
			"host '%s' uses WinRM but has no winrm_password_file or "
			"winrm_password_env (the password itself never goes in an inventory)",
			h->name);
	if (!w->https && !w->allow_unencrypted)
		yerr_at(c, line, col,
			"host '%s' uses WinRM over plain HTTP (winrm_scheme: http): the password "
			"and every command would cross the network unencrypted; use https, or set "
			"winrm_allow_unencrypted: true to accept that",
			h->name);
}
