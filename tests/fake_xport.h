/*
 * fake_xport.h — a scripted fake transport for the runner's unit suite
 * (check_runner.c): a third implementation of struct xport_ops
 * (xport_int.h) beside SSH and WinRM, handed to the runner through
 * run_opts.xport_ops.  No network, no simulator.
 *
 * A world holds, per node, a table of KEY=VALUE settings and a boot id.
 * Every command is logged (node, text), then looked up in the rule table
 * (first match by node and fnmatch(3) pattern, optionally only N times);
 * a rule answers with its stdout/stderr/exit, or drops, times out, stops
 * the run (as SIGTERM would), or kills the process (a crash, for the
 * in-flight paths).  A command no rule answers (or a rule with `effect`)
 * runs the built-in shell:
 *   get KEY        prints the value (exit 1 when unset)
 *   set KEY VALUE  sets it (exit 0)
 *   setall KEY VALUE  sets it on every node (a cluster-wide setting: which
 *                  node owns a clustered service)
 *   bootid         prints "boot-N"
 *   reboot         N+1, pend=0, and the node is "down" for the next connects
 *   true / false   exit 0 / 1
 * Anything else exits 127.  One world per test; included by one file.
 *
 * A compound probe in the sh wire format (run/batch.h:
 * `(P1); echo "ccrup:NONCE:1:$?"; echo "ccrup:NONCE:1:" >&2; (P2); ...`) runs
 * each part as if it came alone (logged, matched against the rules), with
 * the markers after each; a part that drops, times out or stops ends the
 * whole request there.  `requests` counts the remote commands received.
 */
#ifndef CCR_FAKE_XPORT_H
#define CCR_FAKE_XPORT_H

#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xport_int.h"

#define FAKE_MAX_NODES 4
#define FAKE_MAX_KV    24
#define FAKE_MAX_RULES 24
#define FAKE_MAX_LOG   2048

enum fake_act {
	FA_ANSWER = 0, /* print out/err, exit with exit */
	FA_DROP,       /* the connection drops mid-command: outcome unknown */
	FA_TIMEOUT,    /* the command's deadline passes */
	FA_STOP,       /* SIGTERM arrives while it runs: *stop is set */
	FA_CRASH,      /* ccrup is killed while it runs (_exit in the child) */
};

struct fake_rule {
	const char *node;  /* NULL: any node */
	const char *match; /* fnmatch pattern over the whole command */
	enum fake_act act;
	const char *out, *err;
	int exit;
	int times;  /* answers this many times, then is ignored; 0: always */
	int effect; /* run the built-in shell too (before answering) */
	int used;
};

struct fake_node {
	char name[32];
	char key[FAKE_MAX_KV][32];
	char val[FAKE_MAX_KV][64];
	int nkv;
	int boot;
	int down; /* connects and commands fail while > 0 (counts down) */
	int connected;
};

struct fake_world {
	struct fake_node node[FAKE_MAX_NODES];
	int nnodes;
	struct fake_rule rule[FAKE_MAX_RULES];
	int nrules;
	int down_after_reboot; /* connects refused after `reboot`; 0: 2; < 0: none (back at once) */
	int reboot_keeps_boot; /* `reboot` does not change the boot id (a failed restart) */
	volatile sig_atomic_t *stop;
	char log[FAKE_MAX_LOG][160];
	char lognode[FAKE_MAX_LOG][32];
	int nlog;
	int requests; /* remote commands received (a batch is one) */
};

static struct fake_node *fake_node(struct fake_world *w, const char *name)
{
	for (int i = 0; i < w->nnodes; i++)
		if (strcmp(w->node[i].name, name) == 0)
			return &w->node[i];
	if (w->nnodes == FAKE_MAX_NODES)
		abort();
	struct fake_node *n = &w->node[w->nnodes++];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->boot = 1;
	return n;
}

static const char *fake_get(struct fake_world *w, const char *node, const char *key)
{
	struct fake_node *n = fake_node(w, node);
	for (int i = 0; i < n->nkv; i++)
		if (strcmp(n->key[i], key) == 0)
			return n->val[i];
	return NULL;
}

