/*
 * sim_cmd.c — the command interpreter's front door: split a Windows command
 * line, count it on the host (normalised), pick the handler by program name,
 * and let faults shape the action before its first step runs.
 *
 * Program names are matched case-insensitively on the basename, with or
 * without ".exe": sc, net, reg, wmic, shutdown, cluster, powershell; any
 * path ending in setup.com (setup.exe is refused on cluster nodes); msiexec
 * and dsquery (sim_cmd_msi.c); any
 * NetFx20SP1*.exe installer; bare Exchange cmdlets ("Get-...", "(Get-...")
 * as if typed into the Exchange Management Shell; "cmd /c LINE" (sim_seq.c:
 * cmd's quotes, `&` segments, echo, errorlevel).  Anything
 * else is the cmd.exe "is not recognized" error, exit 9009 (cmd.exe's own).
 */
#include "sim_cmd_int.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

static void push_arg(char ***argv, int *argc, struct sbuf *sb)
{
	*argv = xreallocarray(*argv, (size_t)*argc + 2, sizeof(**argv));
	(*argv)[(*argc)++] = sbuf_detach(sb);
	(*argv)[*argc] = NULL;
}

/* Backslashes before a quote: 2n -> n and the quote is syntax; 2n+1 -> n and a literal quote. */
static const char *split_backslashes(const char *p, struct sbuf *sb, int *inq)
{
	size_t n = 0;
	while (p[n] == '\\')
		n++;
	if (p[n] != '"') {
		sbuf_add(sb, p, n);
		return p + n;
	}
	for (size_t i = 0; i < n / 2; i++)
		sbuf_addc(sb, '\\');
	if (n % 2 == 1) {
		sbuf_addc(sb, '"');
		return p + n + 1;
	}
	if (*inq && p[n + 1] == '"') {
		sbuf_addc(sb, '"');
		return p + n + 2;
	}
	*inq = !*inq;
	return p + n + 1;
}

char **sim_argv_split(const char *line, int *argc)
{
	char **argv = xcalloc(1, sizeof(*argv));
	struct sbuf sb;
	sbuf_init(&sb);
	*argc = 0;
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		int inq = 0;
		while (*p != '\0' &&
		       (inq || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'))) {
			if (*p == '\\' || *p == '"')
				p = split_backslashes(p, &sb, &inq);
			else
				sbuf_addc(&sb, *p++);
		}
		push_arg(&argv, argc, &sb);
	}
	sbuf_release(&sb);
	return argv;
}

