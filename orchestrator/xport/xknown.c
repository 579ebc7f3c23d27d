/*
 * xknown.c — see xknown.h.  The index is an array of (name, key in base64)
 * sorted by name and searched by bisection; keys are kept as their base64
 * export rather than as ssh_key objects, which would cost ~1 KiB each for
 * RSA and ECDSA (30,000 keys over a 10,000-host fleet).  Comparing the
 * exports compares the public keys.
 */
#include "xknown.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KNOWN_MAX_BYTES (16 * 1024 * 1024)

struct known_entry {
	char *name; /* "host" or "[host]:port", as written */
	char *b64;  /* the public key, ssh_pki_export_pubkey_base64 */
};

struct xport_known {
	pthread_mutex_t mu;    /* guards everything below */
	char *path;	       /* the file indexed, or NULL */
	struct stat st;	       /* its stat when read */
	struct known_entry *v; /* sorted by name */
	size_t n, cap;	       /* entries, allocated */
	unsigned long loads;   /* files parsed */
	unsigned long hits;    /* checks answered */
};

struct xport_known *xport_known_new(void)
{
	struct xport_known *k = xcalloc(1, sizeof(*k));

	pthread_mutex_init(&k->mu, NULL);
	return k;
}

static void known_clear(struct xport_known *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].name);
		ssh_string_free_char(k->v[i].b64);
	}
	k->n = 0;
	free(k->path);
	k->path = NULL;
}

void xport_known_free(struct xport_known *k)
{
	if (k == NULL)
		return;
	known_clear(k);
	free(k->v);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct known_entry *)a)->name, ((const struct known_entry *)b)->name);
}

/* A name the cache can index: plain, no pattern, not hashed, not negated. */
static int plain_name(const char *name)
{
	return *name != '\0' && *name != '|' && strpbrk(name, "*?!") == NULL;
}

/* Index one name of line through libssh's parser. */
static void index_name(struct xport_known *k, const char *name, const char *line)
{
	struct ssh_knownhosts_entry *e = NULL;
	char *b64 = NULL;

	if (ssh_known_hosts_parse_line(name, line, &e) != SSH_OK || e == NULL)
		goto out;
	if (e->publickey == NULL || ssh_pki_export_pubkey_base64(e->publickey, &b64) != SSH_OK)
		goto out;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 256;
		k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
	}
	k->v[k->n].name = xstrdup(name);
	k->v[k->n].b64 = b64;
	k->n++;
	b64 = NULL;
out:
	ssh_string_free_char(b64);
	ssh_knownhosts_entry_free(e);
}

/* Index every plain name of one line (markers, comments, hashed names: skipped). */
static void index_line(struct xport_known *k, const char *line)
{
	size_t hl = strcspn(line, " \t");
	char *names, *save = NULL;

	if (*line == '#' || *line == '@' || *line == '|' || hl == 0 || line[hl] == '\0')
		return;
	names = xstrndup(line, hl);
	for (char *name = strtok_r(names, ",", &save); name != NULL;
	     name = strtok_r(NULL, ",", &save))
		if (plain_name(name))
			index_name(k, name, line);
	free(names);
}

/* (Re)read path into the index; 0, or -1 (index empty) when it cannot be read. */
static int known_load(struct xport_known *k, const char *path, const struct stat *st)
{
	char *data = NULL;
	size_t len = 0;

	known_clear(k);
	if (read_file(path, KNOWN_MAX_BYTES, &data, &len) < 0)
		return -1;
	for (char *line = data, *nl; line != NULL && *line != '\0'; line = nl ? nl + 1 : NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		index_line(k, line);
	}
	free(data);
	qsort(k->v, k->n, sizeof(*k->v), entry_cmp);
	k->path = xstrdup(path);
	k->st = *st;
	k->loads++;
	return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Is (hp, b64) in the index?  The first entry named hp, then its equals. */
static int known_lookup(const struct xport_known *k, const char *hp, const char *b64)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(k->v[mid].name, hp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < k->n && strcmp(k->v[i].name, hp) == 0; i++)
		if (strcmp(k->v[i].b64, b64) == 0)
			return 1;
	return 0;
}

int xport_known_has(struct xport_known *k, const char *path, const char *hp, ssh_key key)
{
	struct stat st;
	char *b64 = NULL;
	int found = 0;

	if (k == NULL || path == NULL || key == NULL || stat(path, &st) < 0 ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return 0;
	pthread_mutex_lock(&k->mu);
	if ((k->path != NULL && strcmp(k->path, path) == 0 && same_file(&k->st, &st)) ||
	    known_load(k, path, &st) == 0)
		found = known_lookup(k, hp, b64);
	if (found)
		k->hits++;
	pthread_mutex_unlock(&k->mu);
	ssh_string_free_char(b64);
	return found;
}

struct xport_known_stats xport_known_stats(struct xport_known *k)
{
	pthread_mutex_lock(&k->mu);
	struct xport_known_stats st = {.loads = k->loads, .hits = k->hits};
	pthread_mutex_unlock(&k->mu);
	return st;
}
