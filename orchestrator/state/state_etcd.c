/*
 * state_etcd.c — the etcd backend of state.h (docs/state.md has the
 * protocol for users).  Keys, under PREFIX/clusters/<cluster>/:
 *
 *	lock                   holder JSON; attached to this process's lease
 *	gen                    the current journal generation ("1" when absent)
 *	journal/GGGGGGGG/SSSSSSSSSSSS   one journal line (seq S of generation G)
 *
 * Archiving a finished journal starts generation G+1; earlier generations
 * stay as the archives.  Each write is a txn whose compares make it
 * conditional on the lock key still being the one we created (its
 * create_revision), so a process whose lease expired can never write
 * again, whatever its clock says; a journal append also requires its key to
 * be new and the previous record unchanged (mod_revision), so two writers
 * can never interleave.
 *
 * One lease per process, granted with the first lock and kept alive by a
 * thread every TTL/3.  The lease counts as lost as soon as it has not been
 * renewed for a TTL (measured from when the last successful renewal was
 * sent, which is no later than etcd's own clock started), or when etcd says
 * it expired; a lost lease is never renewed or replaced: the process stops
 * its runs and the next holder settles them.
 */
#include "diag.h"
#include "etcd.h"
#include "etcd_json.h"
#include "state_int.h"
#include "state_url.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TTL 10
#define LOST_MARGIN 250	 /* ms: a lease this close to its end counts as lost */
#define PAGE	    1000 /* keys per range request */
#define TXN_PUTS    100	 /* puts per import txn (etcd's default limit is 128 ops) */
#define READ_BUDGET 5000 /* ms for reads */

struct est {
	struct etcd *e;
	char *prefix; /* key prefix, no trailing '/' */
	int ttl_s;
	char host[256];
	char user[64];
	pthread_mutex_t mu; /* guards the lease fields */
	pthread_cond_t cv;
	int64_t lease;	     /* 0: none yet */
	int64_t valid_until; /* mono ms */
	int lost;	     /* the lease is gone for good */
	char lost_why[512];
	int ka_started, ka_stop;
	pthread_t ka;
};

struct elock {
	char *key;	    /* PREFIX/clusters/C/lock */
	int64_t create_rev; /* of the lock key we created */
	int64_t lease;	    /* it is attached to */
	char *holder;	    /* current holder JSON */
	int lost;	    /* a write found the key gone or replaced */
	int64_t gen;	    /* journal generation open for append */
	int64_t prev_rev;   /* mod_revision of the last record (0: none) */
};

static struct est *E(const struct state *st)
{
	return st->impl;
}

static char *ckey(const struct state *st, const char *cluster, const char *rest)
{
	return xasprintf("%s/clusters/%s/%s", E(st)->prefix, cluster, rest);
}

static char *rec_prefix(const struct state *st, const char *cluster, int64_t gen)
{
	return xasprintf("%s/clusters/%s/journal/%08lld/", E(st)->prefix, cluster, (long long)gen);
}

static int call(struct state *st, const char *path, json_t *req, int64_t budget, json_t **resp,
		char *err, size_t errlen)
{
	int rc = etcd_call(E(st)->e, path, req, budget, resp, err, errlen);

	json_decref(req);
	return rc;
}

/* ---- lease ---- */

static void mark_lost(struct est *s, const char *why)
{
	if (!s->lost)
		snprintf(s->lost_why, sizeof(s->lost_why), "%s", why);
	s->lost = 1;
}

/* Milliseconds the lease has left before it counts as lost (0: lost). */
static int64_t lease_left(struct est *s)
{
	pthread_mutex_lock(&s->mu);
	int64_t left = s->lost ? 0 : s->valid_until - LOST_MARGIN - now_mono_ms();
	pthread_mutex_unlock(&s->mu);
	return left > 0 ? left : 0;
}

