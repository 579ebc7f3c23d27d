/*
 * state.c — see state.h: the dispatch to a backend, and what both share
 * (waiting for a lock, releasing holder records and file lists).
 */
#include "diag.h"
#include "state_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_POLL_MS 250 /* how often a waiting acquire asks again */

int state_open(const struct state_config *c, struct state **sp, char *err, size_t errlen)
{
	struct state *st = xcalloc(1, sizeof(*st));
	int rc;

	*sp = NULL;
	st->dir = xstrdup(c->dir ? c->dir : "state");
	if (c->url != NULL && *c->url != '\0')
		rc = state__etcd_open(st, c, err, errlen);
	else
		rc = state__local_open(st, c, err, errlen);
	if (rc != 0) {
		if (st->ops != NULL)
			st->ops->free(st);
		free(st->name);
		free(st->dir);
		free(st);
		return rc;
	}
	*sp = st;
	return 0;
}

void state_free(struct state *st)
{
	if (st == NULL)
		return;
	st->ops->free(st);
	free(st->name);
	free(st->dir);
	free(st);
}

int state_shared(const struct state *st)
{
	return st->shared;
}

const char *state_local_dir(const struct state *st)
{
	return st->dir;
}

const char *state_name(const struct state *st)
{
	return st->name;
}

struct state_lock *state__lock_new(struct state *st, const char *cluster, void *impl)
{
	struct state_lock *l = xcalloc(1, sizeof(*l));

	l->st = st;
	l->cluster = xstrdup(cluster);
	l->impl = impl;
	return l;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

struct state_lock *state_lock_acquire(struct state *st, const char *cluster, const char *command,
				      int64_t wait_ms, volatile sig_atomic_t *stop, char *err,
				      size_t errlen, int *held_by_other)
{
	int64_t end = now_mono_ms() + (wait_ms > 0 ? wait_ms : 0);
	int other = 0;

	for (;;) {
		struct state_lock *l = st->ops->lock_try(st, cluster, command, err, errlen, &other);
		if (l != NULL || !other || wait_ms <= 0 || now_mono_ms() >= end ||
		    (stop && *stop)) {
			if (held_by_other != NULL)
				*held_by_other = other;
			return l;
		}
		sleep_ms(WAIT_POLL_MS);
	}
}

int state_lock_set_run(struct state_lock *l, const char *run_id)
{
	return l->st->ops->lock_set_run(l, run_id);
}

int state_lock_ok(struct state_lock *l, char *why, size_t whylen)
{
	return l == NULL ? 1 : l->st->ops->lock_ok(l, why, whylen);
}

void state_lock_release(struct state_lock *l)
{
	if (l == NULL)
		return;
	l->st->ops->lock_release(l);
	free(l->cluster);
	free(l);
}

int state_lock_holder(struct state *st, const char *cluster, struct state_holder *h, char *err,
		      size_t errlen)
{
	memset(h, 0, sizeof(*h));
	return st->ops->lock_holder(st, cluster, h, err, errlen);
}

void state_holder_release(struct state_holder *h)
{
	free(h->host);
	free(h->user);
	free(h->started);
	free(h->command);
	free(h->run_id);
	memset(h, 0, sizeof(*h));
}

enum journal_status state_journal_open(struct state_lock *l, struct journal **jp, char *msg,
				       size_t msglen)
{
	return l->st->ops->journal_open(l, jp, msg, msglen);
}

enum journal_status state_journal_load(struct state *st, const char *cluster, struct journal **jp,
				       char *msg, size_t msglen)
{
	return st->ops->journal_load(st, cluster, jp, msg, msglen);
}

int state_journal_archive(struct state_lock *l, const char *run_id, char *err, size_t errlen)
{
	return l->st->ops->journal_archive(l, run_id, err, errlen);
}

int state_journal_archives(struct state *st, const char *cluster)
{
	return st->ops->journal_archives(st, cluster);
}

int state_journal_files(struct state *st, const char *cluster, struct state_file **files, int *n,
			char *err, size_t errlen)
{
	*files = NULL;
	*n = 0;
	return st->ops->journal_files(st, cluster, files, n, err, errlen);
}

int state_journal_put_files(struct state_lock *l, const struct state_file *files, int n, char *err,
			    size_t errlen)
{
	return l->st->ops->journal_put_files(l, files, n, err, errlen);
}

void state_files_free(struct state_file *files, int n)
{
	for (int i = 0; files != NULL && i < n; i++) {
		free(files[i].name);
		free(files[i].data);
	}
	free(files);
}
