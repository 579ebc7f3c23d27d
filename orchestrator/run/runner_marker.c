/*
 * runner_marker.c — the run marker on the cluster itself.
 *
 * The local lock (state/<cluster>/lock) only stops runs that share a state
 * directory.  Two operators with two state directories would both pass it and
 * upgrade one cluster at once.  So, as Cluster-Aware Updating does, the run
 * also leaves a marker on the cluster's hosts (the playbook says how: for
 * ccr-sp1 a registry value on both nodes) naming the run, its host, its user
 * and its start:
 *
 *   take     after the local lock, before the first step: a marker of another
 *            run refuses (exit 4, naming its holder) unless --break-marker;
 *            then ours is written on every host and read back;
 *   check    before every phase: a marker that is no longer ours (someone
 *            broke it, or a racing run wrote last) stops the run (exit 4);
 *   release  when the run is done.  A failed or interrupted run keeps it:
 *            the cluster is mid-upgrade, and resume (same run id) takes it
 *            again; a dead holder's marker needs --break-marker.
 *
 * The text is "run=ID;host=H;user=U;started=T", from a safe alphabet, so it
 * can sit inside any quoting the playbook's take command uses.
 */
#include "runner_int.h"

#include <pwd.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "textsafe.h"

#define MARKER_TIMEOUT_MS 60000

