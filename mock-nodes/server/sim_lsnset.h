/*
 * sim_lsnset.h — a set of listening sockets watched through one descriptor.
 *
 * A fleet has one SSH listener per host, and HTTP and WinRM listeners besides:
 * 10,000 hosts are 10,000-30,000 sockets that are idle nearly all the time.
 * Putting each in every poll() made each turn of the loop cost as much as the
 * fleet is large.  A set keeps them in an epoll instance (level-triggered): the
 * loop polls the set's one descriptor and, when it is readable, asks which
 * listeners are ready.  Each listener carries a tag the caller chooses (a host
 * index, a pointer).
 *
 *   s = sim_lsnset_new()
 *   sim_lsnset_add(s, fd, tag)  when a listener opens
 *   sim_lsnset_del(s, fd)       before it closes
 *   poll() on sim_lsnset_fd(s) with POLLIN, then
 *   n = sim_lsnset_ready(s, tags, max)  the tags of up to max ready listeners
 *   sim_lsnset_free(s)
 */
#ifndef SIM_LSNSET_H
#define SIM_LSNSET_H

#include <stdint.h>

struct sim_lsnset;

struct sim_lsnset *sim_lsnset_new(void);
void sim_lsnset_free(struct sim_lsnset *s);
/* The descriptor to poll for POLLIN. */
int sim_lsnset_fd(const struct sim_lsnset *s);
/* 0, or -1 with errno. */
int sim_lsnset_add(struct sim_lsnset *s, int fd, uint64_t tag);
void sim_lsnset_del(struct sim_lsnset *s, int fd);
/* Tags of listeners with a connection waiting (at most max), without blocking. */
int sim_lsnset_ready(struct sim_lsnset *s, uint64_t *tags, int max);

#endif
