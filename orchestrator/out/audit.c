/*
 * audit.c — see audit.h and docs/audit.md.
 *
 * Redaction happens on the raw text, before anything else: first every
 * secret value from the environment (longest first, so a secret that
 * contains another is replaced whole), then the values of password-style
 * arguments.  Only then is the text made valid UTF-8 and cut to size, so a
 * cut can never leave half a secret behind.
 *
 * Each cluster's file is opened on its first line and kept open until
 * audit_close (the cluster's run ended: a fleet holds the files of its
 * running clusters only) or audit_free.  The mutex only guards the table of
 * files; the write itself happens outside it, the file held by a use count
 * so that a close never pulls the descriptor from under a writer: a single
 * write(2) on an O_APPEND descriptor lands whole and is not interleaved
 * with another thread's line.
 */
#include "audit.h"
#include "fsafe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* ---- redaction ---- */

struct redact {
	char **vals; /* secret values, longest first */
	int n;
};

#define REDACT_MIN_LEN 4

/* Substrings of an environment variable's name that mark its value secret. */
static const char *const secret_names[] = {"PASS", "SECRET", "TOKEN", "KEY"};

/* Substrings of an argument or key name whose value is hidden. */
static const char *const arg_keywords[] = {"password", "passwd", "passphrase", "secret",
					   "token",    "apikey", "api_key",    "api-key"};

void redact_add(struct redact *r, const char *value)
{
	size_t len = strlen(value);
	int at = r->n;

	if (len < REDACT_MIN_LEN)
		return;
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->vals[i], value) == 0)
			return;
	for (int i = 0; i < r->n; i++)
		if (strlen(r->vals[i]) < len) {
			at = i;
			break;
		}
	r->vals = xreallocarray(r->vals, (size_t)r->n + 1, sizeof(*r->vals));
	memmove(&r->vals[at + 1], &r->vals[at], (size_t)(r->n - at) * sizeof(*r->vals));
	r->vals[at] = xstrdup(value);
	r->n++;
}

static int secret_name(const char *name, size_t n)
{
	char *up = xstrndup(name, n);
	int hit = 0;
	for (size_t k = 0; k < CCR_ARRAY_LEN(secret_names) && !hit; k++)
		hit = strcasestr(up, secret_names[k]) != NULL;
	free(up);
	return hit;
}

struct redact *redact_new_from_env(void)
{
	struct redact *r = xcalloc(1, sizeof(*r));
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (eq && secret_name(*e, (size_t)(eq - *e)))
			redact_add(r, eq + 1);
	}
	return r;
}

void redact_free(struct redact *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->n; i++)
		free(r->vals[i]);
	free(r->vals);
	free(r);
}

static char *replace_all(const char *s, const char *what)
{
	struct sbuf sb;
	size_t wl = strlen(what);
	const char *p;

	sbuf_init(&sb);
	while ((p = strstr(s, what)) != NULL) {
		sbuf_add(&sb, s, (size_t)(p - s));
		sbuf_adds(&sb, REDACTED);
		s = p + wl;
	}
	sbuf_adds(&sb, s);
	return sbuf_detach(&sb);
}

static int word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/*
 * Does the word w[0..n) contain a keyword, ignoring case?  Runs on every word
 * of every command and of every probe's output, so it allocates nothing and
 * looks further only where a keyword can begin (5 bytes at least; p, s, t, a).
 */
static int has_keyword(const char *w, size_t n)
{
	if (n < 5)
		return 0;
	for (size_t i = 0; i + 5 <= n; i++) {
		char c = (char)tolower((unsigned char)w[i]);
		if (c != 'p' && c != 's' && c != 't' && c != 'a')
			continue;
		for (size_t k = 0; k < CCR_ARRAY_LEN(arg_keywords); k++) {
			size_t kl = strlen(arg_keywords[k]);
			if (arg_keywords[k][0] == c && i + kl <= n &&
			    strncasecmp(w + i, arg_keywords[k], kl) == 0)
				return 1;
		}
	}
	return 0;
}

/*
 * Replace the value starting at s[i] (quoted, parenthesised or a bare word)
 * by REDACTED, keeping quotes.  Returns the index after the value.
 */