static __attribute__((unused)) void fake_set(struct fake_world *w, const char *node,
					     const char *key, const char *val)
{
	struct fake_node *n = fake_node(w, node);
	int i = 0;
	while (i < n->nkv && strcmp(n->key[i], key) != 0)
		i++;
	if (i == n->nkv) {
		if (n->nkv == FAKE_MAX_KV)
			abort();
		n->nkv++;
		snprintf(n->key[i], sizeof(n->key[i]), "%s", key);
	}
	snprintf(n->val[i], sizeof(n->val[i]), "%s", val);
}

static __attribute__((unused)) struct fake_rule *fake_rule(struct fake_world *w, const char *node,
							   const char *match, enum fake_act act)
{
	if (w->nrules == FAKE_MAX_RULES)
		abort();
	struct fake_rule *r = &w->rule[w->nrules++];
	memset(r, 0, sizeof(*r));
	r->node = node;
	r->match = match;
	r->act = act;
	return r;
}

/* How many commands matching pattern were sent (to node, or any when NULL). */
static __attribute__((unused)) int fake_count(const struct fake_world *w, const char *node,
					      const char *pattern)
{
	int n = 0;
	for (int i = 0; i < w->nlog; i++)
		if ((node == NULL || strcmp(w->lognode[i], node) == 0) &&
		    fnmatch(pattern, w->log[i], 0) == 0)
			n++;
	return n;
}

/* Commands that change something (set, reboot) sent so far. */
static __attribute__((unused)) int fake_changes(const struct fake_world *w)
{
	return fake_count(w, NULL, "set *") + fake_count(w, NULL, "reboot");
}

static __attribute__((unused)) int fake_shell(struct fake_world *w, const char *node,
					      const char *cmd, struct xport_pump *p)
{
	char a[64] = "", b[64] = "", line[160];
	const char *sp;
	if (strncmp(cmd, "get ", 4) == 0) {
		const char *v = fake_get(w, node, cmd + 4);
		if (v == NULL)
			return 1;
		snprintf(line, sizeof(line), "%s\n", v);
		xport__pump_take(p, 1, line, strlen(line));
		return 0;
	}
	if (strncmp(cmd, "set ", 4) == 0 && (sp = strchr(cmd + 4, ' ')) != NULL) {
		snprintf(a, sizeof(a), "%.*s", (int)(sp - cmd - 4), cmd + 4);
		snprintf(b, sizeof(b), "%s", sp + 1);
		fake_set(w, node, a, b);
		return 0;
	}
	if (strncmp(cmd, "setall ", 7) == 0 && (sp = strchr(cmd + 7, ' ')) != NULL) {
		snprintf(a, sizeof(a), "%.*s", (int)(sp - cmd - 7), cmd + 7);
		for (int i = 0; i < w->nnodes; i++)
			fake_set(w, w->node[i].name, a, sp + 1);
		return 0;
	}
	if (strcmp(cmd, "bootid") == 0) {
		snprintf(line, sizeof(line), "boot-%d\n", fake_node(w, node)->boot);
		xport__pump_take(p, 1, line, strlen(line));
		return 0;
	}
	if (strcmp(cmd, "reboot") == 0) {
		struct fake_node *n = fake_node(w, node);
		if (!w->reboot_keeps_boot)
			n->boot++;
		n->down = w->down_after_reboot < 0   ? 0
			  : w->down_after_reboot > 0 ? w->down_after_reboot
						     : 2;
		fake_set(w, node, "pend", "0"); /* a reboot clears what was pending */
		n->connected = 0;
		return 0;
	}
	if (strcmp(cmd, "true") == 0)
		return 0;
	if (strcmp(cmd, "false") == 0)
		return 1;
	return 127;
}

static enum xport_outcome fake_connect(struct xport *x)
{
	struct fake_world *w = x->impl;
	struct fake_node *n = fake_node(w, x->name);
	if (n->down > 0) {
		n->down--;
		xport__fail(x, "connection refused");
		return XPORT_CONNECT_FAILED;
	}
	n->connected = 1;
	x->connects++;
	return XPORT_OK;
}

static __attribute__((unused)) void fake_disconnect(struct xport *x)
{
	struct fake_world *w = x->impl;
	fake_node(w, x->name)->connected = 0;
}

