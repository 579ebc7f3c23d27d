/*
 * sim_cmd_msi.c — Windows Installer and the Exchange organisation:
 * `msiexec /update|/p PATH.msp` installing an update rollup, the registry's
 * patch keys of the Exchange product, `setup.com /PrepareSchema|/PrepareAD`,
 * `dsquery` over the two Active Directory values they raise, and the service
 * pack prerequisites setup.com checks for SP2 and later (docs/ccrsim.md,
 * Update rollups and service packs).
 *
 * A rollup is media declared by the scenario (`rollups`): its KB number,
 * found in the .msp file name, the service pack it is built for, the binaries
 * version it brings and its architecture.  msiexec answers as Windows
 * Installer does: 0 done, 3010 done and a restart is needed (/norestart),
 * 1641 done and the restart started, 1603 fatal (an interim update is still
 * installed), 1642 not applicable (another service pack, or superseded), 1633
 * wrong platform (an x86 .msp on x64), 1619 package not found, 1639 bad
 * command line.  During the install the Cluster service stops and starts
 * again, so the groups the node owns fail over (setup's rule 2).  An
 * interrupted install rolls back: the binaries stay as they were.
 */
#include "sim_cmd_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MSI_OK		    0
#define MSI_BAD_COMMAND	    1639
#define MSI_OPEN_FAILED	    1619
#define MSI_FATAL	    1603
#define MSI_NOT_APPLICABLE  1642
#define MSI_PLATFORM	    1633
#define MSI_RESTART_NEEDED  3010
#define MSI_RESTART_STARTED 1641

#define F_NORESTART 1 /* flags: /norestart */
#define F_STOPPED   2 /* this install stopped the Cluster service */

/* The Exchange 2007 product's key under the Installer's UserData (compressed product code). */
#define EXCH_PRODUCT                                                                               \
	"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Installer\\UserData\\"  \
	"S-1-5-18\\Products\\461C2B4266EDEF444B864AD6D9E5B613"

void sim_msi_release(struct sim_msi *m)
{
	free(m->installer);
	free(m->arch);
	free(m->rollups);
	free(m->interim);
	free(m->rollup_s);
	free(m->log_path);
	free(m->log);
	memset(m, 0, sizeof(*m));
}

void sim_world_org_release(struct sim_world *w)
{
	for (int i = 0; i < w->nrollups; i++) {
		free(w->rollups[i].version);
		free(w->rollups[i].arch);
	}
	free(w->rollups);
	free(w->org_name);
	free(w->schema_version);
	free(w->ad_version);
}

void sim_msi_sp_installed(struct sim_host *h)
{
	h->msi.nrollups = 0;
}

static const struct sim_rollup *rollup_by_kb(const struct sim_world *w, int kb)
{
	for (int i = 0; i < w->nrollups; i++)
		if (w->rollups[i].kb == kb)
			return &w->rollups[i];
	return NULL;
}

/* The media of a package: its KB, and its architecture when the name says ("-x86-"). */
static const struct sim_rollup *rollup_of(const struct sim_world *w, int kb, const char *path)
{
	char *base = sim_prog_base(path);
	const char *arch = strstr(base, "x86") ? "x86" : strstr(base, "x64") ? "x64" : NULL;
	const struct sim_rollup *found = NULL;
	for (int i = 0; i < w->nrollups && found == NULL; i++)
		if (w->rollups[i].kb == kb &&
		    (arch == NULL || strcmp(w->rollups[i].arch, arch) == 0))
			found = &w->rollups[i];
	free(base);
	return found != NULL ? found : rollup_by_kb(w, kb);
}

static int sp_of(const char *ver)
{
	int v[4];
	return sim_ver_parse(ver, v) == 0 ? v[1] : -1;
}

static char *rollup_title(const struct sim_rollup *r)
{
	return xasprintf("Update Rollup %d for Exchange Server 2007 Service Pack %d (KB%d)",
			 r->number, r->sp, r->kb);
}

/* ---- the verbose log (/l*v) ---- */

static void log_line(struct sim_action *a, const char *fmt, ...) CCR_PRINTF(2, 3);

