/*
 * sim_ctl.c — ccrsim's control interface: a UNIX stream socket (mode 0600)
 * served by the same loop as the SSH sessions, and `ccrsim ctl`, its
 * command-line client.  One JSON request per line, one JSON reply per line,
 * every reply has "ok" (docs/ccrsim.md, Control interface):
 *
 *   {"op":"dump"}                               world + {"server": {...}}
 *   {"op":"fault-add","fault":{...}}            sim_fault_add
 *   {"op":"fault-clear","host":"NODE2"|null}    sim_fault_clear
 *   {"op":"event-add","event":{...}}            sim_event_add
 *   {"op":"event-clear"}                        sim_event_clear
 *   {"op":"set","path":"NODE2.pending_reboot","value":"1"}
 *   {"op":"pause"} / {"op":"resume"}            stop / restart the world clock
 *   {"op":"wait-idle","timeout_ms":N}           answered once no command runs and
 *                                               no world event is due within 1 s
 *
 * A client's requests are answered in order; while its wait-idle waits, its
 * later lines wait too.  Sockets are non-blocking; a long reply (a fleet's
 * dump) is written as the client reads it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim_server.h"

#define SIM_CTL_MAX_LINE     (1 << 20) /* longest request line accepted */
#define SIM_CTL_IDLE_HORIZON 1000      /* world ms without a due event that count as idle */

struct sim_ctl_client {
	struct sim_ctl_client *next; /* next client */
	int fd;			     /* accepted socket, non-blocking */
	struct sbuf in;		     /* bytes read, not yet a whole line */
	struct sbuf out;	     /* reply bytes not yet written */
	int waiting;		     /* a wait-idle request awaits its answer */
	int64_t deadline;	     /* real ms when that wait-idle gives up, 0 = never */
	int eof;		     /* the client shut down its side */
	int dead;		     /* close at the next pump */
};

struct sim_ctl {
	struct sim_server *srv;		/* owner */
	int fd;				/* listening socket */
	char *path;			/* socket path, owned; unlinked on free */
	struct sim_ctl_client *clients; /* connected clients */
	int nclients;			/* entries in clients */
};

/* ---- requests ---- */

static json_t *reply_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *reply_err(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *op_dump(struct sim_ctl *ctl, int64_t now)
{
	struct sim_server *srv = ctl->srv;
	json_t *d = sim_world_dump(srv->world, now);

	if (!json_is_object(d)) {
		json_t *w = json_object();

		json_object_set_new(w, "world", d != NULL ? d : json_null());
		d = w;
	}
	json_object_set_new(d, "server",
			    json_pack("{s:i, s:I, s:i, s:b, s:I}", "sessions", srv->nconns,
				      "sessions_total", (json_int_t)srv->conns_total, "running",
				      srv->running, "paused", srv->paused_at >= 0, "now_ms",
				      (json_int_t)now));
	json_object_set_new(d, "ok", json_true());
	return d;
}

static json_t *op_fault_clear(struct sim_ctl *ctl, const json_t *req)
{
	const json_t *host = json_object_get(req, "host");

	if (host == NULL || json_is_null(host)) {
		sim_fault_clear(ctl->srv->world, NULL);
		return reply_ok();
	}
	if (!json_is_string(host) || sim_host_find(ctl->srv->world, json_string_value(host)) < 0)
		return reply_err("fault-clear: \"host\" must name a host, or be null");
	sim_fault_clear(ctl->srv->world, json_string_value(host));
	return reply_ok();
}

/* The value of a "set" as text: strings as they are, numbers and booleans printed. */
static char *set_value_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "1" : "0");
	return NULL;
}

static json_t *op_set(struct sim_ctl *ctl, const json_t *req, int64_t now)
{
	const char *path = json_string_value(json_object_get(req, "path"));
	char *value = set_value_text(json_object_get(req, "value"));
	char err[256];
	json_t *reply;

	if (path == NULL || value == NULL)
		reply = reply_err("set: needs \"path\" (string) and \"value\"");
	else if (sim_world_set(ctl->srv->world, path, value, now, err, sizeof(err)) != 0)
		reply = reply_err(err);
	else
		reply = reply_ok();
	free(value);
	return reply;
}

static json_t *op_fault_add(struct sim_ctl *ctl, const json_t *req)
{
	const json_t *fault = json_object_get(req, "fault");
	char err[256];

	if (!json_is_object(fault))
		return reply_err("fault-add: needs \"fault\" (object)");
	if (sim_fault_add(ctl->srv->world, fault, err, sizeof(err)) != 0)
		return reply_err(err);
	return reply_ok();
}