static size_t hide_value(struct sbuf *sb, const char *s, size_t i)
{
	size_t j = i;
	if (s[i] == '"' || s[i] == '\'') {
		const char *e = strchr(s + i + 1, s[i]);
		sbuf_addc(sb, s[i]);
		sbuf_adds(sb, REDACTED);
		if (e == NULL)
			return i + strcspn(s + i, "\n");
		sbuf_addc(sb, s[i]);
		return (size_t)(e - s) + 1;
	}
	if (s[i] == '(') {
		int depth = 0;
		do {
			depth += s[j] == '(' ? 1 : s[j] == ')' ? -1 : 0;
			j++;
		} while (s[j] && s[j] != '\n' && depth > 0);
	} else {
		while (s[j] && !isspace((unsigned char)s[j]) && !strchr("&;,\"'", s[j]))
			j++;
	}
	if (j > i)
		sbuf_adds(sb, REDACTED);
	return j;
}

/*
 * Where the value of the keyword word s[ws..i) starts, copying what lies
 * between into sb; 0 when the word is not followed by a value.
 * KEY=V, KEY:V: the value follows the separator.  -KEY V, --KEY V, /KEY V:
 * the next blank-separated word, unless it is another option.
 */
static size_t value_start(struct sbuf *sb, const char *s, size_t ws, size_t i)
{
	if (s[i] == '=' || s[i] == ':') {
		sbuf_addc(sb, s[i]);
		return i + 1;
	}
	if (s[ws] != '-' && (ws == 0 || s[ws - 1] != '/'))
		return 0;
	size_t j = i;
	while (s[j] == ' ' || s[j] == '\t')
		j++;
	if (j == i || s[j] == '\0' || s[j] == '\n' || s[j] == '\r' || s[j] == '-' || s[j] == '/')
		return 0;
	sbuf_add(sb, s + i, j - i);
	return j;
}

static char *redact_args(const char *s)
{
	struct sbuf sb;
	size_t i = 0;

	sbuf_init(&sb);
	while (s[i]) {
		if (!word_char(s[i])) {
			sbuf_addc(&sb, s[i++]);
			continue;
		}
		size_t ws = i;
		while (word_char(s[i]))
			i++;
		sbuf_add(&sb, s + ws, i - ws);
		if (!has_keyword(s + ws, i - ws))
			continue;
		size_t v = value_start(&sb, s, ws, i);
		if (v)
			i = hide_value(&sb, s, v);
	}
	return sbuf_detach(&sb);
}

char *redact_apply(const struct redact *r, const char *s)
{
	int secrets = 0;
	for (int i = 0; r && i < r->n && !secrets; i++)
		secrets = strstr(s, r->vals[i]) != NULL;
	/* No keyword anywhere in s: no word holds one (keywords are word characters). */
	if (!secrets && !has_keyword(s, strlen(s)))
		return xstrdup(s);
	char *cur = xstrdup(s);
	for (int i = 0; r && i < r->n; i++) {
		if (strstr(cur, r->vals[i]) == NULL)
			continue;
		char *next = replace_all(cur, r->vals[i]);
		free(cur);
		cur = next;
	}
	char *out = redact_args(cur);
	free(cur);
	return out;
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p (at most left bytes), 0 if invalid or NUL. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned cp, min;
	size_t n;

	if (p[0] < 0x80)
		return p[0] ? 1 : 0;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, min = 0x80, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, min = 0x800, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, min = 0x10000, cp = p[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *audit_utf8_copy(const char *s, size_t n)
{
	struct sbuf sb;
	size_t i = 0, run = 0;

	sbuf_init(&sb);
	/* Valid runs are copied whole; only a bad byte costs a step of its own. */
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k =
		    c >= 0x20 && c < 0x80 ? 1 : utf8_len((const unsigned char *)s + i, n - i);
		if (k == 0) {
			sbuf_add(&sb, s + run, i - run);
			sbuf_addc(&sb, '?');
			run = ++i;
		} else {
			i += k;
		}
	}
	sbuf_add(&sb, s + run, i - run);
	return sbuf_detach(&sb);
}

/* ---- the sink ---- */

struct audit_file {
	char *cluster; /* owned */
	int fd;	       /* -1 when it could not be opened */
	int users;     /* writers holding fd right now */
	int closing;   /* audit_close asked while users > 0: the last user closes */
};

struct audit {
	char *state_dir;	   /* parent of <cluster>/ */
	struct redact *rd;	   /* secrets from the environment */
	pthread_mutex_t mu;	   /* guards files, nfiles and the counters */
	struct audit_file **files; /* one per cluster open now */
	int nfiles;
	unsigned long lines;  /* lines written */
	unsigned long errors; /* opens and writes that failed */
};

struct audit *audit_new(const char *state_dir)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	a->state_dir = xstrdup(state_dir);
	a->rd = redact_new_from_env();
	pthread_mutex_init(&a->mu, NULL);
	return a;
}