/* One renewal.  Updates valid_until or marks the lease lost. */
static void keepalive_once(struct state *st)
{
	struct est *s = E(st);
	int64_t sent = now_mono_ms();
	json_t *resp = NULL;
	char err[256];
	int64_t budget = s->ttl_s * 1000 / 3;
	json_t *req = json_pack("{s:o}", "ID", etcd_json_int64(s->lease));
	int rc = call(st, "/v3/lease/keepalive", req, budget < 1000 ? budget : 1000, &resp, err,
		      sizeof(err));

	pthread_mutex_lock(&s->mu);
	if (rc == ETCD_OK) {
		int64_t ttl = etcd_json_int0(json_object_get(resp, "result"), "TTL");
		if (ttl <= 0)
			mark_lost(s, "etcd says the lease expired");
		else if (!s->lost)
			s->valid_until = sent + ttl * 1000;
	}
	if (!s->lost && now_mono_ms() + LOST_MARGIN >= s->valid_until) {
		char why[sizeof(err) + 96];
		snprintf(why, sizeof(why),
			 "the lease was not renewed within its %d s TTL (etcd unreachable: %s)",
			 s->ttl_s, rc == ETCD_OK ? "late answer" : err);
		mark_lost(s, why);
	}
	pthread_mutex_unlock(&s->mu);
	json_decref(resp);
}

static void *keepalive_main(void *arg)
{
	struct state *st = arg;
	struct est *s = E(st);
	int64_t every = s->ttl_s * 1000 / 3;

	pthread_mutex_lock(&s->mu);
	while (!s->ka_stop && !s->lost) {
		/* After a failure, try again soon: the lease is running out. */
		int64_t wait = now_mono_ms() + every >= s->valid_until ? 200 : every;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		if (s->ka_stop)
			break;
		pthread_mutex_unlock(&s->mu);
		keepalive_once(st);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The process's lease, granted on first use.  0, or -1 with err. */
static int lease_get(struct state *st, int64_t *lease, char *err, size_t errlen)
{
	struct est *s = E(st);
	json_t *resp = NULL;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->lost) {
		snprintf(err, errlen, "this process lost its etcd lease earlier (%s)", s->lost_why);
		rc = -1;
	} else if (s->lease == 0) {
		int64_t sent = now_mono_ms();
		json_t *req = json_pack("{s:o}", "TTL", etcd_json_int64(s->ttl_s));
		if (call(st, "/v3/lease/grant", req, READ_BUDGET, &resp, err, errlen) != ETCD_OK ||
		    etcd_json_int0(resp, "ID") == 0) {
			rc = -1;
		} else {
			s->lease = etcd_json_int0(resp, "ID");
			s->valid_until = sent + etcd_json_int0(resp, "TTL") * 1000;
			if (pthread_create(&s->ka, NULL, keepalive_main, st) == 0)
				s->ka_started = 1;
		}
	}
	*lease = s->lease;
	pthread_mutex_unlock(&s->mu);
	json_decref(resp);
	return rc;
}

/* ---- holder records ---- */

static char *holder_json(struct state *st, const char *command, const char *run_id, int64_t lease)
{
	struct est *s = E(st);
	char ts[32];
	json_t *o;
	char *text;

	format_iso8601(now_wall_ms(), ts, sizeof(ts));
	ts[19] = 'Z';
	ts[20] = '\0';
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:o}", "pid", (json_int_t)getpid(), "host",
		      s->host, "user", s->user, "started", ts, "command",
		      command ? command : "ccrup", "ttl", s->ttl_s, "lease",
		      etcd_json_int64(lease));
	if (run_id != NULL)
		json_object_set_new(o, "run_id", json_string(run_id));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

static char *dup_member(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? xstrdup(v) : NULL;
}

static void holder_parse(const char *text, size_t len, struct state_holder *h)
{
	json_t *o = json_loadb(text, len, 0, NULL);

	h->pid = (long)json_integer_value(json_object_get(o, "pid"));
	h->host = dup_member(o, "host");
	h->user = dup_member(o, "user");
	h->started = dup_member(o, "started");
	h->command = dup_member(o, "command");
	h->run_id = dup_member(o, "run_id");
	h->ttl_s = (int)json_integer_value(json_object_get(o, "ttl"));
	json_decref(o);
}

static void describe_holder(const char *cluster, const struct state_holder *h, char *err,
			    size_t errlen)
{
	snprintf(err, errlen,
		 "cluster %s is locked by pid %ld on host %s (user %s, since %s, %s%s%s); "
		 "the lock frees %d s after that process stops (etcd lease)",
		 cluster, h->pid, h->host ? h->host : "?", h->user ? h->user : "?",
		 h->started ? h->started : "?", h->command ? h->command : "?",
		 h->run_id ? ", run " : "", h->run_id ? h->run_id : "", h->ttl_s);
}

