/*
 * sim_cmd_ems.c — the Exchange Management Shell as far as the procedure
 * uses it: the powershell.exe command line (-NonInteractive, -PSConsoleFile,
 * -Command), a small PowerShell tokenizer (quotes, pipes), cmdlet parameter
 * binding (named, -Name:value, unique prefixes, one positional Identity),
 * Format-List / Format-Table, and PowerShell 1.0's red error text.
 *
 * The cmdlets themselves are in sim_cmd_cms.c.  The one expression the
 * playbook evaluates, (Get-Command ExSetup.exe).FileVersionInfo.FileVersion,
 * is recognised as a whole.
 */
#include "sim_cmd_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef void (*sim_cmdlet_fn)(struct sim_action *a, struct sim_ps *ps, int64_t at);

struct cmdlet {
	const char *name;		 /* Verb-Noun */
	const char *params[SIM_PS_MAXP]; /* parameter names, '?' prefix: switch */
	sim_cmdlet_fn fn;		 /* implementation */
};

static const struct cmdlet cmdlets[] = {
    {"Get-ExchangeServer", {"Identity", "DomainController", "?Status"}, sim_ems_get_server},
    {"Get-ClusteredMailboxServerStatus", {"Identity", "DomainController"}, sim_ems_cms_status},
    {"Stop-ClusteredMailboxServer",
     {"Identity", "StopReason", "?Confirm", "DomainController"},
     sim_ems_stop},
    {"Start-ClusteredMailboxServer", {"Identity", "?Confirm", "DomainController"}, sim_ems_start},
    {"Move-ClusteredMailboxServer",
     {"Identity", "TargetMachine", "MoveComment", "?Confirm", "?IgnoreDismounted",
      "DomainController"},
     sim_ems_move},
    {"Get-StorageGroupCopyStatus", {"Identity", "Server", "DomainController"}, sim_ems_copy_status},
    {"Get-MailboxDatabase",
     {"Identity", "Server", "StorageGroup", "?Status", "DomainController"},
     sim_ems_mailbox_db},
};

const char *sim_ps_arg(const struct sim_ps *ps, const char *name)
{
	for (int i = 0; i < SIM_PS_MAXP && ps->names[i] != NULL; i++) {
		const char *n = ps->names[i][0] == '?' ? ps->names[i] + 1 : ps->names[i];
		if (str_ieq(n, name))
			return ps->vals[i];
	}
	return NULL;
}

/*
 * PowerShell 1.0's error record:
 *   Cmdlet : message
 *   At line:1 char:N
 *   + Cmdlet  <<<< rest of the line
 */
void sim_ps_error(struct sim_action *a, const char *fmt, ...)
{
	va_list ap;
	const char *script = a->text != NULL ? a->text : "";
	int mark = a->mark;
	char *msg;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	const char *rest = script + mark;
	while (*rest == ' ')
		rest++;
	sim_act_err(a, "%.*s : %s\nAt line:1 char:%d\n+ %.*s  <<<< %s\n", mark, script, msg,
		    mark + 1, mark, script, rest);
	free(msg);
	sim_act_exit(a, 1);
}

void sim_psrec_add(struct sim_psrec *r, const char *name, char *val)
{
	if (r->n >= SIM_PS_MAXF) {
		free(val);
		return;
	}
	r->name[r->n] = name;
	r->val[r->n] = val;
	r->n++;
}

static int prop_selected(const char *name, char *const *props, int nprops)
{
	for (int i = 0; i < nprops; i++)
		if (strcmp(props[i], "*") == 0 || str_ieq(props[i], name))
			return 1;
	return 0;
}

static void print_list(struct sim_action *a, struct sim_psrec *recs, int n, char *const *props,
		       int nprops)
{
	size_t wid = 0;
	for (int r = 0; r < n; r++)
		for (int i = 0; i < recs[r].n; i++)
			if (props == NULL || prop_selected(recs[r].name[i], props, nprops))
				wid = strlen(recs[r].name[i]) > wid ? strlen(recs[r].name[i]) : wid;
	sim_act_out(a, "\n");
	for (int r = 0; r < n; r++) {
		for (int i = 0; i < recs[r].n; i++)
			if (props == NULL || prop_selected(recs[r].name[i], props, nprops))
				sim_act_out(a, "%-*s : %s\n", (int)wid, recs[r].name[i],
					    recs[r].val[i]);
		sim_act_out(a, "\n");
	}
	sim_act_out(a, "\n");
}