static json_t *op_event_add(struct sim_ctl *ctl, const json_t *req)
{
	const json_t *ev = json_object_get(req, "event");
	char err[256];

	if (!json_is_object(ev))
		return reply_err("event-add: needs \"event\" (object)");
	if (sim_event_add(ctl->srv->world, ev, err, sizeof(err)) != 0)
		return reply_err(err);
	return reply_ok();
}

/* Start a wait-idle; NULL (answered later) or an error reply. */
static json_t *op_wait_idle(struct sim_ctl_client *cl, const json_t *req)
{
	const json_t *t = json_object_get(req, "timeout_ms");

	if (t != NULL && (!json_is_integer(t) || json_integer_value(t) < 0))
		return reply_err("wait-idle: \"timeout_ms\" must be a non-negative integer");
	cl->waiting = 1;
	cl->deadline = t != NULL ? now_mono_ms() + json_integer_value(t) : 0;
	return NULL;
}

/* Answer one request; NULL when the answer comes later (wait-idle). */
static json_t *ctl_handle(struct sim_ctl *ctl, struct sim_ctl_client *cl, const json_t *req)
{
	struct sim_server *srv = ctl->srv;
	const char *op = json_string_value(json_object_get(req, "op"));
	int64_t now = sim_server_now(srv);

	srv->dirty = 1; /* most requests change the world: re-check hosts now */
	if (op == NULL)
		return reply_err("request needs \"op\"");
	if (strcmp(op, "dump") == 0)
		return op_dump(ctl, now);
	if (strcmp(op, "fault-add") == 0)
		return op_fault_add(ctl, req);
	if (strcmp(op, "fault-clear") == 0)
		return op_fault_clear(ctl, req);
	if (strcmp(op, "event-add") == 0)
		return op_event_add(ctl, req);
	if (strcmp(op, "event-clear") == 0) {
		sim_event_clear(srv->world);
		return reply_ok();
	}
	if (strcmp(op, "set") == 0)
		return op_set(ctl, req, now);
	if (strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0) {
		if (op[0] == 'p')
			sim_server_pause(srv);
		else
			sim_server_resume(srv);
		return reply_ok();
	}
	if (strcmp(op, "wait-idle") == 0)
		return op_wait_idle(cl, req);
	return reply_err(
	    "unknown op (dump, fault-add, fault-clear, event-add, event-clear, set, pause, resume, "
	    "wait-idle)");
}

/* ---- clients ---- */

static void client_reply(struct sim_ctl_client *cl, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);

	if (text != NULL) {
		sbuf_adds(&cl->out, text);
		sbuf_addc(&cl->out, '\n');
		free(text);
	}
	json_decref(reply);
}

/* Answer every whole line in cl->in, unless a wait-idle holds the queue. */
static void client_lines(struct sim_ctl *ctl, struct sim_ctl_client *cl)
{
	char *nl;

	while (!cl->waiting && (nl = memchr(cl->in.buf, '\n', cl->in.len)) != NULL) {
		size_t len = (size_t)(nl - cl->in.buf);
		json_error_t jerr;
		json_t *req = json_loadb(cl->in.buf, len, 0, &jerr);
		json_t *reply;

		memmove(cl->in.buf, nl + 1, cl->in.len - len - 1);
		cl->in.len -= len + 1;
		cl->in.buf[cl->in.len] = '\0';
		if (req == NULL || !json_is_object(req))
			reply = reply_err(req == NULL ? jerr.text : "request must be an object");
		else
			reply = ctl_handle(ctl, cl, req);
		json_decref(req);
		if (reply != NULL)
			client_reply(cl, reply);
	}
	if (cl->in.len > SIM_CTL_MAX_LINE) {
		client_reply(cl, reply_err("request line too long"));
		sbuf_reset(&cl->in);
		cl->eof = 1;
	}
}

static void client_read(struct sim_ctl_client *cl)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(cl->fd, buf, sizeof(buf))) > 0)
		sbuf_add(&cl->in, buf, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		cl->eof = 1;
}

static void client_write(struct sim_ctl_client *cl)
{
	while (cl->out.len > 0) {
		ssize_t n = send(cl->fd, cl->out.buf, cl->out.len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				cl->dead = 1;
			return;
		}
		memmove(cl->out.buf, cl->out.buf + n, cl->out.len - (size_t)n);
		cl->out.len -= (size_t)n;
		cl->out.buf[cl->out.len] = '\0';
	}
}