static void log_line(struct sim_action *a, const char *fmt, ...)
{
	struct sim_msi *m = &sim_act_host(a)->msi;
	va_list ap;
	if (a->text == NULL)
		return;
	struct sbuf sb;
	sbuf_init(&sb);
	if (m->log != NULL)
		sbuf_adds(&sb, m->log);
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	sbuf_addc(&sb, '\n');
	free(m->log);
	m->log = sbuf_detach(&sb);
}

static void msi_exit(struct sim_action *a, int64_t at, int code)
{
	char when[64];
	sim_us_time(sim_world_unix(a->w, at), when, sizeof(when));
	log_line(a,
		 "MSI (s): Windows Installer installed an update. Installation success or "
		 "error status: %d.",
		 code);
	log_line(a, "=== Logging stopped: %s ===", when);
	log_line(a, "MainEngineThread is returning %d", code);
	sim_act_exit(a, code);
}

/* ---- command line ---- */

struct msi_opts {
	const char *package; /* the .msp */
	const char *log;     /* /l*v path, or NULL */
	int quiet;	     /* /quiet, /qn, /q, /passive */
	int norestart;	     /* /norestart */
};

static int is_log_opt(const char *o)
{
	if (o[0] != '/' && o[0] != '-')
		return 0;
	if (o[1] != 'l' && o[1] != 'L')
		return 0;
	for (const char *p = o + 2; *p; p++)
		if (strchr("iwearucmopvx+!*", tolower((unsigned char)*p)) == NULL)
			return 0;
	return 1;
}

static int opt_is(const char *o, const char *name)
{
	return (o[0] == '/' || o[0] == '-') && strcasecmp(o + 1, name) == 0;
}

/* 0, or -1 for a command line msiexec refuses. */
static int parse_opts(struct sim_action *a, struct msi_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < a->argc; i++) {
		const char *s = a->argv[i];
		if ((opt_is(s, "update") || opt_is(s, "p")) && i + 1 < a->argc && !o->package)
			o->package = a->argv[++i];
		else if (opt_is(s, "quiet") || opt_is(s, "qn") || opt_is(s, "q") ||
			 opt_is(s, "passive"))
			o->quiet = 1;
		else if (opt_is(s, "norestart"))
			o->norestart = 1;
		else if ((is_log_opt(s) || opt_is(s, "log")) && i + 1 < a->argc && !o->log)
			o->log = a->argv[++i];
		else
			return -1;
	}
	return o->package != NULL && o->quiet ? 0 : -1;
}

/* The KB number in a package's file name ("Exchange2007-KB970162-x64-EN.msp"), or -1. */
static int package_kb(const char *path)
{
	char *base = sim_prog_base(path);
	int kb = -1;
	size_t n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".msp") == 0)
		for (const char *p = strstr(base, "kb"); p != NULL && kb < 0;
		     p = strstr(p + 2, "kb")) {
			long v = 0;
			const char *q = p + 2;
			while (isdigit((unsigned char)*q) && v < 100000000)
				v = v * 10 + (*q++ - '0');
			if (q > p + 2 && v > 0 && v < 100000000)
				kb = (int)v;
		}
	free(base);
	return kb;
}

static int has_rollup(const struct sim_host *h, int kb)
{
	for (int i = 0; i < h->msi.nrollups; i++)
		if (h->msi.rollups[i] == kb)
			return 1;
	return 0;
}

/* ---- the install ---- */

static void cluster_stop(struct sim_action *a, int64_t at)
{
	struct sim_svc *s = sim_svc_find(sim_act_host(a), "ClusSvc");
	if (s == NULL || s->state != SIM_SVC_RUNNING || sim_act_host(a)->cluster < 0)
		return;
	s->state = SIM_SVC_STOPPED;
	a->flags |= F_STOPPED;
	sim_node_leave(a->w, a->host, at);
}

static void cluster_start(struct sim_action *a, int64_t at)
{
	struct sim_svc *s = sim_svc_find(sim_act_host(a), "ClusSvc");
	if (s == NULL || !(a->flags & F_STOPPED))
		return;
	s->state = SIM_SVC_RUNNING;
	a->flags &= ~F_STOPPED;
	sim_node_join(a->w, a->host, at);
}