/* Columns: the record's properties that are selected, in record order. */
static int table_columns(const struct sim_psrec *r, char *const *props, int nprops, int *cols)
{
	int nc = 0;
	for (int i = 0; i < r->n; i++)
		if (prop_selected(r->name[i], props, nprops))
			cols[nc++] = i;
	return nc;
}

static void print_table(struct sim_action *a, struct sim_psrec *recs, int n, char *const *props,
			int nprops)
{
	int cols[SIM_PS_MAXF];
	size_t wid[SIM_PS_MAXF];
	if (n == 0)
		return;
	int nc = table_columns(&recs[0], props, nprops, cols);
	for (int c = 0; c < nc; c++) {
		wid[c] = strlen(recs[0].name[cols[c]]);
		for (int r = 0; r < n; r++)
			if (strlen(recs[r].val[cols[c]]) > wid[c])
				wid[c] = strlen(recs[r].val[cols[c]]);
	}
	struct sbuf sb;
	sbuf_init(&sb);
	sbuf_adds(&sb, "\n");
	for (int row = -2; row < n; row++) {
		for (int c = 0; c < nc; c++) {
			const char *name = recs[0].name[cols[c]];
			const char *v = row >= 0 ? recs[row].val[cols[c]] : name;
			int last = c == nc - 1;
			if (row == -1)
				for (size_t k = 0; k < strlen(name); k++)
					sbuf_addc(&sb, '-');
			else
				sbuf_adds(&sb, v);
			size_t used = row == -1 ? strlen(name) : strlen(v);
			for (size_t k = used; !last && k <= wid[c]; k++)
				sbuf_addc(&sb, ' ');
		}
		sbuf_adds(&sb, "\n");
	}
	sbuf_adds(&sb, "\n\n");
	sim_act_out(a, "%s", sb.buf);
	sbuf_release(&sb);
}

void sim_ps_print(struct sim_action *a, const struct sim_ps *ps, struct sim_psrec *recs, int n,
		  int def_table, const char *const *def_props)
{
	char *defs[SIM_PS_MAXF];
	int nd = 0;
	for (; def_props != NULL && def_props[nd] != NULL && nd < SIM_PS_MAXF; nd++)
		defs[nd] = (char *)def_props[nd];
	char *const *props = ps->props != NULL ? ps->props : (nd > 0 ? defs : NULL);
	int nprops = ps->props != NULL ? ps->nprops : nd;
	int table = ps->format == 2 || (ps->format == 0 && def_table);
	if (ps->format != 0 && ps->props == NULL)
		props = NULL;
	if (table) {
		char *all[] = {"*"};
		print_table(a, recs, n, props != NULL ? props : all, props != NULL ? nprops : 1);
	} else {
		print_list(a, recs, n, props, nprops);
	}
	for (int r = 0; r < n; r++)
		for (int i = 0; i < recs[r].n; i++)
			free(recs[r].val[i]);
}

int sim_ps_need_confirm(struct sim_action *a, const struct sim_ps *ps)
{
	const char *c = sim_ps_arg(ps, "Confirm");
	if (!ps->noninteractive || (c != NULL && str_ieq(c, "$false")))
		return 0;
	sim_ps_error(a, "Windows PowerShell is in NonInteractive mode. Read and Prompt "
			"functionality is not available.");
	return 1;
}

char *sim_admin_version(const char *ver)
{
	int v[4];
	if (sim_ver_parse(ver, v) != 0)
		return xstrdup(ver);
	return xasprintf("Version %d.%d (Build %d.%d)", v[0], v[1], v[2], v[3]);
}

static void tok_push(char ***tok, int *ntok, struct sbuf *sb)
{
	*tok = xreallocarray(*tok, (size_t)*ntok + 1, sizeof(**tok));
	(*tok)[(*ntok)++] = sbuf_detach(sb);
}

/* A quoted string at *s ('' or "" doubles the quote).  Advances *s; -1 if unterminated. */
static int tok_quoted(const char **sp, struct sbuf *sb)
{
	const char *s = *sp;
	char q = *s++;
	for (; *s != '\0'; s++) {
		if (*s == q && s[1] == q)
			s++;
		else if (*s == q)
			break;
		sbuf_addc(sb, *s);
	}
	if (*s != q)
		return -1;
	*sp = s + 1;
	return 0;
}