static void ctl_accept(struct sim_ctl *ctl)
{
	int fd;

	while ((fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct sim_ctl_client *cl;

		if (ctl->nclients >= SIM_CTL_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		cl = xcalloc(1, sizeof(*cl));
		cl->fd = fd;
		sbuf_init(&cl->in);
		sbuf_init(&cl->out);
		cl->next = ctl->clients;
		ctl->clients = cl;
		ctl->nclients++;
	}
}

void sim_ctl_ready(struct sim_ctl *ctl, void *who, short revents)
{
	struct sim_ctl_client *cl = who;

	if (cl == NULL) {
		ctl_accept(ctl);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		client_read(cl);
	client_lines(ctl, cl);
	client_write(cl);
}

/* ---- the server side's lifecycle ---- */

struct sim_ctl *sim_ctl_open(struct sim_server *srv, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sim_ctl *ctl;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: control socket path too long", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path); /* a stale socket of an earlier run */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(0177); /* the socket is created 0600: no window with wider rights */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
		umask(old);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	umask(old);
	ctl = xcalloc(1, sizeof(*ctl));
	ctl->srv = srv;
	ctl->fd = fd;
	ctl->path = xstrdup(path);
	return ctl;
}

int sim_ctl_pollfds(struct sim_ctl *ctl, struct pollfd *pfd, void **who, int max)
{
	int n = 0;

	if (ctl == NULL || max < 1)
		return 0;
	pfd[n] = (struct pollfd){.fd = ctl->fd, .events = POLLIN};
	who[n++] = NULL;
	for (struct sim_ctl_client *cl = ctl->clients; cl != NULL && n < max; cl = cl->next) {
		pfd[n] = (struct pollfd){.fd = cl->fd, .events = cl->eof ? 0 : POLLIN};
		if (cl->out.len > 0)
			pfd[n].events |= POLLOUT;
		who[n++] = cl;
	}
	return n;
}

/* Answer a waiting wait-idle if the world is idle or its deadline passed. */
static void client_wait(struct sim_ctl *ctl, struct sim_ctl_client *cl, int64_t now)
{
	struct sim_server *srv = ctl->srv;
	int paused = srv->paused_at >= 0;

	if (srv->running == 0 &&
	    (paused || sim_world_next_event(srv->world) > now + SIM_CTL_IDLE_HORIZON)) {
		client_reply(cl, json_pack("{s:b, s:I}", "ok", 1, "now_ms", (json_int_t)now));
		cl->waiting = 0;
	} else if (cl->deadline != 0 && now_mono_ms() >= cl->deadline) {
		client_reply(cl, reply_err("wait-idle: timed out"));
		cl->waiting = 0;
	}
}

static void client_free(struct sim_ctl_client *cl)
{
	close(cl->fd);
	sbuf_release(&cl->in);
	sbuf_release(&cl->out);
	free(cl);
}

void sim_ctl_pump(struct sim_ctl *ctl, int64_t now)
{
	struct sim_ctl_client **pp = &ctl->clients;

	while (*pp != NULL) {
		struct sim_ctl_client *cl = *pp;

		if (cl->waiting) {
			client_wait(ctl, cl, now);
			client_lines(ctl, cl);
			client_write(cl);
		}
		if (cl->dead || (cl->eof && !cl->waiting && cl->out.len == 0)) {
			*pp = cl->next;
			ctl->nclients--;
			client_free(cl);
			continue;
		}
		pp = &cl->next;
	}
}

int sim_ctl_waiting(const struct sim_ctl *ctl)
{
	for (const struct sim_ctl_client *cl = ctl != NULL ? ctl->clients : NULL; cl != NULL;
	     cl = cl->next)
		if (cl->waiting)
			return 1;
	return 0;
}

void sim_ctl_free(struct sim_ctl *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->clients != NULL) {
		struct sim_ctl_client *cl = ctl->clients;

		ctl->clients = cl->next;
		client_free(cl);
	}
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

/* ---- `ccrsim ctl`: the client ---- */

static const char ctl_usage[] =
    "usage: ccrsim ctl [--control PATH | --state-dir DIR] COMMAND [ARGS]\n"
    "  dump                the world and the server, as one JSON line\n"
    "  fault-add JSON      add a fault (docs/ccrsim.md, Faults)\n"
    "  fault-clear [HOST]  remove every fault, or those of one host\n"
    "  event-add JSON      schedule an event (docs/ccrsim.md, Events)\n"
    "  event-clear         remove every event\n"
    "  set PATH VALUE      set a world field: set NODE2.pending_reboot 1\n"
    "  pause | resume      stop / restart the world clock\n"
    "  wait-idle [MS]      wait until no command runs and no world event is due\n"
    "                      within 1 s (gives up after MS, default 60000)\n"
    "The control socket defaults to DIR/control.sock, DIR = ./state/ccrsim.\n"
    "Prints the reply; exit 0 if it says \"ok\": true, 1 if not, 2 on usage errors.\n";

/* The request for argv (after options), or NULL on a usage error. */
static json_t *ctl_request(int argc, char **argv)
{
	const char *op = argc > 0 ? argv[0] : "";
	json_t *fault;
	int64_t ms = 60000;

	if ((strcmp(op, "dump") == 0 || strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0) &&
	    argc == 1)
		return json_pack("{s:s}", "op", op);
	if ((strcmp(op, "fault-add") == 0 || strcmp(op, "event-add") == 0) && argc == 2) {
		fault = json_loads(argv[1], 0, NULL);
		if (!json_is_object(fault)) {
			fprintf(stderr, "ccrsim ctl: %s: not a JSON object: %s\n", op, argv[1]);
			json_decref(fault);
			return NULL;
		}
		return json_pack("{s:s, s:o}", "op", op, op[0] == 'f' ? "fault" : "event", fault);
	}
	if (strcmp(op, "event-clear") == 0 && argc == 1)
		return json_pack("{s:s}", "op", op);
	if (strcmp(op, "fault-clear") == 0 && argc <= 2)
		return json_pack("{s:s, s:s?}", "op", op, "host", argc == 2 ? argv[1] : NULL);
	if (strcmp(op, "set") == 0 && argc == 3)
		return json_pack("{s:s, s:s, s:s}", "op", op, "path", argv[1], "value", argv[2]);
	if (strcmp(op, "wait-idle") == 0 && argc <= 2 &&
	    (argc == 1 || parse_int64(argv[1], 0, INT32_MAX, &ms) == 0))
		return json_pack("{s:s, s:I}", "op", op, "timeout_ms", (json_int_t)ms);
	return NULL;
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Send one line, read one line back into reply.  0 or -1 with errno. */
static int ctl_exchange(int fd, const char *line, struct sbuf *reply)
{
	size_t off = 0;
	size_t len = strlen(line);
	char buf[65536];

	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno != EINTR)
			return -1;
		off += n > 0 ? (size_t)n : 0;
	}
	while (memchr(reply->buf, '\n', reply->len) == NULL) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			sbuf_add(reply, buf, (size_t)n);
	}
	return 0;
}

static int ctl_send(const char *path, json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT);
	char *line = xasprintf("%s\n", text);
	struct sbuf reply;
	json_t *r = NULL;
	int fd = ctl_connect(path);
	int rc = 1;

	sbuf_init(&reply);
	if (fd < 0 || ctl_exchange(fd, line, &reply) != 0) {
		fprintf(stderr, "ccrsim ctl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	fwrite(reply.buf, 1, reply.len, stdout);
	r = json_loadb(reply.buf, reply.len, JSON_DISABLE_EOF_CHECK, NULL);
	rc = json_is_true(json_object_get(r, "ok")) ? 0 : 1;
out:
	json_decref(r);
	if (fd >= 0)
		close(fd);
	sbuf_release(&reply);
	free(line);
	free(text);
	return rc;
}

int sim_ctl_client_main(int argc, char **argv)
{
	const char *control = NULL;
	const char *state = "state/ccrsim";
	char *path;
	json_t *req;
	int i = 1;
	int rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(ctl_usage, stdout);
			return 0;
		}
		if (i + 1 < argc && strcmp(argv[i], "--control") == 0)
			control = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--state-dir") == 0)
			state = argv[++i];
		else
			break;
	}
	req = i < argc && argv[i][0] != '-' ? ctl_request(argc - i, argv + i) : NULL;
	if (req == NULL) {
		fprintf(stderr, "ccrsim ctl: bad arguments\n%s", ctl_usage);
		return 2;
	}
	path = control != NULL ? xstrdup(control) : xasprintf("%s/control.sock", state);
	rc = ctl_send(path, req);
	free(path);
	json_decref(req);
	return rc;
}
