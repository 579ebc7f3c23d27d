/*
 * sim_lsnset.c — listening sockets behind one epoll descriptor (sim_lsnset.h).
 */
#include "sim_lsnset.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util.h"

#define READY_BATCH 64

struct sim_lsnset {
	int ep;
};

struct sim_lsnset *sim_lsnset_new(void)
{
	struct sim_lsnset *s = xcalloc(1, sizeof(*s));

	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void sim_lsnset_free(struct sim_lsnset *s)
{
	if (s == NULL)
		return;
	close(s->ep);
	free(s);
}

int sim_lsnset_fd(const struct sim_lsnset *s)
{
	return s->ep;
}

int sim_lsnset_add(struct sim_lsnset *s, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}

void sim_lsnset_del(struct sim_lsnset *s, int fd)
{
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
}

int sim_lsnset_ready(struct sim_lsnset *s, uint64_t *tags, int max)
{
	struct epoll_event ev[READY_BATCH];
	int n = epoll_wait(s->ep, ev, max < READY_BATCH ? max : READY_BATCH, 0);

	for (int i = 0; i < n; i++)
		tags[i] = ev[i].data.u64;
	return n < 0 ? 0 : n;
}