/* PowerShell tokens: words, '...' and "..." strings, and | as its own token. */
static int ps_tokenize(const char *s, char ***tok, int *ntok)
{
	struct sbuf sb;
	int rc = 0;
	sbuf_init(&sb);
	*tok = NULL;
	*ntok = 0;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		if (*s == '|') {
			sbuf_addc(&sb, *s++);
			tok_push(tok, ntok, &sb);
			continue;
		}
		while (*s != '\0' && !isspace((unsigned char)*s) && *s != '|') {
			if (*s != '\'' && *s != '"')
				sbuf_addc(&sb, *s++);
			else if (tok_quoted(&s, &sb) != 0) {
				rc = -1;
				goto out;
			}
		}
		tok_push(tok, ntok, &sb);
	}
out:
	sbuf_release(&sb);
	return rc;
}

static int param_find(const struct cmdlet *c, const char *name, size_t len)
{
	int found = -1, nfound = 0;
	for (int i = 0; i < SIM_PS_MAXP && c->params[i] != NULL; i++) {
		const char *p = c->params[i][0] == '?' ? c->params[i] + 1 : c->params[i];
		if (strlen(p) == len && strncasecmp(p, name, len) == 0)
			return i;
		if (strlen(p) > len && strncasecmp(p, name, len) == 0) {
			found = i;
			nfound++;
		}
	}
	return nfound == 1 ? found : -1;
}

/* Bind tokens [1, end) to the cmdlet's parameters.  0, or -1 with the error printed. */
static int ps_bind(struct sim_action *a, const struct cmdlet *c, struct sim_ps *ps, char **tok,
		   int end)
{
	for (int i = 1; i < end; i++) {
		const char *t = tok[i];
		if (t[0] != '-' || !isalpha((unsigned char)t[1])) {
			if (ps->vals[0] != NULL) {
				sim_ps_error(a,
					     "A positional parameter cannot be found that accepts "
					     "argument '%s'.",
					     t);
				return -1;
			}
			ps->vals[0] = t;
			continue;
		}
		const char *colon = strchr(t, ':');
		size_t len = colon ? (size_t)(colon - t - 1) : strlen(t + 1);
		int p = param_find(c, t + 1, len);
		if (p < 0) {
			sim_ps_error(
			    a, "A parameter cannot be found that matches parameter name '%.*s'.",
			    (int)len, t + 1);
			return -1;
		}
		if (colon != NULL)
			ps->vals[p] = colon + 1;
		else if (c->params[p][0] == '?')
			ps->vals[p] = "";
		else if (i + 1 < end)
			ps->vals[p] = tok[++i];
		else {
			sim_ps_error(a,
				     "Missing an argument for parameter '%s'. Specify a parameter "
				     "of type 'System.String' and try again.",
				     c->params[p]);
			return -1;
		}
	}
	return 0;
}

/* "| Format-List Name,LastFullBackup" (also fl, Format-Table, ft, -Property). */
static int ps_format(struct sim_action *a, struct sim_ps *ps, char **tok, int start, int ntok)
{
	const char *f = tok[start];
	if (str_ieq(f, "Format-List") || str_ieq(f, "fl"))
		ps->format = 1;
	else if (str_ieq(f, "Format-Table") || str_ieq(f, "ft"))
		ps->format = 2;
	else {
		sim_act_err(a,
			    "The term '%s' is not recognized as a cmdlet, function, operable "
			    "program, or script file. Verify the term and try again.\n",
			    f);
		sim_act_exit(a, 1);
		return -1;
	}
	struct sbuf sb;
	sbuf_init(&sb);
	for (int i = start + 1; i < ntok; i++)
		if (!str_ieq(tok[i], "-Property"))
			sbuf_adds(&sb, tok[i]);
	char *save = NULL;
	for (char *p = strtok_r(sb.buf, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		ps->props = xreallocarray(ps->props, (size_t)ps->nprops + 1, sizeof(char *));
		ps->props[ps->nprops++] = xstrdup(p);
	}
	sbuf_release(&sb);
	return 0;
}

static const struct cmdlet *cmdlet_find(const char *name)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(cmdlets); i++)
		if (str_ieq(cmdlets[i].name, name))
			return &cmdlets[i];
	return NULL;
}

static void file_version(struct sim_action *a)
{
	int v[4];
	struct sim_host *h = sim_act_host(a);
	const char *ver = h->binaries != NULL ? h->binaries : h->server_version;
	if (ver == NULL || sim_ver_parse(ver, v) != 0) {
		sim_ps_error(a, "The term 'ExSetup.exe' is not recognized as a cmdlet, function, "
				"operable program, or script file.");
		return;
	}
	sim_act_out(a, "%02d.%02d.%04d.%03d\n", v[0], v[1], v[2], v[3]);
	sim_act_exit(a, 0);
}