static void install_abort(struct sim_action *a, int64_t at)
{
	log_line(a, "MSI (s): Product: Microsoft Exchange Server -- Installation operation "
		    "failed: the install was interrupted; rolling back.");
	cluster_start(a, at);
}

static void install_done(struct sim_action *a, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	const struct sim_rollup *r = &a->w->rollups[a->stage];
	char *title = rollup_title(r);
	free(h->binaries);
	h->binaries = xstrdup(r->version);
	h->msi.rollups = xreallocarray(h->msi.rollups, (size_t)h->msi.nrollups + 1, sizeof(int));
	h->msi.rollup_s =
	    xreallocarray(h->msi.rollup_s, (size_t)h->msi.nrollups + 1, sizeof(int64_t));
	h->msi.rollups[h->msi.nrollups] = r->kb;
	h->msi.rollup_s[h->msi.nrollups] = sim_world_unix(a->w, at);
	h->msi.nrollups++;
	cluster_start(a, at);
	log_line(a,
		 "MSI (s): Product: Microsoft Exchange Server -- Update '%s' installed "
		 "successfully.",
		 title);
	free(title);
	if (!r->restart) {
		msi_exit(a, at, MSI_OK);
		return;
	}
	h->pending_reboot = 1;
	log_line(a, "MSI (s): Product: Microsoft Exchange Server. Restart required. The "
		    "installation or update for the product required a restart for all changes "
		    "to take effect.");
	if (a->flags & F_NORESTART) {
		msi_exit(a, at, MSI_RESTART_NEEDED);
		return;
	}
	sim_host_schedule_reboot(a->w, a->host, at);
	msi_exit(a, at, MSI_RESTART_STARTED);
}

static void install_files(struct sim_action *a, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	log_line(a, "MSI (s): Executing op: ProductInfo(ProductKey={24B2C164-DE66-44FE-B468-"
		    "A46D9D5E6B31},ProductName=Microsoft Exchange Server)");
	if (h->msi.ninterim > 0) {
		log_line(a,
			 "MSI (s): Product: Microsoft Exchange Server -- Error 1603: an interim "
			 "update (KB%d) for this product is installed. Remove it in Add or "
			 "Remove Programs, then install the update rollup again.",
			 h->msi.interim[0]);
		cluster_start(a, at);
		msi_exit(a, at, MSI_FATAL);
		return;
	}
	sim_act_then(a, install_done, at + a->span * 9 / 10);
}

static void install_begin(struct sim_action *a, int64_t at)
{
	log_line(a, "MSI (s): Stopping services: MSExchangeIS, MSExchangeRepl, ClusSvc");
	cluster_stop(a, at);
	sim_act_then(a, install_files, at + a->span / 10);
}

/* 1 and the exit code set when the rollup does not apply here (nothing changes). */
static int applicable(struct sim_action *a, int64_t at, const struct sim_rollup *r)
{
	struct sim_host *h = sim_act_host(a);
	char *title = rollup_title(r);
	int code = -1;
	if (strcmp(r->arch, h->msi.arch) != 0) {
		log_line(a,
			 "MSI (c): This installation package is for the %s platform; this "
			 "computer is %s. Error 1633.",
			 r->arch, h->msi.arch);
		code = MSI_PLATFORM;
	} else if (h->binaries == NULL || sp_of(h->binaries) != r->sp) {
		log_line(a,
			 "MSI (c): '%s' does not apply to the installed product (Microsoft "
			 "Exchange Server %s): it is built for Service Pack %d. Error 1642.",
			 title, h->binaries ? h->binaries : "(not installed)", r->sp);
		code = MSI_NOT_APPLICABLE;
	} else if (has_rollup(h, r->kb)) {
		log_line(a, "MSI (s): '%s' is already installed; nothing to do.", title);
		code = MSI_OK;
	} else if (sim_ver_cmp(h->binaries, r->version) >= 0) {
		log_line(a,
			 "MSI (c): '%s' is superseded by the installed binaries (%s). Error "
			 "1642.",
			 title, h->binaries);
		code = MSI_NOT_APPLICABLE;
	}
	free(title);
	if (code >= 0)
		msi_exit(a, at, code);
	return code >= 0;
}

