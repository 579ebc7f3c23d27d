/*
 * httpsink.h — a tiny HTTP listener on 127.0.0.1 for tests, in process.
 *
 * listener_start() binds an ephemeral loopback port and serves requests one
 * at a time on its own thread, recording each request's path, content type
 * and body.  It answers with a fixed status, optionally after sleeping
 * (hang_ms) or only once the test releases it (hold), so tests can order
 * events without wall-clock thresholds: "the caller returned while the
 * listener had not answered yet".  The thread and the socket live until the
 * (forked) test process exits.  Header-only: include it in one test file.
 */
#ifndef CCR_TEST_HTTPSINK_H
#define CCR_TEST_HTTPSINK_H

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define MAXREQ 64

struct listener {
	int fd, port;
	int status;  /* HTTP status to answer */
	int hang_ms; /* sleep before answering */
	int hold;    /* answer only once released */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int nreq, answered;
	char *body[MAXREQ], *ctype[MAXREQ], *path[MAXREQ];
	pthread_t th;
};

static char *header(const char *req, const char *name)
{
	const char *p = strcasestr(req, name);
	if (p == NULL)
		return NULL;
	p += strlen(name);
	while (*p == ' ')
		p++;
	return xstrndup(p, strcspn(p, "\r\n"));
}

/* Read one request; returns 0 and fills path/ctype/body, or -1. */
static int read_request(int c, char **path, char **ctype, char **body)
{
	struct sbuf sb;
	char buf[4096];
	char *end = NULL;
	sbuf_init(&sb);
	while ((end = strstr(sb.buf, "\r\n\r\n")) == NULL) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n <= 0)
			goto fail;
		sbuf_add(&sb, buf, (size_t)n);
	}
	size_t hdr_len = (size_t)(end - sb.buf) + 4;
	char *cl = header(sb.buf, "\ncontent-length:");
	int64_t want = 0;
	if (cl && parse_int64(cl, 0, 1 << 24, &want) < 0)
		want = 0;
	free(cl);
	while (sb.len < hdr_len + (size_t)want) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n <= 0)
			goto fail;
		sbuf_add(&sb, buf, (size_t)n);
	}
	const char *sp = strchr(sb.buf, ' ');
	*path = xstrndup(sp ? sp + 1 : "", sp ? strcspn(sp + 1, " ") : 0);
	*ctype = header(sb.buf, "\ncontent-type:");
	*body = xstrndup(sb.buf + hdr_len, (size_t)want);
	sbuf_release(&sb);
	return 0;
fail:
	sbuf_release(&sb);
	return -1;
}

static void *listener_main(void *arg)
{
	struct listener *l = arg;
	for (;;) {
		int c = accept(l->fd, NULL, NULL);
		char *path = NULL, *ctype = NULL, *body = NULL;
		if (c < 0)
			return NULL;
		if (read_request(c, &path, &ctype, &body) < 0) {
			close(c);
			continue;
		}
		pthread_mutex_lock(&l->mu);
		if (l->nreq < MAXREQ) {
			l->path[l->nreq] = path;
			l->ctype[l->nreq] = ctype;
			l->body[l->nreq] = body;
		}
		l->nreq++;
		pthread_cond_broadcast(&l->cv);
		while (l->hold)
			pthread_cond_wait(&l->cv, &l->mu);
		int hang = l->hang_ms, status = l->status;
		pthread_mutex_unlock(&l->mu);
		if (hang)
			usleep((useconds_t)hang * 1000);
		char *resp =
		    xasprintf("HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
			      "ok",
			      status);
		ssize_t w = write(c, resp, strlen(resp));
		(void)w;
		free(resp);
		close(c);
		pthread_mutex_lock(&l->mu);
		l->answered++;
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
	}
}

static struct listener *listener_start(int status, int hang_ms, int hold)
{
	struct listener *l = xcalloc(1, sizeof(*l));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t sl = sizeof(sa);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->status = status;
	l->hang_ms = hang_ms;
	l->hold = hold;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(l->fd, 0);
	ck_assert_int_eq(bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l->fd, 16), 0);
	ck_assert_int_eq(getsockname(l->fd, (struct sockaddr *)&sa, &sl), 0);
	l->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&l->th, NULL, listener_main, l), 0);
	return l;
}

static void listener_release(struct listener *l)
{
	pthread_mutex_lock(&l->mu);
	l->hold = 0;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* Wait (bounded, generously) until the listener has seen n requests. */
static int wait_requests(struct listener *l, int n)
{
	int64_t end = now_mono_ms() + 20000;
	pthread_mutex_lock(&l->mu);
	while (l->nreq < n && now_mono_ms() < end) {
		pthread_mutex_unlock(&l->mu);
		usleep(2000);
		pthread_mutex_lock(&l->mu);
	}
	int got = l->nreq;
	pthread_mutex_unlock(&l->mu);
	return got;
}

static char *url_of(const struct listener *l, const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", l->port, path);
}

/* A port on which nothing listens: bound, then closed. */
static int dead_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t sl = sizeof(sa);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

#endif