static int is_file_version_expr(const char *script)
{
	char buf[128];
	size_t n = 0;
	for (const char *p = script; *p && n + 1 < sizeof(buf); p++)
		if (!isspace((unsigned char)*p))
			buf[n++] = (char)tolower((unsigned char)*p);
	buf[n] = '\0';
	return strcmp(buf, "(get-commandexsetup.exe).fileversioninfo.fileversion") == 0 ||
	       strcmp(buf, "(get-commandexsetup).fileversioninfo.fileversion") == 0;
}

/* Run the script in a->text: one cmdlet, optionally piped into a Format- cmdlet. */
static void ps_run(struct sim_action *a, int noninteractive, int64_t at)
{
	char **tok = NULL;
	int ntok = 0, pipe = -1;
	struct sim_ps ps = {0};
	const char *s = a->text;
	while (isspace((unsigned char)*s))
		s++;
	a->mark = (int)(s - a->text) + (int)strcspn(s, " \t|");
	if (*s == '\0') {
		sim_act_exit(a, 0);
		return;
	}
	if (is_file_version_expr(s)) {
		file_version(a);
		return;
	}
	if (ps_tokenize(s, &tok, &ntok) != 0) {
		sim_ps_error(a, "The string starting: \"%s\" is missing the terminator.", s);
		goto out;
	}
	for (int i = 0; i < ntok && pipe < 0; i++)
		if (strcmp(tok[i], "|") == 0)
			pipe = i;
	const struct cmdlet *c = cmdlet_find(tok[0]);
	if (c == NULL) {
		sim_ps_error(a,
			     "The term '%s' is not recognized as a cmdlet, function, operable "
			     "program, or script file. Verify the term and try again.",
			     tok[0]);
		goto out;
	}
	ps.cmdlet = c->name;
	ps.noninteractive = noninteractive;
	memcpy(ps.names, c->params, sizeof(ps.names));
	if (ps_bind(a, c, &ps, tok, pipe >= 0 ? pipe : ntok) != 0)
		goto out;
	if (pipe >= 0 && (pipe + 1 >= ntok || ps_format(a, &ps, tok, pipe + 1, ntok) != 0)) {
		if (!a->done)
			sim_ps_error(a, "An empty pipe element is not permitted.");
		goto out;
	}
	c->fn(a, &ps, at);
out:
	for (int i = 0; i < ps.nprops; i++)
		free(ps.props[i]);
	free(ps.props);
	sim_argv_free(tok, ntok);
}

static int ps_option_with_value(const char *o)
{
	return str_ieq(o, "-PSConsoleFile") || str_ieq(o, "-OutputFormat") ||
	       str_ieq(o, "-InputFormat") || str_ieq(o, "-Version") || str_ieq(o, "-File");
}

/* powershell [-NonInteractive] [-PSConsoleFile F] [-Command] SCRIPT...; bare cmdlets too. */
static char *ps_script(const struct sim_action *a, int *noninteractive)
{
	char *base = sim_prog_base(a->argv[0]);
	int is_ps = str_startswith(base, "powershell");
	free(base);
	*noninteractive = 0;
	if (!is_ps)
		return xstrdup(a->line);
	int i = 1;
	for (; i < a->argc && a->argv[i][0] == '-'; i++) {
		if (str_ieq(a->argv[i], "-NonInteractive"))
			*noninteractive = 1;
		else if (str_ieq(a->argv[i], "-Command") || str_ieq(a->argv[i], "-c")) {
			i++;
			break;
		} else if (ps_option_with_value(a->argv[i]) && i + 1 < a->argc)
			i++;
	}
	struct sbuf sb;
	sbuf_init(&sb);
	for (int j = i; j < a->argc; j++)
		sbuf_addf(&sb, j > i ? " %s" : "%s", a->argv[j]);
	return sbuf_detach(&sb);
}

static void ps_after_startup(struct sim_action *a, int64_t at)
{
	ps_run(a, a->flags, at);
}

void sim_cmd_powershell(struct sim_action *a, int64_t at)
{
	int ni = 0;
	a->text = ps_script(a, &ni);
	a->flags = ni;
	int64_t d = sim_scaled(a->w, a->w->dur.ems_startup);
	if (d > 0)
		sim_act_then(a, ps_after_startup, at + d);
	else
		ps_run(a, ni, at);
}