/* One command, as if sent alone: logged, answered by a rule or the built-in shell. */
static enum xport_outcome fake_one(struct xport *x, const char *cmd, struct xport_pump *p)
{
	struct fake_world *w = x->impl;
	struct fake_node *n = fake_node(w, x->name);
	if (w->nlog < FAKE_MAX_LOG) {
		snprintf(w->log[w->nlog], sizeof(w->log[0]), "%s", cmd);
		snprintf(w->lognode[w->nlog], sizeof(w->lognode[0]), "%s", x->name);
		w->nlog++;
	}
	for (int i = 0; i < w->nrules; i++) {
		struct fake_rule *r = &w->rule[i];
		if ((r->node != NULL && strcmp(r->node, x->name) != 0) ||
		    fnmatch(r->match, cmd, 0) != 0 || (r->times > 0 && r->used >= r->times))
			continue;
		r->used++;
		if (r->effect)
			(void)fake_shell(w, x->name, cmd, p);
		switch (r->act) {
		case FA_ANSWER:
			if (r->out)
				xport__pump_take(p, 1, r->out, strlen(r->out));
			if (r->err)
				xport__pump_take(p, 2, r->err, strlen(r->err));
			p->res->exit = r->exit;
			return XPORT_OK;
		case FA_DROP:
			n->connected = 0;
			xport__fail(x, "connection dropped");
			return XPORT_DROPPED;
		case FA_TIMEOUT:
			xport__fail(x, "timed out");
			return XPORT_TIMEOUT;
		case FA_STOP:
			if (w->stop)
				*w->stop = 1;
			xport__fail(x, "stopped");
			return XPORT_STOPPED;
		case FA_CRASH:
			_exit(137);
		}
	}
	p->res->exit = fake_shell(w, x->name, cmd, p);
	return XPORT_OK;
}

/* A batch in the sh wire format: each part through fake_one, markers after each. */
static enum xport_outcome fake_batch(struct xport *x, const char *cmd, struct xport_pump *p)
{
	const char *q = cmd;
	for (int i = 1; *q == '('; i++) {
		const char *end = strstr(q, "); echo \"ccrup:"), *nz, *next;
		char part[160], nonce[16], line[64];
		if (end == NULL || (nz = strchr(end + 15, ':')) == NULL)
			return XPORT_OK;
		snprintf(part, sizeof(part), "%.*s", (int)(end - q - 1), q + 1);
		snprintf(nonce, sizeof(nonce), "%.*s", (int)(nz - end - 15), end + 15);
		p->res->exit = 0;
		enum xport_outcome o = fake_one(x, part, p);
		if (o != XPORT_OK)
			return o;
		snprintf(line, sizeof(line), "ccrup:%s:%d:%d\n", nonce, i, p->res->exit);
		xport__pump_take(p, 1, line, strlen(line));
		snprintf(line, sizeof(line), "ccrup:%s:%d:\n", nonce, i);
		xport__pump_take(p, 2, line, strlen(line));
		next = strstr(end, ">&2");
		q = next ? next + 3 : "";
		q += strncmp(q, "; ", 2) == 0 ? 2 : 0;
	}
	return XPORT_OK;
}

static enum xport_outcome fake_exec(struct xport *x, const char *cmd, struct xport_pump *p,
				    int64_t deadline, volatile sig_atomic_t *stop)
{
	struct fake_world *w = x->impl;
	struct fake_node *n = fake_node(w, x->name);
	(void)deadline;
	(void)stop;
	if (!n->connected && fake_connect(x) != XPORT_OK)
		return XPORT_CONNECT_FAILED;
	w->requests++;
	if (cmd[0] == '(' && strstr(cmd, "); echo \"ccrup:") != NULL)
		return fake_batch(x, cmd, p);
	return fake_one(x, cmd, p);
}

static __attribute__((unused)) int fake_is_connected(const struct xport *x)
{
	struct fake_world *w = x->impl;
	return fake_node(w, x->name)->connected;
}

static __attribute__((unused)) int fake_socket(const struct xport *x)
{
	(void)x;
	return -1;
}

static const struct xport_ops fake_ops = {
    .name = "fake",
    .connect = fake_connect,
    .disconnect = fake_disconnect,
    .exec = fake_exec,
    .is_connected = fake_is_connected,
    .socket = fake_socket,
    .release = NULL,
};

#endif