/* Copy s keeping [A-Za-z0-9._-]; anything else becomes '_'. */
static void safe_word(char *out, size_t outlen, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < outlen; s++, n++)
		out[n] = (strchr("._-", *s) || (*s >= 'a' && *s <= 'z') ||
			  (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
			     ? *s
			     : '_';
	out[n] = '\0';
}

/* Our marker text (caller frees). */
static char *marker_text(const struct runner *r)
{
	char host[256] = "unknown", h[128], u[64], ts[32];
	struct passwd *pw = getpwuid(geteuid());

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	safe_word(h, sizeof(h), host);
	safe_word(u, sizeof(u), pw ? pw->pw_name : "unknown");
	format_iso8601(now_wall_ms(), ts, sizeof(ts));
	ts[19] = 'Z';
	ts[20] = '\0';
	return xasprintf("run=%s;host=%s;user=%s;started=%s", r->run_id, h, u, ts);
}

/* The run id in a marker text, or NULL (caller frees). */
static char *marker_run(const char *text)
{
	const char *p = strstr(text, "run=");
	if (p == NULL || (p != text && p[-1] != ';'))
		return NULL;
	p += 4;
	return xstrndup(p, strcspn(p, ";"));
}

/* "run X by user U on host H since T" for messages (caller frees). */
static char *marker_describe(const char *text)
{
	char *safe = text_escaped(text, "");
	struct sbuf sb;
	const char *keys[] = {"run=", "user=", "host=", "started="};
	const char *words[] = {"run ", " by user ", " on host ", " since "};

	sbuf_init(&sb);
	for (size_t i = 0; i < CCR_ARRAY_LEN(keys); i++) {
		const char *p = strstr(safe, keys[i]);
		if (p == NULL)
			continue;
		p += strlen(keys[i]);
		sbuf_adds(&sb, words[i]);
		sbuf_add(&sb, p, strcspn(p, ";"));
	}
	if (sb.len == 0)
		sbuf_addf(&sb, "'%s'", safe);
	free(safe);
	return sbuf_detach(&sb);
}

/* Run cmd on host.  0 with *exit_status and out, or -1 with err. */
static int marker_exec(struct runner *r, const char *host, const char *cmd, int *exit_status,
		       struct sbuf *out, char *err, size_t errlen)
{
	struct xport *x = conns_get(r->conns, host);
	struct xport_result res;
	int rc = -1;

	xport_result_init(&res);
	/* Write-ahead, as for a step: what the journal says first, on disk. */
	if (runner_journal_sync(r, NULL) < 0) {
		snprintf(err, errlen, "%.900s", r->err); /* (r->err is far shorter) */
		return -1;
	}
	runner_emitf(r, EV_CMD_START, NULL, "%s: %s", host, cmd);
	enum xport_outcome o = xport_exec(x, cmd, runner_budget(r, MARKER_TIMEOUT_MS), 65536, NULL,
					  NULL, r->o->stop, &res);
	struct event e = runner_step_event(EV_CMD_END, NULL);
	e.node = host;
	e.command = cmd;
	e.exit = res.exit;
	e.duration_ms = res.duration_ms;
	e.text = res.out.buf;
	e.detail = res.err.buf;
	runner_emit(r, &e);
	if (o == XPORT_OK) {
		*exit_status = res.exit;
		if (out)
			sbuf_add(out, res.out.buf, res.out.len);
		rc = 0;
	} else {
		snprintf(err, errlen, "`%s` on %s: %s", cmd, host, xport_error(x));
	}
	xport_result_release(&res);
	return rc;
}

static const struct host_group *marker_hosts(const struct runner *r)
{
	return cluster_group(r->cl, r->pb->marker->on);
}

/*
 * The marker on host: 1 with *text (caller frees), 0 none, -1 with err.
 * cached: read like a fact (compound probes, playbook `shell:`): from what
 * the runner read since the last change, often in the same remote command
 * as the facts (runner_prefetch.c), else now.
 */
static int marker_read(struct runner *r, const char *host, int cached, char **text, char *err,
		       size_t errlen)
{
	const struct marker_def *k = r->pb->marker;
	struct sbuf out;
	regmatch_t m[2];
	int status = 0, rc;
	char *o = NULL;

	*text = NULL;
	sbuf_init(&out);
	if (cached && r->pb->shell != PB_SHELL_NONE) {
		char e[512];
		if ((rc = facts_run_output(r->facts, host, k->read, &o, &status, e, sizeof(e))) < 0)
			snprintf(err, errlen, "`%s` on %s: %s", k->read, host, e);
		else
			sbuf_adds(&out, o);
		free(o);
	} else {
		rc = marker_exec(r, host, k->read, &status, &out, err, errlen);
	}
	if (rc == 0 && status == 0 && regexec(&k->capture_re, out.buf, 2, m, 0) == 0 &&
	    m[1].rm_so >= 0 && m[1].rm_eo > m[1].rm_so) {
		*text = xstrndup(out.buf + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
		rc = 1;
	}
	sbuf_release(&out);
	return rc;
}

void runner_marker_want(struct runner *r)
{
	const struct host_group *g;

	if (r->pb->marker == NULL || (g = marker_hosts(r)) == NULL)
		return;
	for (int i = 0; i < g->nhosts; i++)
		facts_want_cmd(r->facts, g->hosts[i], r->pb->marker->read);
}

/* 1 if text is another run's marker. */
static int foreign(const struct runner *r, const char *text)
{
	char *id = marker_run(text);
	int other = id == NULL || strcmp(id, r->run_id) != 0;

	free(id);
	return other;
}

/* 1 if text is the marker of the run whose journal this apply archived. */
static int ended_run(const struct runner *r, const char *text)
{
	char *id = marker_run(text);
	int ended = id != NULL && r->ended_run_id[0] != '\0' && strcmp(id, r->ended_run_id) == 0;

	free(id);
	return ended;
}

static int refuse_foreign(struct runner *r, const char *host, const char *text, const char *when)
{
	char *who = marker_describe(text);

	snprintf(r->err, sizeof(r->err),
		 "cluster %s is being upgraded by another run: the marker on %s names %s; %s "
		 "(if that run is dead -- its process gone, its operator agrees -- run again "
		 "with --break-marker)",
		 r->cl->name, host, who, when);
	free(who);
	return EXIT_LOCKED;
}

/* Replace ${marker} in the playbook's take command (caller frees). */
static char *take_command(const char *tmpl, const char *text)
{
	struct sbuf sb;
	const char *p = tmpl, *q;

	sbuf_init(&sb);
	while ((q = strstr(p, "${marker}")) != NULL) {
		sbuf_add(&sb, p, (size_t)(q - p));
		sbuf_adds(&sb, text);
		p = q + 9;
	}
	sbuf_adds(&sb, p);
	return sbuf_detach(&sb);
}

/* The id of the journal's last run-start, or "" (borrowed). */
static const char *journal_run_id(const struct runner *r)
{
	for (long i = (long)journal_count(r->j) - 1; i >= 0; i--) {
		json_t *rec = journal_record(r->j, (size_t)i);
		const char *ev = json_string_value(json_object_get(rec, "event"));
		if (ev && strcmp(ev, "run-start") == 0) {
			const char *id = json_string_value(json_object_get(rec, "run_id"));
			return id ? id : "";
		}
	}
	return "";
}

int runner_marker_peek(struct runner *r)
{
	const struct host_group *g;
	char err[1024], *seen = NULL, *id = NULL;
	int rc = 0;

	if (r->pb->marker == NULL || r->o->break_marker || (g = marker_hosts(r)) == NULL)
		return 0;
	for (int i = 0; i < g->nhosts && rc == 0; i++) {
		int has = marker_read(r, g->hosts[i], 0, &seen, err, sizeof(err));
		if (has == 1 &&
		    ((id = marker_run(seen)) == NULL || strcmp(id, journal_run_id(r)))) {
			rc = refuse_foreign(r, g->hosts[i], seen, "nothing was done");
		}
		if (has == 1)
			free(id);
		free(seen);
		seen = NULL;
	}
	return rc;
}

static int marker_verify(struct runner *r, int cached);

int runner_marker_take(struct runner *r)
{
	const struct host_group *g;
	char err[1024], *mine = NULL, *cmd = NULL, *seen = NULL;
	int rc = 0, status = 0;

	if (r->pb->marker == NULL || (g = marker_hosts(r)) == NULL)
		return 0;
	mine = marker_text(r);
	for (int i = 0; i < g->nhosts && rc == 0; i++) {
		int has = marker_read(r, g->hosts[i], 1, &seen, err, sizeof(err));
		if (has < 0) {
			snprintf(r->err, sizeof(r->err),
				 "cannot read the run marker on %s: %s; nothing was changed",
				 g->hosts[i], err);
			rc = EXIT_STEP_FAILED;
		} else if (has == 1 && foreign(r, seen) && ended_run(r, seen)) {
			/* The journal this run archived under the lock says that run is over
			 * (abandoned, or replaced): its marker is ours to replace. */
			runner_emitf(r, EV_INFO, NULL,
				     "replacing the run marker on %s left by the ended run %s",
				     g->hosts[i], r->ended_run_id);
		} else if (has == 1 && foreign(r, seen)) {
			if (!r->o->break_marker) {
				rc = refuse_foreign(r, g->hosts[i], seen, "nothing was changed");
			} else {
				char *who = marker_describe(seen);
				runner_emitf(r, EV_WARN, NULL,
					     "--break-marker: replacing the run marker on %s (%s)",
					     g->hosts[i], who);
				runner_journal(
				    r, "marker-broken", NULL,
				    json_pack("{s:s, s:s}", "host", g->hosts[i], "was", seen));
				free(who);
			}
		}
		free(seen);
		seen = NULL;
	}
	cmd = take_command(r->pb->marker->take, mine);
	for (int i = 0; i < g->nhosts && rc == 0; i++) {
		if (marker_exec(r, g->hosts[i], cmd, &status, NULL, err, sizeof(err)) < 0 ||
		    status != 0) {
			snprintf(r->err, sizeof(r->err), "cannot write the run marker on %s: %s",
				 g->hosts[i], status ? "the take command failed" : err);
			rc = EXIT_STEP_FAILED;
		}
	}
	if (rc == 0) {
		r->marker_held = 1;
		runner_journal(r, "marker-taken", NULL, json_pack("{s:s}", "marker", mine));
		rc = marker_verify(r, 0); /* read back after the write: never from the cache */
	}
	free(cmd);
	free(mine);
	return rc;
}

/* Is the marker on every host still ours?  0 or EXIT_LOCKED (r->err). */
static int marker_verify(struct runner *r, int cached)
{
	const struct host_group *g;
	char err[1024], *seen = NULL;
	int rc = 0;

	if (!r->marker_held || (g = marker_hosts(r)) == NULL)
		return 0;
	for (int i = 0; i < g->nhosts && rc == 0; i++) {
		int has = marker_read(r, g->hosts[i], cached, &seen, err, sizeof(err));
		if (has < 0) /* a node mid-reboot: its marker is checked next time */
			runner_emitf(r, EV_WARN, NULL, "run marker on %s not checked: %s",
				     g->hosts[i], err);
		else if (has == 0 || foreign(r, seen)) {
			r->marker_held = 0; /* no longer ours: never release someone else's */
			rc = has ? refuse_foreign(r, g->hosts[i], seen,
						  "stopped before the next phase")
				 : EXIT_LOCKED;
			if (!has)
				snprintf(r->err, sizeof(r->err),
					 "cluster %s: the run marker on %s is gone (removed by "
					 "someone else?); stopped before the next phase",
					 r->cl->name, g->hosts[i]);
		}
		free(seen);
		seen = NULL;
	}
	return rc;
}

int runner_marker_check(struct runner *r)
{
	return marker_verify(r, 1);
}

/* Did this run take the marker in an earlier process (resumed since)? */
static int taken_earlier(const struct runner *r)
{
	for (long i = (long)journal_count(r->j) - 1; i >= 0; i--) {
		const char *ev =
		    json_string_value(json_object_get(journal_record(r->j, (size_t)i), "event"));
		if (ev && strcmp(ev, "marker-taken") == 0)
			return 1;
		if (ev && (strcmp(ev, "run-start") == 0 || strcmp(ev, "marker-released") == 0))
			return 0;
	}
	return 0;
}

void runner_marker_release(struct runner *r)
{
	const struct host_group *g;
	char err[1024], *seen = NULL;
	int status = 0;

	if (r->pb->marker == NULL || (g = marker_hosts(r)) == NULL ||
	    (!r->marker_held && !taken_earlier(r)))
		return;
	for (int i = 0; i < g->nhosts; i++) {
		/* Only ours: a marker another run wrote meanwhile stays. */
		int has = marker_read(r, g->hosts[i], 0, &seen, err, sizeof(err));
		if (has == 1 && !foreign(r, seen) &&
		    (marker_exec(r, g->hosts[i], r->pb->marker->release, &status, NULL, err,
				 sizeof(err)) < 0 ||
		     status != 0))
			runner_emitf(r, EV_WARN, NULL,
				     "run marker on %s not released (%s): remove it by hand",
				     g->hosts[i], status ? "the release command failed" : err);
		free(seen);
		seen = NULL;
	}
	r->marker_held = 0;
	runner_journal(r, "marker-released", NULL, NULL);
}