void sim_argv_free(char **argv, int argc)
{
	if (argv == NULL)
		return;
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

char *sim_prog_base(const char *path)
{
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/' || *p == ':')
			b = p + 1;
	char *s = xstrdup(b);
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* Index of the argument after "-Command" (PowerShell), or -1. */
static int ps_command_index(char **argv, int argc)
{
	for (int i = 1; i < argc; i++)
		if (str_ieq(argv[i], "-Command") || str_ieq(argv[i], "-c"))
			return i + 1;
	return -1;
}

char *sim_cmd_normalise(char **argv, int argc)
{
	struct sbuf sb;
	sbuf_init(&sb);
	if (argc == 0)
		return sbuf_detach(&sb);
	char *base = sim_prog_base(argv[0]);
	int first = 1;
	if (str_ieq(base, "powershell") || str_ieq(base, "powershell.exe")) {
		int ci = ps_command_index(argv, argc);
		first = ci > 0 ? ci : argc;
		sbuf_adds(&sb, "powershell");
	} else {
		sbuf_adds(&sb, base);
	}
	for (int i = first; i < argc; i++) {
		int quote = strchr(argv[i], ' ') != NULL && first == 1;
		sbuf_addf(&sb, quote ? " \"%s\"" : " %s", argv[i]);
	}
	free(base);
	return sbuf_detach(&sb);
}

static void count_command(struct sim_host *h, const char *key)
{
	for (int i = 0; i < h->ncounts; i++)
		if (strcmp(h->counts[i].cmd, key) == 0) {
			h->counts[i].n++;
			return;
		}
	if (h->ncounts == h->ccounts) {
		h->ccounts = h->ccounts ? h->ccounts * 2 : 8;
		h->counts = xreallocarray(h->counts, (size_t)h->ccounts, sizeof(*h->counts));
	}
	h->counts[h->ncounts].cmd = xstrdup(key);
	h->counts[h->ncounts].n = 1;
	h->ncounts++;
}

static void cmd_empty(struct sim_action *a, int64_t at)
{
	(void)at;
	sim_act_exit(a, 0);
}

static void cmd_unknown(struct sim_action *a, int64_t at)
{
	(void)at;
	sim_act_err(a,
		    "'%s' is not recognized as an internal or external command,\n"
		    "operable program or batch file.\n",
		    a->argv[0]);
	sim_act_exit(a, SIM_EXIT_NOT_RECOGNIZED);
}

/* An Exchange cmdlet typed without powershell: Verb-Noun or a parenthesised expression. */
static int looks_like_cmdlet(const char *word)
{
	if (word[0] == '(' || word[0] == '$')
		return 1;
	const char *dash = strchr(word, '-');
	if (dash == NULL || dash == word || dash[1] == '\0')
		return 0;
	for (const char *p = word; p < dash; p++)
		if (!isalpha((unsigned char)*p))
			return 0;
	return isupper((unsigned char)word[0]) && strchr(word, '.') == NULL;
}

struct prog {
	const char *name; /* basename without .exe */
	sim_step_fn fn;
};

static const struct prog progs[] = {
    {"sc", sim_cmd_sc},		  {"net", sim_cmd_net},
    {"net1", sim_cmd_net},	  {"reg", sim_cmd_reg},
    {"wmic", sim_cmd_wmic},	  {"shutdown", sim_cmd_shutdown},
    {"cluster", sim_cmd_cluster}, {"powershell", sim_cmd_powershell},
    {"msiexec", sim_cmd_msiexec}, {"dsquery", sim_cmd_dsquery},
};

static sim_step_fn pick(const char *argv0)
{
	char *base = sim_prog_base(argv0);
	size_t n = strlen(base);
	sim_step_fn fn = NULL;
	if (n > 4 && str_ieq(base + n - 4, ".exe") && fnmatch("netfx20sp1*.exe", base, 0) == 0)
		fn = sim_cmd_dotnet;
	else if (n >= 9 && strcmp(base + n - 9, "setup.com") == 0)
		fn = sim_cmd_setup;
	else if (n >= 9 && strcmp(base + n - 9, "setup.exe") == 0)
		fn = sim_cmd_setup_exe;
	if (fn == NULL && n > 4 && strcmp(base + n - 4, ".exe") == 0)
		base[n - 4] = '\0';
	for (size_t i = 0; fn == NULL && i < CCR_ARRAY_LEN(progs); i++)
		if (strcmp(progs[i].name, base) == 0)
			fn = progs[i].fn;
	free(base);
	if (fn == NULL && looks_like_cmdlet(argv0))
		fn = sim_cmd_powershell;
	return fn != NULL ? fn : cmd_unknown;
}

/* Bare cmdlets count as "powershell SCRIPT", like the -Command form. */
static char *command_key(const struct sim_action *a, sim_step_fn fn)
{
	if (fn != sim_cmd_powershell)
		return sim_cmd_normalise(a->argv, a->argc);
	char *base = sim_prog_base(a->argv[0]);
	int ps = str_startswith(base, "powershell");
	free(base);
	if (ps)
		return sim_cmd_normalise(a->argv, a->argc);
	const char *p = a->line;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n > 0 &&
	       (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	char *script = xstrndup(p, n);
	char *key = xasprintf("powershell %s", script);
	free(script);
	return key;
}

/* One command (not a cmd line): parse, count, shape by faults, fire "before" events. */
static struct sim_action *exec_one(struct sim_world *w, int host, const char *cmdline, int64_t now)
{
	struct sim_action *a = sim_action_new(w, host, cmdline, now);
	a->argv = sim_argv_split(cmdline, &a->argc);
	sim_step_fn fn = a->argc == 0 ? cmd_empty : pick(a->argv[0]);
	char *key = command_key(a, fn);
	if (a->argc > 0)
		count_command(&w->hosts[host], key);
	sim_act_then(a, fn, now);
	sim_fault_shape(w, host, a->line, key, a);
	if (a->step != NULL)
		a->next_at += a->slow_ms;
	a->key = key;
	if (a->argc > 0) {
		/* Events "before" the command; if its own host went down, it never runs. */
		sim_event_on_command(w, host, a->line, key, 0, now);
		if (sim_host_power(w, host, now) != SIM_UP) {
			a->step = NULL;
			a->next_at = SIM_NEVER;
			a->after_fired = 1;
		}
	}
	return a;
}

struct sim_action *sim_run_line(struct sim_world *w, int host, const char *line, int64_t now)
{
	char *rest = NULL;
	int delayed = 0;
	struct sim_action *a;
	if (sim_cmdline_parse(line, &rest, &delayed))
		a = sim_seq_exec(w, host, line, rest, delayed, now);
	else
		a = exec_one(w, host, line, now);
	free(rest);
	return a;
}

struct sim_action *sim_exec(struct sim_world *w, int host, const char *cmdline, int64_t now)
{
	w->hosts[host].requests++;
	return sim_run_line(w, host, cmdline, now);
}
