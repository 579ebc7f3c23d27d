/*
 * state_int.h — the two backends behind state.h (state_local.c,
 * state_etcd.c) and the dispatch in state.c.  Not a public API.
 */
#ifndef CCR_STATE_INT_H
#define CCR_STATE_INT_H

#include "state.h"

struct state_ops {
	void (*free)(struct state *st);
	/* One attempt; NULL with err (and *other = 1 when held by another run). */
	struct state_lock *(*lock_try)(struct state *st, const char *cluster, const char *command,
				       char *err, size_t errlen, int *other);
	int (*lock_set_run)(struct state_lock *l, const char *run_id);
	int (*lock_ok)(struct state_lock *l, char *why, size_t whylen);
	void (*lock_release)(struct state_lock *l); /* frees l's impl, not l */
	int (*lock_holder)(struct state *st, const char *cluster, struct state_holder *h, char *err,
			   size_t errlen);
	enum journal_status (*journal_open)(struct state_lock *l, struct journal **jp, char *msg,
					    size_t msglen);
	enum journal_status (*journal_load)(struct state *st, const char *cluster,
					    struct journal **jp, char *msg, size_t msglen);
	int (*journal_archive)(struct state_lock *l, const char *run_id, char *err, size_t errlen);
	int (*journal_archives)(struct state *st, const char *cluster);
	int (*journal_files)(struct state *st, const char *cluster, struct state_file **files,
			     int *n, char *err, size_t errlen);
	int (*journal_put_files)(struct state_lock *l, const struct state_file *files, int n,
				 char *err, size_t errlen);
};

struct state {
	const struct state_ops *ops;
	char *name; /* for messages */
	char *dir;  /* local state directory */
	int shared; /* etcd */
	void *impl; /* the backend's own data */
};

struct state_lock {
	struct state *st;
	char *cluster;
	void *impl; /* the backend's own data */
};

/* Backends: fill st->ops, st->name, st->impl.  0 or EXIT_INPUT with err. */
int state__local_open(struct state *st, const struct state_config *c, char *err, size_t errlen);
int state__etcd_open(struct state *st, const struct state_config *c, char *err, size_t errlen);

/* A new state_lock for cluster with impl (used by both backends). */
struct state_lock *state__lock_new(struct state *st, const char *cluster, void *impl);

#endif