static int open_file(struct audit *a, const char *cluster)
{
	char *dir = xasprintf("%s/%s", a->state_dir, cluster);
	char *path = xasprintf("%s/audit.jsonl", dir);
	char err[1024] = "";
	int fd = -1;

	if (strchr(cluster, '/') || strcmp(cluster, ".") == 0 || strcmp(cluster, "..") == 0) {
		snprintf(err, sizeof(err), "%s", strerror(EINVAL));
		goto out;
	}
	/* Nothing is created in a directory others can write to or own (the runner
	 * refuses such a state directory too): check before creating, and after. */
	if (fsafe_make_dir(a->state_dir, "state directory", err, sizeof(err)) < 0 ||
	    fsafe_make_dir(dir, "state directory", err, sizeof(err)) < 0)
		goto out;
	fd = fsafe_open(path, O_WRONLY | O_APPEND | O_CREAT, err, sizeof(err));
out:
	if (fd < 0)
		fprintf(stderr, "ccrup: warning: audit log %s not written: %s\n", path, err);
	free(dir);
	free(path);
	return fd;
}

/* fsync, close and free a file no one writes to any more. */
static void file_end(struct audit_file *f)
{
	if (f->fd >= 0) {
		(void)fsync(f->fd);
		close(f->fd);
	}
	free(f->cluster);
	free(f);
}

/* Index of cluster's file in the table, -1 if it is not open.  Under a->mu. */
static int file_index(const struct audit *a, const char *cluster)
{
	for (int i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i]->cluster, cluster) == 0)
			return i;
	return -1;
}

/*
 * Cluster's file, opened on first use (again after audit_close), held for
 * one line: give it back with file_put.  Its fd is -1 if it is unusable.
 */
static struct audit_file *file_get(struct audit *a, const char *cluster)
{
	struct audit_file *f;
	pthread_mutex_lock(&a->mu);
	int i = file_index(a, cluster);
	if (i >= 0) {
		f = a->files[i];
	} else {
		f = xcalloc(1, sizeof(*f));
		f->cluster = xstrdup(cluster);
		f->fd = open_file(a, cluster);
		a->files = xreallocarray(a->files, (size_t)a->nfiles + 1, sizeof(*a->files));
		a->files[a->nfiles++] = f;
		a->errors += f->fd < 0;
	}
	f->users++;
	pthread_mutex_unlock(&a->mu);
	return f;
}

static void file_put(struct audit *a, struct audit_file *f)
{
	pthread_mutex_lock(&a->mu);
	int last = --f->users == 0 && f->closing;
	pthread_mutex_unlock(&a->mu);
	if (last)
		file_end(f);
}