/* ---- lock ---- */

static json_t *txn(json_t *cmp, json_t *success, json_t *failure)
{
	json_t *o = json_pack("{s:o, s:o}", "compare", cmp, "success", success);
	if (failure != NULL)
		json_object_set_new(o, "failure", failure);
	return o;
}

static json_t *op_put(const char *key, const void *v, size_t len, int64_t lease)
{
	return json_pack("{s:o}", "request_put", etcd_req_put(key, v, len, lease));
}

static json_t *op_range(const char *key)
{
	return json_pack("{s:o}", "request_range", etcd_req_key(key, NULL));
}

static json_t *op_delete(const char *key)
{
	return json_pack("{s:o}", "request_delete_range", etcd_req_key(key, NULL));
}

/* The kvs of the i-th response of a txn answer (range responses). */
static int txn_kvs(json_t *resp, size_t i, struct etcd_kv **kvs, size_t *n)
{
	json_t *r = json_object_get(json_array_get(json_object_get(resp, "responses"), i),
				    "response_range");
	return etcd_parse_kvs(r, kvs, n, NULL);
}

static struct state_lock *etcd_lock_try(struct state *st, const char *cluster, const char *command,
					char *err, size_t errlen, int *other)
{
	char *key = ckey(st, cluster, "lock");
	char *val = NULL;
	json_t *resp = NULL;
	struct state_lock *l = NULL;
	int64_t lease;

	*other = 0;
	if (lease_get(st, &lease, err, errlen) < 0)
		goto out;
	val = holder_json(st, command, NULL, lease);
	json_t *req = txn(json_pack("[o]", etcd_cmp_create(key, 0)),
			  json_pack("[o]", op_put(key, val, strlen(val), lease)),
			  json_pack("[o]", op_range(key)));
	if (call(st, "/v3/kv/txn", req, READ_BUDGET, &resp, err, errlen) != ETCD_OK)
		goto out;
	if (etcd_json_bool(resp, "succeeded")) {
		struct elock *el = xcalloc(1, sizeof(*el));
		el->key = key;
		key = NULL;
		el->create_rev = etcd_json_int0(json_object_get(resp, "header"), "revision");
		el->lease = lease;
		el->holder = val;
		val = NULL;
		l = state__lock_new(st, cluster, el);
		goto out;
	}
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	struct state_holder h;
	memset(&h, 0, sizeof(h));
	if (txn_kvs(resp, 0, &kvs, &n) == 0 && n == 1)
		holder_parse(kvs[0].value, kvs[0].value_len, &h);
	describe_holder(cluster, &h, err, errlen);
	state_holder_release(&h);
	etcd_kvs_free(kvs, n);
	*other = 1;
out:
	json_decref(resp);
	free(key);
	free(val);
	return l;
}

/*
 * A txn guarded by our lock key.  1 done, 0 a compare failed (the failure
 * branch reads the lock key, then also_read if not NULL), -1 no endpoint
 * answered within budget, -2 etcd refused or garbled the request (err).
 */
static int guarded_read(struct state_lock *l, json_t *more_cmp, json_t *ops, const char *also_read,
			json_t **respp, int64_t budget, char *err, size_t errlen)
{
	struct elock *el = l->impl;
	json_t *cmp = json_pack("[o]", etcd_cmp_create(el->key, el->create_rev));
	json_t *fail = json_pack("[o]", op_range(el->key));
	json_t *resp = NULL;
	int rc;

	if (more_cmp != NULL)
		json_array_extend(cmp, more_cmp);
	json_decref(more_cmp);
	if (also_read != NULL)
		json_array_append_new(fail, op_range(also_read));
	json_t *req = txn(cmp, ops, fail);
	int c = call(l->st, "/v3/kv/txn", req, budget, &resp, err, errlen);
	if (c != ETCD_OK)
		return c == ETCD_UNAVAIL ? -1 : -2;
	rc = etcd_json_bool(resp, "succeeded");
	if (respp != NULL)
		*respp = resp;
	else
		json_decref(resp);
	return rc;
}

static int guarded(struct state_lock *l, json_t *more_cmp, json_t *ops, json_t **respp,
		   int64_t budget, char *err, size_t errlen)
{
	return guarded_read(l, more_cmp, ops, NULL, respp, budget, err, errlen);
}

