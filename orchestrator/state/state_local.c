/*
 * state_local.c — the local-directory backend of state.h: the journal and
 * lock files of journal.h and lock.h under DIR/<cluster>/, unchanged.  A
 * finished journal is archived by renaming it journal-<run id>.jsonl.
 */
#include "lock.h"
#include "state_int.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_NAME "journal.jsonl"

static char *cluster_path(const struct state *st, const char *cluster, const char *file)
{
	return xasprintf("%s/%s/%s", st->dir, cluster, file);
}

static void local_free(struct state *st)
{
	(void)st;
}

static struct state_lock *local_lock_try(struct state *st, const char *cluster, const char *command,
					 char *err, size_t errlen, int *other)
{
	char *path = cluster_path(st, cluster, "lock");
	struct lock *lk = lock_acquire(path, command, err, errlen, other);

	free(path);
	return lk ? state__lock_new(st, cluster, lk) : NULL;
}

static int local_lock_set_run(struct state_lock *l, const char *run_id)
{
	(void)l;
	(void)run_id;
	return 0;
}

static int local_lock_ok(struct state_lock *l, char *why, size_t whylen)
{
	(void)l;
	(void)why;
	(void)whylen;
	return 1; /* a flock lives as long as this process */
}

static void local_lock_release(struct state_lock *l)
{
	lock_release(l->impl);
}

static int local_lock_holder(struct state *st, const char *cluster, struct state_holder *h,
			     char *err, size_t errlen)
{
	char *path = cluster_path(st, cluster, "lock");
	struct lock_holder lh;
	int held = lock_read_holder(path, &lh, err, errlen);

	free(path);
	h->pid = lh.pid;
	h->host = lh.host;
	h->started = lh.started;
	h->command = lh.command;
	return held;
}

static enum journal_status local_journal_open(struct state_lock *l, struct journal **jp, char *msg,
					      size_t msglen)
{
	char *path = cluster_path(l->st, l->cluster, JOURNAL_NAME);
	enum journal_status js = journal_open(path, jp, msg, msglen);

	free(path);
	return js;
}

static enum journal_status local_journal_load(struct state *st, const char *cluster,
					      struct journal **jp, char *msg, size_t msglen)
{
	char *path = cluster_path(st, cluster, JOURNAL_NAME);
	enum journal_status js = journal_load(path, jp, msg, msglen);

	free(path);
	return js;
}

static int local_journal_archive(struct state_lock *l, const char *run_id, char *err, size_t errlen)
{
	char *path = cluster_path(l->st, l->cluster, JOURNAL_NAME);
	char *name = xasprintf("journal-%s.jsonl", run_id);
	char *dst = cluster_path(l->st, l->cluster, name);
	int rc = rename(path, dst);

	if (rc < 0 || fsync_dir_of(path) < 0) {
		snprintf(err, errlen, "cannot archive the finished journal %s: %s", path,
			 strerror(errno));
		rc = -1;
	}
	free(path);
	free(name);
	free(dst);
	return rc;
}

/* Archived journals of cluster, sorted (run ids start with their time). */
static int local_glob(const struct state *st, const char *cluster, glob_t *g)
{
	char *pat = cluster_path(st, cluster, "journal-*.jsonl");
	int n = glob(pat, 0, NULL, g) == 0 ? (int)g->gl_pathc : 0;

	free(pat);
	return n;
}

static int local_journal_archives(struct state *st, const char *cluster)
{
	glob_t g;
	int n = local_glob(st, cluster, &g);

	if (n)
		globfree(&g);
	return n;
}

static int add_file(struct state_file **files, int *n, const char *path, char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	const char *slash = strrchr(path, '/');

	if (read_file(path, (size_t)JOURNAL_MAX_BYTES, &data, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "read %s: %s", path, strerror(errno));
		return -1;
	}
	*files = xreallocarray(*files, (size_t)*n + 1, sizeof(**files));
	(*files)[*n] = (struct state_file){xstrdup(slash ? slash + 1 : path), data, len};
	(*n)++;
	return 0;
}

static int local_journal_files(struct state *st, const char *cluster, struct state_file **files,
			       int *n, char *err, size_t errlen)
{
	glob_t g;
	int k = local_glob(st, cluster, &g), rc = 0;
	char *cur = cluster_path(st, cluster, JOURNAL_NAME);

	for (int i = 0; i < k && rc == 0; i++)
		rc = add_file(files, n, g.gl_pathv[i], err, errlen);
	if (k)
		globfree(&g);
	if (rc == 0)
		rc = add_file(files, n, cur, err, errlen);
	free(cur);
	return rc;
}

/* journal.jsonl or journal-<id>.jsonl with a plain id: nothing that leaves the directory. */
static int file_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (strcmp(name, JOURNAL_NAME) == 0)
		return 1;
	return n > 14 && n < 200 && str_startswith(name, "journal-") &&
	       strcmp(name + n - 6, ".jsonl") == 0 && strchr(name, '/') == NULL &&
	       strstr(name, "..") == NULL;
}

static int local_journal_put_files(struct state_lock *l, const struct state_file *files, int n,
				   char *err, size_t errlen)
{
	char *dir = xasprintf("%s/%s", l->st->dir, l->cluster);
	int rc = -1;

	char *cur = cluster_path(l->st, l->cluster, JOURNAL_NAME);
	int exists = access(cur, F_OK) == 0 || local_journal_archives(l->st, l->cluster) > 0;

	free(cur);
	if (exists) {
		snprintf(err, errlen, "cluster %s already has a journal in %s", l->cluster, dir);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (!file_name_ok(files[i].name)) {
			snprintf(err, errlen, "refusing journal name '%s'", files[i].name);
			goto out;
		}
		char *path = cluster_path(l->st, l->cluster, files[i].name);
		int w = write_file_atomic(path, files[i].data, files[i].len, 0600);
		if (w < 0)
			snprintf(err, errlen, "write %s: %s", path, strerror(errno));
		free(path);
		if (w < 0)
			goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

static const struct state_ops local_ops = {
    .free = local_free,
    .lock_try = local_lock_try,
    .lock_set_run = local_lock_set_run,
    .lock_ok = local_lock_ok,
    .lock_release = local_lock_release,
    .lock_holder = local_lock_holder,
    .journal_open = local_journal_open,
    .journal_load = local_journal_load,
    .journal_archive = local_journal_archive,
    .journal_archives = local_journal_archives,
    .journal_files = local_journal_files,
    .journal_put_files = local_journal_put_files,
};

int state__local_open(struct state *st, const struct state_config *c, char *err, size_t errlen)
{
	(void)c;
	(void)err;
	(void)errlen;
	st->ops = &local_ops;
	st->name = xasprintf("state directory %s", st->dir);
	st->shared = 0;
	return 0;
}