void sim_cmd_msiexec(struct sim_action *a, int64_t at)
{
	struct sim_host *h = sim_act_host(a);
	struct msi_opts o;
	char when[64];
	if (parse_opts(a, &o) != 0) {
		sim_act_err(a, "msiexec: invalid command line syntax. Usage: msiexec /update "
			       "PACKAGE.msp /quiet [/norestart] [/l*v LOG] (no user interface is "
			       "available in this session: /quiet is required)\n");
		sim_act_exit(a, MSI_BAD_COMMAND);
		return;
	}
	if (o.log != NULL) {
		a->text = xstrdup(o.log);
		free(h->msi.log_path);
		h->msi.log_path = xstrdup(o.log);
		free(h->msi.log);
		h->msi.log = NULL;
	}
	sim_us_time(sim_world_unix(a->w, at), when, sizeof(when));
	log_line(a,
		 "=== Verbose logging started: %s  Calling process: "
		 "C:\\WINDOWS\\system32\\msiexec.exe ===",
		 when);
	log_line(a, "MSI (c): Command line: %s", a->line);
	int kb = package_kb(o.package);
	const struct sim_rollup *r = kb > 0 ? rollup_of(a->w, kb, o.package) : NULL;
	if (r == NULL) {
		log_line(a,
			 "MSI (c): Note: 1: 1314 2: %s. This patch package could not be "
			 "opened. Verify that it exists and that you can access it. Error 1619.",
			 o.package);
		msi_exit(a, at, MSI_OPEN_FAILED);
		return;
	}
	if (applicable(a, at, r))
		return;
	a->flags = o.norestart ? F_NORESTART : 0;
	a->stage = (int)(r - a->w->rollups);
	a->span = sim_scaled(a->w, a->w->dur.rollup);
	if (h->msi.offline) { /* signed .NET assemblies: each revocation check waits for its
				 time-out */
		log_line(
		    a, "MSI (s): Verifying the signatures of the .NET assemblies: the certificate "
		       "revocation list cannot be downloaded (no internet access); waiting for "
		       "the time-out.");
		a->span += sim_scaled(a->w, a->w->dur.crl_check);
	}
	a->abort = install_abort;
	install_begin(a, at);
}

/* ---- registry: the Exchange product's patch keys ---- */

/* A stable made-up compressed patch code per KB. */
static char *patch_code(int kb)
{
	return xasprintf("%08X0B5A4F6C8E2D1A7B%08X", (unsigned)kb, (unsigned)kb * 2654435761u);
}

static void patch_values(struct sim_action *a, const char *key, int kb, int64_t when)
{
	const struct sim_rollup *r = rollup_by_kb(a->w, kb);
	char *title = r ? rollup_title(r) : xasprintf("Interim update (KB%d)", kb);
	char date[16];
	time_t t = (time_t)when;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	sim_act_out(a,
		    "\n%s\n    DisplayName\tREG_SZ\t%s\n    State\tREG_DWORD\t0x1\n"
		    "    Installed\tREG_SZ\t%s\n",
		    key, title, date);
	free(title);
}

#define ENV_KEY                                                                                    \
	"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"

/* The Environment key: PROCESSOR_ARCHITECTURE (AMD64 or x86) and OS. */
static void env_query(struct sim_action *a, const char *vname)
{
	const struct sim_host *h = sim_act_host(a);
	const char *arch = strcmp(h->msi.arch, "x86") == 0 ? "x86" : "AMD64";
	int both = vname == NULL;
	if (!both && strcasecmp(vname, "PROCESSOR_ARCHITECTURE") != 0 &&
	    strcasecmp(vname, "OS") != 0) {
		sim_act_err(a, "\nError: The system was unable to find the specified registry key "
			       "or value.\n");
		sim_act_exit(a, 1);
		return;
	}
	sim_act_out(a, "\n! REG.EXE VERSION 3.0\n\n%s\n", ENV_KEY);
	if (both || strcasecmp(vname, "OS") == 0)
		sim_act_out(a, "    OS\tREG_EXPAND_SZ\tWindows_NT\n");
	if (both || strcasecmp(vname, "PROCESSOR_ARCHITECTURE") == 0)
		sim_act_out(a, "    PROCESSOR_ARCHITECTURE\tREG_SZ\t%s\n", arch);
	sim_act_out(a, "\n");
	sim_act_exit(a, 0);
}