/*
 * After a failed append txn: is the record there already, with our bytes?
 * (An earlier attempt was applied but its answer lost, e.g. the member died.)
 */
static int already_written(json_t *resp, const char *line, size_t len, int64_t *rev)
{
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	int yes = 0;

	if (txn_kvs(resp, 1, &kvs, &n) == 0 && n == 1 && kvs[0].value_len == len &&
	    memcmp(kvs[0].value, line, len) == 0) {
		*rev = kvs[0].mod_revision;
		yes = 1;
	}
	etcd_kvs_free(kvs, n);
	return yes;
}

static int etcd_lock_set_run(struct state_lock *l, const char *run_id)
{
	struct elock *el = l->impl;
	char err[256];
	char *val = NULL;
	json_t *o = json_loads(el->holder, 0, NULL);

	json_object_set_new(o, "run_id", json_string(run_id));
	val = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	int rc = guarded(l, NULL, json_pack("[o]", op_put(el->key, val, strlen(val), el->lease)),
			 NULL, READ_BUDGET, err, sizeof(err));
	if (rc == 1) {
		free(el->holder);
		el->holder = val;
		return 0;
	}
	if (rc == 0)
		el->lost = 1;
	free(val);
	return -1;
}

static int etcd_lock_ok(struct state_lock *l, char *why, size_t whylen)
{
	struct est *s = E(l->st);
	struct elock *el = l->impl;
	int ok;

	pthread_mutex_lock(&s->mu);
	if (!s->lost && now_mono_ms() + LOST_MARGIN >= s->valid_until)
		mark_lost(s, "the lease was not renewed within its TTL (etcd unreachable, or "
			     "this process was paused)");
	ok = !s->lost && !el->lost;
	if (!ok)
		snprintf(why, whylen,
			 "lost the lock on cluster %s: %s; stopped before the next remote action "
			 "(another ccrup may hold the cluster now: see `ccrup status`; the step "
			 "in progress is settled by `ccrup resume` as after a crash)",
			 l->cluster,
			 s->lost ? s->lost_why : "its etcd key was deleted or taken over");
	pthread_mutex_unlock(&s->mu);
	return ok;
}

static void etcd_lock_release(struct state_lock *l)
{
	struct elock *el = l->impl;
	char err[256];

	int lost;

	pthread_mutex_lock(&E(l->st)->mu);
	lost = E(l->st)->lost || el->lost;
	pthread_mutex_unlock(&E(l->st)->mu);
	if (!lost) /* a lost lock is left to expire: etcd is likely unreachable anyway */
		(void)guarded(l, NULL, json_pack("[o]", op_delete(el->key)), NULL, 2000, err,
			      sizeof(err));
	free(el->key);
	free(el->holder);
	free(el);
}

static int etcd_lock_holder(struct state *st, const char *cluster, struct state_holder *h,
			    char *err, size_t errlen)
{
	char *key = ckey(st, cluster, "lock");
	json_t *resp = NULL;
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	int rc = -1;

	if (call(st, "/v3/kv/range", etcd_req_key(key, NULL), READ_BUDGET, &resp, err, errlen) ==
	    ETCD_OK) {
		if (etcd_parse_kvs(resp, &kvs, &n, NULL) < 0) {
			snprintf(err, errlen, "%s: malformed answer", key);
		} else {
			rc = n > 0;
			if (n > 0)
				holder_parse(kvs[0].value, kvs[0].value_len, h);
		}
	}
	etcd_kvs_free(kvs, n);
	json_decref(resp);
	free(key);
	return rc;
}

/* ---- journal ---- */

/* The current generation of cluster (1 when none was recorded).  0, or -1 with err. */
static int read_gen(struct state *st, const char *cluster, int64_t *gen, char *err, size_t errlen)
{
	char *key = ckey(st, cluster, "gen");
	json_t *resp = NULL;
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	int rc = -1;

	*gen = 1;
	if (call(st, "/v3/kv/range", etcd_req_key(key, NULL), READ_BUDGET, &resp, err, errlen) ==
	    ETCD_OK) {
		if (etcd_parse_kvs(resp, &kvs, &n, NULL) == 0 &&
		    (n == 0 || parse_int64(kvs[0].value, 1, INT64_MAX / 2, gen) == 0))
			rc = 0;
		else
			snprintf(err, errlen, "%s: not a generation number", key);
	}
	etcd_kvs_free(kvs, n);
	json_decref(resp);
	free(key);
	return rc;
}

