/*
 * xgate.c — see xgate.h.  A counting semaphore made of a mutex and a
 * condition variable: waiters sleep in slices of GATE_SLICE_MS so that a
 * stop request (a signal handler setting *stop, which cannot signal the
 * condition) is seen promptly.
 */
#include "xgate.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define GATE_SLICE_MS  100
#define GATE_PER_CPU   8
#define GATE_MIN_SLOTS 16

struct xport_gate {
	pthread_mutex_t mu;	     /* guards everything below */
	pthread_cond_t freed;	     /* a slot was given back */
	int slots;		     /* the bound */
	int busy;		     /* slots held now */
	int peak;		     /* most slots held at once */
	unsigned long waits;	     /* entries that found no free slot */
	volatile sig_atomic_t *stop; /* borrowed; NULL: never stopped */
};

int xport_gate_default_slots(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1 || n > 4096)
		n = 1;
	return n * GATE_PER_CPU > GATE_MIN_SLOTS ? (int)n * GATE_PER_CPU : GATE_MIN_SLOTS;
}

struct xport_gate *xport_gate_new(int slots, volatile sig_atomic_t *stop)
{
	struct xport_gate *g = xcalloc(1, sizeof(*g));
	pthread_condattr_t ca;

	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->freed, &ca);
	pthread_condattr_destroy(&ca);
	g->slots = slots > 0 ? slots : 1;
	g->stop = stop;
	return g;
}

void xport_gate_free(struct xport_gate *g)
{
	if (g == NULL)
		return;
	pthread_cond_destroy(&g->freed);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static int gate_stopped(const struct xport_gate *g)
{
	return g->stop != NULL && *g->stop != 0;
}

/* Wait on g->freed for one slice (g->mu held). */
static void gate_wait_slice(struct xport_gate *g)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += GATE_SLICE_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(&g->freed, &g->mu, &ts);
}

int xport_gate_enter(struct xport_gate *g)
{
	int rc = 0;

	if (g == NULL)
		return 0;
	pthread_mutex_lock(&g->mu);
	if (g->busy >= g->slots)
		g->waits++;
	while (g->busy >= g->slots && !gate_stopped(g))
		gate_wait_slice(g);
	if (g->busy >= g->slots) {
		rc = -1;
		goto out;
	}
	g->busy++;
	if (g->busy > g->peak)
		g->peak = g->busy;
out:
	pthread_mutex_unlock(&g->mu);
	return rc;
}

void xport_gate_leave(struct xport_gate *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (g->busy > 0)
		g->busy--;
	pthread_cond_signal(&g->freed);
	pthread_mutex_unlock(&g->mu);
}

struct xport_gate_stats xport_gate_stats(struct xport_gate *g)
{
	pthread_mutex_lock(&g->mu);
	struct xport_gate_stats st = {.slots = g->slots, .peak = g->peak, .waits = g->waits};
	pthread_mutex_unlock(&g->mu);
	return st;
}