int sim_msi_reg_query(struct sim_action *a, const char *norm, const char *vname, int recurse)
{
	const struct sim_host *h = sim_act_host(a);
	size_t n = strlen(EXCH_PRODUCT);
	if (strcasecmp(norm, ENV_KEY) == 0) {
		env_query(a, vname);
		return 1;
	}
	if (strncasecmp(norm, EXCH_PRODUCT, n) != 0)
		return 0;
	const char *rest = norm + n;
	int all = h->msi.nrollups + h->msi.ninterim;
	struct sbuf sb;
	sbuf_init(&sb);
	if (h->binaries == NULL || (*rest != '\0' && strncasecmp(rest, "\\Patches", 8) != 0)) {
		sbuf_release(&sb);
		sim_act_err(a, "\nError: The system was unable to find the specified registry key "
			       "or value.\n");
		sim_act_exit(a, 1);
		return 1;
	}
	sim_act_out(a, "\n! REG.EXE VERSION 3.0\n");
	for (int i = 0; i < all; i++) {
		int kb =
		    i < h->msi.nrollups ? h->msi.rollups[i] : h->msi.interim[i - h->msi.nrollups];
		int64_t when = i < h->msi.nrollups ? h->msi.rollup_s[i] : h->boot_s;
		char *code = patch_code(kb);
		char *key = xasprintf("%s\\Patches\\%s", EXCH_PRODUCT, code);
		free(code);
		if (*rest == '\0' || strcasecmp(rest, "\\Patches") == 0) {
			if (recurse && vname == NULL)
				patch_values(a, key, kb, when);
			else
				sbuf_addf(&sb, "%s\n", key);
		} else if (strcasecmp(norm, key) == 0) {
			patch_values(a, key, kb, when);
		}
		free(key);
	}
	if (*rest == '\0')
		sim_act_out(a, "\n%s\n\n%s\\Patches\n", EXCH_PRODUCT, EXCH_PRODUCT);
	else if (sb.len > 0)
		sim_act_out(a, "\n%s\\Patches\n\n%s", EXCH_PRODUCT, sb.buf);
	sbuf_release(&sb);
	sim_act_exit(a, 0);
	return 1;
}

/* ---- Windows Installer's own version ---- */

void sim_msi_wmic_datafile(struct sim_action *a)
{
	const struct sim_host *h = sim_act_host(a);
	const char *name = NULL;
	int get = 0;
	for (int i = 2; i < a->argc; i++) {
		if (strncasecmp(a->argv[i], "name=", 5) == 0)
			name = a->argv[i] + 5;
		else if (strcasecmp(a->argv[i], "get") == 0 && i + 1 < a->argc &&
			 strcasecmp(a->argv[i + 1], "Version") == 0)
			get = 1;
	}
	char *base = name != NULL ? sim_prog_base(name) : NULL;
	if (base == NULL || !get || strcmp(base, "msi.dll") != 0) {
		sim_act_out(a, "No Instance(s) Available.\n");
		sim_act_exit(a, 0);
		free(base);
		return;
	}
	free(base);
	const char *v = h->msi.installer;
	int dots = 0;
	for (const char *p = v; *p; p++)
		dots += *p == '.';
	char *full = strcmp(v, "4.5") == 0   ? xstrdup("4.5.6001.22159")
		     : strcmp(v, "3.1") == 0 ? xstrdup("3.1.4001.5512")
		     : dots >= 3	     ? xstrdup(v)
					     : xasprintf("%s%s", v, dots == 2 ? ".0" : ".0.0");
	sim_act_out(a, "Version         \n%-16s\n\n", full);
	free(full);
	sim_act_exit(a, 0);
}

/* ---- the organisation: schema and Active Directory ---- */

/* Values Exchange 2007 setup writes, by service pack (RTM, SP1, SP2, SP3). */
static const int range_upper[] = {10637, 11116, 14622, 14625};
static const int object_version[] = {10666, 11221, 11222, 11222};