/*
 * Every record of generation gen, concatenated, in key order; *count and
 * *last_rev (mod_revision of the last) set.  0, or -1 with err.
 */
static int read_records(struct state *st, const char *cluster, int64_t gen, struct sbuf *out,
			size_t *count, int64_t *last_rev, char *err, size_t errlen)
{
	char *pfx = rec_prefix(st, cluster, gen);
	char *from = xstrdup(pfx);
	char *end = etcd_prefix_end(pfx);
	int rc = 0, more = 1;

	*count = 0;
	*last_rev = 0;
	while (more && rc == 0) {
		json_t *req = etcd_req_key(from, end), *resp = NULL;
		struct etcd_kv *kvs = NULL;
		size_t n = 0;
		json_object_set_new(req, "limit", etcd_json_int64(PAGE));
		if (call(st, "/v3/kv/range", req, READ_BUDGET, &resp, err, errlen) != ETCD_OK ||
		    etcd_parse_kvs(resp, &kvs, &n, &more) < 0) {
			if (resp != NULL)
				snprintf(err, errlen, "%s: malformed range answer", pfx);
			rc = -1;
		}
		for (size_t i = 0; rc == 0 && i < n; i++) {
			if (out->len + kvs[i].value_len > (size_t)JOURNAL_MAX_BYTES) {
				snprintf(err, errlen, "%s: journal larger than the limit", pfx);
				rc = -1;
				break;
			}
			sbuf_add(out, kvs[i].value, kvs[i].value_len);
			*last_rev = kvs[i].mod_revision;
			(*count)++;
		}
		if (rc == 0 && n > 0) {
			size_t fl = strlen(kvs[n - 1].key);
			free(from);
			from = xmalloc(fl + 2);
			memcpy(from, kvs[n - 1].key, fl);
			from[fl] = '\x01'; /* keys have no control bytes: next possible key */
			from[fl + 1] = '\0';
		}
		more = more && n > 0;
		etcd_kvs_free(kvs, n);
		json_decref(resp);
	}
	free(pfx);
	free(from);
	free(end);
	return rc;
}

static char *journal_name(struct state *st, const char *cluster)
{
	return xasprintf("etcd:%s/clusters/%s/journal", E(st)->prefix, cluster);
}

static int store_append(void *arg, long long seq, const char *line, size_t len, char *why,
			size_t whylen);

static const struct journal_store etcd_store = {store_append};

static int store_append(void *arg, long long seq, const char *line, size_t len, char *why,
			size_t whylen)
{
	struct state_lock *l = arg;
	struct elock *el = l->impl;
	char *pfx = rec_prefix(l->st, l->cluster, el->gen);
	char *key = xasprintf("%s%012lld", pfx, seq);
	char *prev = seq > 1 ? xasprintf("%s%012lld", pfx, seq - 1) : NULL;
	json_t *resp = NULL;
	char err[512] = "";
	int rc = -1;
	int64_t ttl_ms = (int64_t)E(l->st)->ttl_s * 1000, budget = ttl_ms;
	int64_t give_up = now_mono_ms() + 4 * ttl_ms;
	int g;

	/* etcd without a leader or quorum answers nothing: try again for as long as
	 * the lease lives (an election takes a second or two), so that an append
	 * fails only with the lock itself (exit 6) or for a reason retrying cannot
	 * cure.  A retry after an attempt that was applied but whose answer was lost
	 * finds the record there (already_written). */
	for (;;) {
		json_t *cmp = json_pack("[o]", etcd_cmp_create(key, 0));
		if (prev != NULL)
			json_array_append_new(cmp, etcd_cmp_mod(prev, el->prev_rev));
		g = guarded_read(l, cmp, json_pack("[o]", op_put(key, line, len, 0)), key, &resp,
				 budget, err, sizeof(err));
		if (g != -1)
			break;
		budget = lease_left(E(l->st));
		if (budget <= 0 || now_mono_ms() >= give_up)
			break;
	}
	int64_t rev = 0;
	if (g == 1) {
		el->prev_rev = etcd_json_int0(json_object_get(resp, "header"), "revision");
		rc = 0;
	} else if (g == 0 && already_written(resp, line, len, &rev)) {
		el->prev_rev = rev;
		rc = 0;
	} else if (g < 0) {
		snprintf(why, whylen, "etcd: %s", err);
	} else {
		struct etcd_kv *kvs = NULL;
		size_t n = 0;
		if (txn_kvs(resp, 0, &kvs, &n) == 0 &&
		    (n == 0 || kvs[0].create_revision != el->create_rev)) {
			el->lost = 1;
			snprintf(
			    why, whylen,
			    "lost the lock on cluster %s (its etcd lease expired): record %lld "
			    "not written",
			    l->cluster, seq);
		} else {
			snprintf(why, whylen,
				 "record %lld not written: the journal in etcd changed under this "
				 "run (another writer)",
				 seq);
		}
		etcd_kvs_free(kvs, n);
	}
	json_decref(resp);
	free(pfx);
	free(key);
	free(prev);
	return rc;
}