void audit_close(struct audit *a, const char *cluster)
{
	struct audit_file *f = NULL;
	if (a == NULL || cluster == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	int i = file_index(a, cluster);
	if (i >= 0) {
		f = a->files[i];
		a->files[i] = a->files[--a->nfiles];
		f->closing = 1;
		if (f->users > 0)
			f = NULL; /* its last writer ends it */
	}
	pthread_mutex_unlock(&a->mu);
	if (f)
		file_end(f);
}

static void write_line(struct audit *a, const char *cluster, json_t *o, int sync)
{
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	struct audit_file *f = file_get(a, cluster);
	int fd = f->fd;
	int ok = 0;

	if (line && fd >= 0) {
		size_t n = strlen(line);
		line[n] = '\n'; /* json_dumps leaves room: replace the NUL, write n + 1 */
		ssize_t w = write(fd, line, n + 1);
		if (w >= 0 && (size_t)w < n + 1) {
			/* Short write (size limit, disk full): the rest lands or says why
			 * (errno is not set by a short write). */
			ssize_t w2 = write(fd, line + w, n + 1 - (size_t)w);
			if (w2 == (ssize_t)(n + 1 - (size_t)w))
				w = (ssize_t)(n + 1);
			else if (w2 >= 0)
				errno = EIO;
		}
		ok = w == (ssize_t)(n + 1);
		if (ok && sync)
			(void)fdatasync(fd);
		if (!ok)
			fprintf(stderr, "ccrup: warning: audit log of %s: write: %s\n", cluster,
				strerror(errno));
	}
	file_put(a, f);
	pthread_mutex_lock(&a->mu);
	if (ok)
		a->lines++;
	else if (fd >= 0)
		a->errors++;
	pthread_mutex_unlock(&a->mu);
	free(line);
}

/* A JSON string from s after redaction and UTF-8 repair; null for NULL. */
static json_t *clean_str(const struct audit *a, const char *s)
{
	if (s == NULL)
		return json_null();
	char *r = redact_apply(a->rd, s);
	char *u = audit_utf8_copy(r, strlen(r));
	json_t *j = json_stringn_nocheck(u, strlen(u)); /* repaired above */
	free(r);
	free(u);
	return j;
}

/*
 * Command output, redacted, cut to AUDIT_MAX_OUTPUT: the first quarter and
 * the last three quarters are kept (errors are usually at the end).
 */
static void add_output(const struct audit *a, json_t *o, const char *key, const char *text)
{
	char *r = redact_apply(a->rd, text ? text : "");
	char *u = audit_utf8_copy(r, strlen(r));
	size_t len = strlen(u), head = AUDIT_MAX_OUTPUT / 4, tail = AUDIT_MAX_OUTPUT - head;
	char *tkey = xasprintf("%s_truncated", key);

	if (len > AUDIT_MAX_OUTPUT) {
		while (head > 0 && (u[head] & 0xc0) == 0x80)
			head--;
		size_t from = len - tail;
		while (from < len && (u[from] & 0xc0) == 0x80)
			from++;
		char *cut = xasprintf("%.*s\n[... %zu bytes omitted ...]\n%s", (int)head, u,
				      from - head, u + from);
		json_object_set_new(o, key, json_stringn_nocheck(cut, strlen(cut)));
		free(cut);
	} else {
		json_object_set_new(o, key, json_stringn_nocheck(u, len));
	}
	json_object_set_new(o, tkey, json_boolean(len > AUDIT_MAX_OUTPUT));
	free(tkey);
	free(r);
	free(u);
}

static const char *kept_event(enum ev_kind k)
{
	switch (k) {
	case EV_CMD_END:
		return "command";
	case EV_BATCH:
		return "batch";
	case EV_RUN_START:
		return "run-start";
	case EV_RUN_END:
		return "run-end";
	case EV_STEP_FAILED:
		return "step-failed";
	case EV_RUN_REFUSED:
		return "run-refused";
	case EV_OUTAGE_START:
		return "outage-start";
	case EV_OUTAGE_END:
		return "outage-end";
	case EV_GATE:
		return "gate";
	case EV_WARN:
		return "warning";
	default:
		return NULL;
	}
}

void audit_event(const struct event *e, void *arg)
{
	struct audit *a = arg;
	const char *name = kept_event(e->kind);
	char t[32];

	if (name == NULL || e->cluster == NULL || e->local)
		return;
	format_iso8601(e->wall_ms ? e->wall_ms : now_wall_ms(), t, sizeof(t));
	json_t *o = json_pack("{s:s, s:s, s:s}", "time", t, "cluster", e->cluster, "event", name);
	json_object_set_new(o, "node", clean_str(a, e->node));
	json_object_set_new(o, "step", clean_str(a, e->step));
	if (e->kind == EV_CMD_END) {
		json_object_set_new(o, "command", clean_str(a, e->command));
		json_object_set_new(o, "exit", json_integer(e->exit));
		json_object_set_new(o, "duration_ms", json_integer(e->duration_ms));
		add_output(a, o, "stdout", e->text);
		add_output(a, o, "stderr", e->detail);
		if (e->batch)
			json_object_set_new(o, "batch", json_string(e->batch));
	} else if (e->kind == EV_BATCH) {
		json_object_set_new(o, "command", clean_str(a, e->command));
		json_object_set_new(o, "exit", json_integer(e->exit));
		json_object_set_new(o, "duration_ms", json_integer(e->duration_ms));
		json_object_set_new(o, "batch", json_string(e->batch));
		json_object_set_new(o, "parts", json_integer(e->parts));
	} else {
		json_object_set_new(o, "text", clean_str(a, e->text));
		if (e->kind == EV_GATE)
			json_object_set_new(o, "answer", clean_str(a, e->detail));
		if (e->kind == EV_OUTAGE_END)
			json_object_set_new(o, "duration_ms", json_integer(e->duration_ms));
	}
	write_line(a, e->cluster, o, e->kind == EV_RUN_END || e->kind == EV_STEP_FAILED);
	json_decref(o);
}

void audit_warn(void *arg, const char *cluster, const char *msg)
{
	struct event e = {.kind = EV_WARN, .cluster = cluster, .text = msg, .exit = -1};
	if (arg && cluster)
		audit_event(&e, arg);
}

void audit_counts(struct audit *a, unsigned long *lines, unsigned long *errors)
{
	pthread_mutex_lock(&a->mu);
	*lines = a->lines;
	*errors = a->errors;
	pthread_mutex_unlock(&a->mu);
}

void audit_free(struct audit *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < a->nfiles; i++)
		file_end(a->files[i]);
	free(a->files);
	redact_free(a->rd);
	pthread_mutex_destroy(&a->mu);
	free(a->state_dir);
	free(a);
}