static int by_sp(const int *tab, const char *ver)
{
	int sp = sp_of(ver);
	if (sp < 0)
		return 0;
	return tab[sp > 3 ? 3 : sp];
}

static char *domain_dn(const struct sim_world *w)
{
	struct sbuf sb;
	sbuf_init(&sb);
	const char *p = w->domain;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		sbuf_addf(&sb, "%sDC=%.*s", sb.len ? "," : "", (int)n, p);
		p += n + (dot ? 1 : 0);
	}
	return sbuf_detach(&sb);
}

/* dsquery * DN -scope base -attr rangeUpper|objectVersion */
void sim_cmd_dsquery(struct sim_action *a, int64_t at)
{
	(void)at;
	const char *dn = NULL, *attr = NULL;
	int base = 0;
	for (int i = 1; i < a->argc; i++) {
		if (strcmp(a->argv[i], "*") == 0 && i + 1 < a->argc && dn == NULL)
			dn = a->argv[++i];
		else if (strcasecmp(a->argv[i], "-scope") == 0 && i + 1 < a->argc)
			base = strcasecmp(a->argv[++i], "base") == 0;
		else if (strcasecmp(a->argv[i], "-attr") == 0 && i + 1 < a->argc)
			attr = a->argv[++i];
	}
	if (dn == NULL || attr == NULL || !base) {
		sim_act_err(a, "dsquery failed:Value for 'Target object for this command' has "
			       "incorrect format.\ntype dsquery /? for help.\n");
		sim_act_exit(a, 1);
		return;
	}
	char *ddn = domain_dn(a->w);
	char *schema = xasprintf("CN=ms-Exch-Schema-Version-Pt,CN=Schema,CN=Configuration,%s", ddn);
	char *org = xasprintf("CN=%s,CN=Microsoft Exchange,CN=Services,CN=Configuration,%s",
			      a->w->org_name, ddn);
	int value = -1;
	if (strcasecmp(dn, schema) == 0 && strcasecmp(attr, "rangeUpper") == 0)
		value = by_sp(range_upper, a->w->schema_version);
	else if (strcasecmp(dn, org) == 0 && strcasecmp(attr, "objectVersion") == 0)
		value = by_sp(object_version, a->w->ad_version);
	if (value >= 0) {
		sim_act_out(a, "  %s\n  %d\n", attr, value);
		sim_act_exit(a, 0);
	} else if (strcasecmp(dn, schema) == 0 || strcasecmp(dn, org) == 0) {
		sim_act_out(a, "  %s\n", attr);
		sim_act_exit(a, 0);
	} else {
		sim_act_err(a, "dsquery failed:Directory object not found.\ntype dsquery /? for "
			       "help.\n");
		sim_act_exit(a, 1);
	}
	free(ddn);
	free(schema);
	free(org);
}

/* setup.com /PrepareSchema (ad 0) and /PrepareAD (ad 1): the organisation at media_version. */
static void prepare_done(struct sim_action *a, int64_t at)
{
	(void)at;
	struct sim_world *w = a->w;
	if (sim_ver_sp_cmp(w->schema_version, w->media_version) < 0) {
		free(w->schema_version);
		w->schema_version = xstrdup(w->media_version);
	}
	if (a->stage && sim_ver_sp_cmp(w->ad_version, w->media_version) < 0) {
		free(w->ad_version);
		w->ad_version = xstrdup(w->media_version);
	}
	sim_act_out(a, "......................... COMPLETED\n\nThe Microsoft Exchange Server "
		       "setup operation completed successfully.\n");
	sim_act_exit(a, 0);
}