static enum journal_status load_gen(struct state *st, const char *cluster, int64_t *gen,
				    struct sbuf *data, size_t *count, int64_t *last, char *msg,
				    size_t msglen)
{
	if (read_gen(st, cluster, gen, msg, msglen) < 0 ||
	    read_records(st, cluster, *gen, data, count, last, msg, msglen) < 0)
		return JOURNAL_IO;
	return JOURNAL_OK;
}

static enum journal_status etcd_journal_open(struct state_lock *l, struct journal **jp, char *msg,
					     size_t msglen)
{
	struct elock *el = l->impl;
	struct sbuf data;
	size_t count = 0;
	char *name = journal_name(l->st, l->cluster);
	enum journal_status js;

	*jp = NULL;
	sbuf_init(&data);
	js = load_gen(l->st, l->cluster, &el->gen, &data, &count, &el->prev_rev, msg, msglen);
	if (js == JOURNAL_OK)
		js = journal_open_store(name, data.buf, data.len, &etcd_store, l, jp, msg, msglen);
	sbuf_release(&data);
	free(name);
	return js;
}

static enum journal_status etcd_journal_load(struct state *st, const char *cluster,
					     struct journal **jp, char *msg, size_t msglen)
{
	struct sbuf data;
	size_t count = 0;
	int64_t gen = 1, last = 0;
	char *name = journal_name(st, cluster);
	enum journal_status js;

	*jp = NULL;
	sbuf_init(&data);
	js = load_gen(st, cluster, &gen, &data, &count, &last, msg, msglen);
	if (js == JOURNAL_OK && count == 0) {
		snprintf(msg, msglen, "%s: no journal", name);
		js = JOURNAL_MISSING;
	} else if (js == JOURNAL_OK) {
		js = journal_open_store(name, data.buf, data.len, NULL, NULL, jp, msg, msglen);
	}
	sbuf_release(&data);
	free(name);
	return js;
}

static int etcd_journal_archive(struct state_lock *l, const char *run_id, char *err, size_t errlen)
{
	struct elock *el = l->impl;
	char *key = ckey(l->st, l->cluster, "gen");
	char val[32];
	int64_t gen;
	int rc = -1;

	(void)run_id; /* the archive is found by its generation; its run id is in its records */
	if (read_gen(l->st, l->cluster, &gen, err, errlen) == 0) {
		snprintf(val, sizeof(val), "%lld", (long long)(gen + 1));
		int g = guarded(l, NULL, json_pack("[o]", op_put(key, val, strlen(val), 0)), NULL,
				READ_BUDGET, err, errlen);
		if (g == 0) {
			el->lost = 1;
			snprintf(err, errlen, "lost the lock on cluster %s while archiving",
				 l->cluster);
		}
		rc = g == 1 ? 0 : -1;
	}
	free(key);
	return rc;
}

static int etcd_journal_archives(struct state *st, const char *cluster)
{
	char err[256];
	int64_t gen;

	return read_gen(st, cluster, &gen, err, sizeof(err)) == 0 ? (int)(gen - 1) : 0;
}

/* "journal-<run id of the first record>.jsonl" */
static char *archive_name(const struct sbuf *data)
{
	const char *nl = memchr(data->buf, '\n', data->len);
	json_t *o = json_loadb(data->buf, nl ? (size_t)(nl - data->buf) : data->len, 0, NULL);
	const char *id = json_string_value(json_object_get(o, "run_id"));
	char *name = xasprintf("journal-%s.jsonl",
			       id && strchr(id, '/') == NULL && strlen(id) < 100 ? id : "old");
	json_decref(o);
	return name;
}

