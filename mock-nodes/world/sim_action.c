/*
 * sim_action.c — running a command over time (sim_cmd_int.h explains the
 * step model): polling due steps, output buffers, fault shaping of the
 * timing (slow), interruption and release.
 */
#include "sim_cmd_int.h"

#include <stdarg.h>
#include <stdlib.h>

void sim_act_out(struct sim_action *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbuf_vaddf(&a->out, fmt, ap);
	va_end(ap);
}

void sim_act_err(struct sim_action *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbuf_vaddf(&a->err, fmt, ap);
	va_end(ap);
}

void sim_act_then(struct sim_action *a, sim_step_fn fn, int64_t at)
{
	a->step = fn;
	a->next_at = at;
}

void sim_act_exit(struct sim_action *a, int code)
{
	a->step = NULL;
	a->next_at = SIM_NEVER;
	a->done = 1;
	a->exit_code = code;
}

struct sim_action *sim_action_new(struct sim_world *w, int host, const char *line, int64_t now)
{
	struct sim_action *a = xcalloc(1, sizeof(*a));
	sbuf_init(&a->out);
	sbuf_init(&a->err);
	a->w = w;
	a->host = host;
	a->start = now;
	a->cluster = w->hosts[host].cluster;
	a->target = -1;
	a->drop_after = -1;
	a->line = xstrdup(line);
	a->next_at = SIM_NEVER;
	return a;
}

struct sim_host *sim_act_host(const struct sim_action *a)
{
	return &a->w->hosts[a->host];
}

/* Run every step due by now; output accumulates in a->out / a->err. */
static void run_due(struct sim_action *a, int64_t now)
{
	while (a->step != NULL && a->next_at <= now) {
		int64_t at = a->next_at;
		sim_step_fn fn = a->step;
		size_t before = a->out.len + a->err.len;
		sim_world_tick(a->w, at);
		a->step = NULL;
		a->next_at = SIM_NEVER;
		fn(a, at);
		if (a->step == NULL && !a->done)
			sim_act_exit(a, 0); /* a step that neither continues nor exits */
		if (a->done)
			a->done_at = at;
		if (a->step != NULL && a->slow_ms > 0 && a->out.len + a->err.len > before)
			a->next_at += a->slow_ms;
		if (a->step != NULL && a->next_at < at)
			a->next_at = at;
	}
}

int sim_action_poll(struct sim_action *a, int64_t now, struct sbuf *out, struct sbuf *err,
		    int *exit_code)
{
	if (a->seq != NULL)
		return sim_seq_poll(a, now, out, err, exit_code);
	run_due(a, now);
	if (a->out.len > 0)
		sbuf_add(out, a->out.buf, a->out.len);
	if (a->err.len > 0)
		sbuf_add(err, a->err.buf, a->err.len);
	sbuf_reset(&a->out);
	sbuf_reset(&a->err);
	if (!a->done)
		return 0;
	if (!a->after_fired && a->key != NULL) { /* events "after" the command */
		a->after_fired = 1;
		sim_event_on_command(a->w, a->host, a->line, a->key, 1, now);
	}
	*exit_code = a->exit_code;
	return 1;
}

int64_t sim_action_next_ms(const struct sim_action *a)
{
	if (a->seq != NULL)
		return sim_seq_next_ms(a);
	if (a->done)
		return a->start;
	return a->step == NULL ? SIM_NEVER : a->next_at;
}

int64_t sim_action_drop_after(const struct sim_action *a)
{
	return a->seq != NULL ? sim_seq_drop_after(a) : a->drop_after;
}

int64_t sim_action_slow_ms(const struct sim_action *a)
{
	return a->seq != NULL ? sim_seq_slow_ms(a) : a->slow_ms;
}

void sim_action_take_log(struct sim_action *a, struct sbuf *log)
{
	if (a->seq != NULL)
		sim_seq_take_log(a, log);
}

/*
 * The client went away.  What was due by now still happened (the world does
 * not wait for the client); then the command's own interruption handler
 * decides what an unfinished command leaves behind.
 */
void sim_action_abort(struct sim_action *a, int64_t now)
{
	if (a->seq != NULL) {
		sim_seq_abort(a, now);
		return;
	}
	run_due(a, now);
	if (!a->done && a->abort != NULL)
		a->abort(a, now);
	a->step = NULL;
	a->next_at = SIM_NEVER;
	sbuf_reset(&a->out);
	sbuf_reset(&a->err);
}

void sim_action_free(struct sim_action *a)
{
	if (a == NULL)
		return;
	free(a->line);
	free(a->key);
	sim_argv_free(a->argv, a->argc);
	free(a->text);
	sim_seq_free(a->seq);
	sbuf_release(&a->out);
	sbuf_release(&a->err);
	free(a);
}