void sim_setup_prepare(struct sim_action *a, int64_t at, int ad)
{
	struct sim_world *w = a->w;
	int media = by_sp(range_upper, w->media_version);
	int have = by_sp(range_upper, w->schema_version);
	if (have > media) {
		sim_act_out(a,
			    "    Organization Checks                 ......................... "
			    "FAILED\n     Error:\n     The Active Directory schema version (%d) "
			    "is higher than Setup's version (%d). PrepareSchema cannot run.\n\n"
			    "The Microsoft Exchange Server setup operation did not complete.\n",
			    have, media);
		sim_act_exit(a, 1);
		return;
	}
	int done = sim_ver_sp_cmp(w->schema_version, w->media_version) >= 0 &&
		   (!ad || sim_ver_sp_cmp(w->ad_version, w->media_version) >= 0);
	sim_act_out(a, "    Organization Checks                 ......................... "
		       "COMPLETED\n\nConfiguring Microsoft Exchange Server\n\n");
	if (done) {
		sim_act_out(a,
			    "    %-36s......................... COMPLETED\n\nThe organization "
			    "is already prepared for this version (%s).\n\nThe Microsoft "
			    "Exchange Server setup operation completed successfully.\n",
			    ad ? "Organization Preparation" : "Extending Active Directory schema",
			    w->media_version);
		sim_act_exit(a, 0);
		return;
	}
	sim_act_out(a, "    %-36s",
		    ad ? "Organization Preparation" : "Extending Active Directory schema");
	a->stage = ad;
	sim_act_then(a, prepare_done, at + sim_scaled(w, w->dur.prepare));
}

char *sim_setup_sp_prereq(const struct sim_action *a)
{
	const struct sim_world *w = a->w;
	const struct sim_host *h = sim_act_host(a);
	int sp = sp_of(w->media_version);
	if (sp < 2)
		return NULL;
	if (sim_ver_sp_cmp(w->schema_version, w->media_version) < 0)
		return xasprintf("     Error:\n     The Active Directory schema is not up to date "
				 "(rangeUpper %d; this Setup needs %d). Run setup.com "
				 "/PrepareSchema with an account in Schema Admins and Enterprise "
				 "Admins, then run Setup again.\n",
				 by_sp(range_upper, w->schema_version),
				 by_sp(range_upper, w->media_version));
	if (sim_ver_sp_cmp(w->ad_version, w->media_version) < 0)
		return xasprintf("     Error:\n     The organization '%s' is not prepared for "
				 "Exchange Server 2007 Service Pack %d (objectVersion %d). Run "
				 "setup.com /PrepareAD, then run Setup again.\n",
				 w->org_name, sp, by_sp(object_version, w->ad_version));
	if (sim_ver_cmp(h->msi.installer, "4.5") < 0)
		return xasprintf("     Error:\n     Windows Installer 4.5 or later is required "
				 "(this computer has %s). Install Windows Installer 4.5 "
				 "(KB942288), restart, then run Setup again.\n",
				 h->msi.installer);
	return NULL;
}

/* ---- the dump ---- */

json_t *sim_msi_json(const struct sim_world *w, const struct sim_host *h)
{
	json_t *rolls = json_array(), *interim = json_array();
	for (int i = 0; i < h->msi.nrollups; i++) {
		const struct sim_rollup *r = rollup_by_kb(w, h->msi.rollups[i]);
		json_array_append_new(rolls, json_pack("{s:i, s:i, s:s}", "kb", h->msi.rollups[i],
						       "rollup", r ? r->number : 0, "version",
						       r ? r->version : ""));
	}
	for (int i = 0; i < h->msi.ninterim; i++)
		json_array_append_new(interim, json_integer(h->msi.interim[i]));
	json_t *log = h->msi.log_path == NULL ? json_null()
					      : json_pack("{s:s, s:s}", "path", h->msi.log_path,
							  "text", h->msi.log ? h->msi.log : "");
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "windows_installer", h->msi.installer, "arch",
			 h->msi.arch, "rollups", rolls, "interim_updates", interim, "last_log",
			 log);
}

json_t *sim_org_json(const struct sim_world *w)
{
	json_t *media = json_array();
	for (int i = 0; i < w->nrollups; i++) {
		const struct sim_rollup *r = &w->rollups[i];
		json_array_append_new(media, json_pack("{s:i, s:i, s:i, s:s, s:s, s:b}", "kb",
						       r->kb, "rollup", r->number, "service_pack",
						       r->sp, "version", r->version, "arch",
						       r->arch, "restart", r->restart));
	}
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:o}", "name", w->org_name, "schema_version",
			 w->schema_version, "ad_version", w->ad_version, "schema_range_upper",
			 by_sp(range_upper, w->schema_version), "object_version",
			 by_sp(object_version, w->ad_version), "rollup_media", media);
}