static int etcd_journal_files(struct state *st, const char *cluster, struct state_file **files,
			      int *n, char *err, size_t errlen)
{
	int64_t gen, last;
	size_t count;

	if (read_gen(st, cluster, &gen, err, errlen) < 0)
		return -1;
	for (int64_t g = 1; g <= gen; g++) {
		struct sbuf data;
		sbuf_init(&data);
		if (read_records(st, cluster, g, &data, &count, &last, err, errlen) < 0) {
			sbuf_release(&data);
			return -1;
		}
		if (count == 0) {
			sbuf_release(&data);
			continue;
		}
		*files = xreallocarray(*files, (size_t)*n + 1, sizeof(**files));
		char *name = g == gen ? xstrdup("journal.jsonl") : archive_name(&data);
		size_t len = data.len;
		(*files)[*n] = (struct state_file){name, sbuf_detach(&data), len};
		(*n)++;
	}
	return 0;
}

/* Store one file's lines as generation gen, TXN_PUTS records per txn. */
static int put_lines(struct state_lock *l, int64_t gen, const struct state_file *f, char *err,
		     size_t errlen)
{
	char *pfx = rec_prefix(l->st, l->cluster, gen);
	size_t off = 0;
	long long seq = 0;
	int rc = 0;

	if (f->len > 0 && f->data[f->len - 1] != '\n') {
		snprintf(err, errlen, "%s: last line has no newline (torn record): not imported",
			 f->name);
		rc = -1;
	}
	while (rc == 0 && off < f->len) {
		json_t *ops = json_array();
		for (int k = 0; k < TXN_PUTS && off < f->len; k++) {
			const char *nl = memchr(f->data + off, '\n', f->len - off);
			size_t len = (size_t)(nl - (f->data + off)) + 1;
			char *key = xasprintf("%s%012lld", pfx, ++seq);
			json_array_append_new(ops, op_put(key, f->data + off, len, 0));
			free(key);
			off += len;
		}
		int g = guarded(l, NULL, ops, NULL, READ_BUDGET, err, errlen);
		if (g == 0)
			snprintf(err, errlen, "lost the lock on cluster %s", l->cluster);
		rc = g == 1 ? 0 : -1;
	}
	free(pfx);
	return rc;
}

static int etcd_journal_put_files(struct state_lock *l, const struct state_file *files, int n,
				  char *err, size_t errlen)
{
	char *gkey = ckey(l->st, l->cluster, "gen");
	char *jpfx = ckey(l->st, l->cluster, "journal/");
	json_t *resp = NULL;
	int rc = -1, has_current = n > 0 && strcmp(files[n - 1].name, "journal.jsonl") == 0;
	char val[32];

	json_t *req = etcd_req_prefix(jpfx);
	json_object_set_new(req, "count_only", json_true());
	if (call(l->st, "/v3/kv/range", req, READ_BUDGET, &resp, err, errlen) != ETCD_OK)
		goto out;
	if (etcd_json_int0(resp, "count") > 0) {
		snprintf(err, errlen, "cluster %s already has a journal in etcd", l->cluster);
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (put_lines(l, i + 1, &files[i], err, errlen) < 0)
			goto out;
	snprintf(val, sizeof(val), "%d", has_current ? n : n + 1);
	int g = guarded(l, NULL, json_pack("[o]", op_put(gkey, val, strlen(val), 0)), NULL,
			READ_BUDGET, err, errlen);
	rc = g == 1 ? 0 : -1;
out:
	json_decref(resp);
	free(gkey);
	free(jpfx);
	return rc;
}

/* ---- opening ---- */

static void etcd_free_impl(struct state *st)
{
	struct est *s = E(st);
	json_t *resp = NULL;
	char err[256];

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->ka_stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->ka_started)
		pthread_join(s->ka, NULL);
	if (s->lease != 0 && !s->lost &&
	    call(st, "/v3/lease/revoke", json_pack("{s:o}", "ID", etcd_json_int64(s->lease)), 2000,
		 &resp, err, sizeof(err)) == ETCD_OK)
		json_decref(resp);
	etcd_free(s->e);
	free(s->prefix);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	st->impl = NULL;
}

static const struct state_ops etcd_ops = {
    .free = etcd_free_impl,
    .lock_try = etcd_lock_try,
    .lock_set_run = etcd_lock_set_run,
    .lock_ok = etcd_lock_ok,
    .lock_release = etcd_lock_release,
    .lock_holder = etcd_lock_holder,
    .journal_open = etcd_journal_open,
    .journal_load = etcd_journal_load,
    .journal_archive = etcd_journal_archive,
    .journal_archives = etcd_journal_archives,
    .journal_files = etcd_journal_files,
    .journal_put_files = etcd_journal_put_files,
};

/* The password from its file (first line) or environment variable.  0 or -1 with err. */
static int read_password(const struct state_config *c, char **pw, char *err, size_t errlen)
{
	struct stat sb;
	char *data = NULL;
	size_t len = 0;

	*pw = NULL;
	if (c->password_env != NULL) {
		const char *v = getenv(c->password_env);
		if (v == NULL) {
			snprintf(err, errlen, "etcd password: environment variable %s is not set",
				 c->password_env);
			return -1;
		}
		*pw = xstrdup(v);
		return 0;
	}
	if (c->password_file == NULL)
		return 0;
	if (stat(c->password_file, &sb) == 0 && (sb.st_mode & 0077)) {
		snprintf(err, errlen,
			 "etcd password file %s is readable by group or others (mode %03o); "
			 "chmod 600 it",
			 c->password_file, (unsigned)(sb.st_mode & 0777));
		return -1;
	}
	if (read_file(c->password_file, 4096, &data, &len) < 0) {
		snprintf(err, errlen, "etcd password file %s: %s", c->password_file,
			 strerror(errno));
		return -1;
	}
	data[strcspn(data, "\r\n")] = '\0';
	*pw = data;
	return 0;
}

static void whoami(struct est *s)
{
	struct passwd *pw = getpwuid(geteuid());

	if (gethostname(s->host, sizeof(s->host) - 1) < 0)
		snprintf(s->host, sizeof(s->host), "unknown");
	snprintf(s->user, sizeof(s->user), "%s", pw && pw->pw_name ? pw->pw_name : "?");
}

int state__etcd_open(struct state *st, const struct state_config *c, char *err, size_t errlen)
{
	struct state_url u;
	struct est *s = NULL;
	char *pw = NULL;
	json_t *resp = NULL;
	int rc = EXIT_INPUT;

	if (state_url_parse(c->url, &u, err, errlen) < 0)
		return EXIT_INPUT;
	if (c->user != NULL && c->password_file == NULL && c->password_env == NULL) {
		snprintf(err, errlen, "etcd user %s needs password_file or password_env", c->user);
		goto out;
	}
	if (read_password(c, &pw, err, errlen) < 0)
		goto out;
	s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->prefix = xstrdup(u.prefix);
	s->ttl_s = c->lease_ttl_s > 0 ? c->lease_ttl_s : u.ttl_s > 0 ? u.ttl_s : DEFAULT_TTL;
	whoami(s);
	struct etcd_opts eo = {.endpoints = (const char *const *)u.endpoints,
			       .nendpoints = u.nendpoints,
			       .tls = u.tls || c->ca_file || c->cert_file,
			       .ca_file = c->ca_file,
			       .cert_file = c->cert_file,
			       .key_file = c->key_file,
			       .user = c->user,
			       .password = pw};
	s->e = etcd_new(&eo);
	st->impl = s;
	st->ops = &etcd_ops;
	st->shared = 1;
	char *where = etcd_describe(s->e);
	st->name = xasprintf("etcd %s prefix %s", where, s->prefix);
	free(where);
	/* Check now that etcd answers (and the credentials work): better than at the first step. */
	char *under = xasprintf("%s/", s->prefix); /* all our keys; a role may grant only these */
	json_t *req = etcd_req_prefix(under);
	free(under);
	json_object_set_new(req, "count_only", json_true());
	if (call(st, "/v3/kv/range", req, READ_BUDGET, &resp, err, errlen) != ETCD_OK) {
		char why[512];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "cannot use %s: %s", st->name, why);
		goto out;
	}
	rc = 0;
out:
	json_decref(resp);
	if (pw != NULL)
		memset(pw, 0, strlen(pw));
	free(pw);
	state_url_release(&u);
	return rc;
}
