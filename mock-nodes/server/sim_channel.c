/*
 * sim_channel.c — one SSH session channel of a simulated host: the pty,
 * exec and shell requests, and streaming the command's action to the client.
 *
 * As in sim_session.c, libssh's callbacks only record (the command line, the
 * PTY, the client's close); sim_chan_step(), called from the server's pump,
 * starts the command with sim_exec(), polls its action when output is due,
 * writes within the client's window, honours the drop-after fault, and ends
 * with exit-status, EOF and close.
 *
 * With a PTY the output is what a terminal would deliver: LF becomes CRLF
 * and stderr is merged into stdout.  Without one, stdout and stderr are sent
 * as the command produced them.
 */
#include <stdlib.h>
#include <string.h>
#include <libssh/callbacks.h>

#include "sim_session.h"

/* ---- callbacks: record only ---- */

static int cb_pty(ssh_session s, ssh_channel ch, const char *term, int w, int h, int pw, int ph,
		  void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch, (void)term, (void)w, (void)h, (void)pw, (void)ph;
	c->pty = 1;
	return 0;
}

static int cb_shell(ssh_session s, ssh_channel ch, void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch;
	if (c->cmd != NULL || c->action != NULL || c->shell)
		return -1;
	c->shell = 1;
	return 0;
}

static int cb_exec(ssh_session s, ssh_channel ch, const char *command, void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch;
	if (c->cmd != NULL || c->action != NULL || c->shell || c->conn->closing_ms != 0)
		return -1;
	c->cmd = xstrdup(command);
	return 0;
}

static int cb_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
		   void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch, (void)is_stderr;
	/* Commands read no input: discard it; but a terminal turns Ctrl-C into an interrupt. */
	if (c->pty && memchr(data, 0x03, len) != NULL)
		c->interrupt = 1;
	return (int)len;
}

static void cb_close(ssh_session s, ssh_channel ch, void *userdata)
{
	struct sim_chan *c = userdata;

	(void)s, (void)ch;
	c->peer_closed = 1;
}

struct sim_chan *sim_chan_new(struct sim_conn *c, ssh_session session)
{
	struct sim_chan *ch = xcalloc(1, sizeof(*ch));

	ch->ch = ssh_channel_new(session);
	if (ch->ch == NULL) {
		free(ch);
		return NULL;
	}
	ch->conn = c;
	ch->drop_base = -1;
	sbuf_init(&ch->out);
	sbuf_init(&ch->err);
	ssh_callbacks_init(&ch->cb);
	ch->cb.userdata = ch;
	ch->cb.channel_pty_request_function = cb_pty;
	ch->cb.channel_shell_request_function = cb_shell;
	ch->cb.channel_exec_request_function = cb_exec;
	ch->cb.channel_data_function = cb_data;
	ch->cb.channel_close_function = cb_close;
	ssh_set_channel_callbacks(ch->ch, &ch->cb);
	return ch;
}

void sim_chan_stop(struct sim_chan *ch, int64_t now)
{
	if (ch->action == NULL)
		return;
	if (!ch->finished)
		sim_action_abort(ch->action, now);
	sim_action_free(ch->action);
	ch->action = NULL;
	ch->conn->srv->running--;
}

void sim_chan_release(struct sim_chan *ch, int64_t now)
{
	sim_chan_stop(ch, now);
	free(ch->cmd);
	sbuf_release(&ch->out);
	sbuf_release(&ch->err);
	free(ch);
}

void sim_chan_free(struct sim_chan *ch, int64_t now)
{
	ssh_remove_channel_callbacks(ch->ch, &ch->cb);
	/* Sends CLOSE if still needed; libssh frees it once the peer's CLOSE came. */
	ssh_channel_free(ch->ch);
	sim_chan_release(ch, now);
}

/* ---- streaming a command ---- */

/* Append data to the channel's buffers, as a terminal would deliver it with a PTY. */
static void chan_add(struct sim_chan *ch, const char *data, size_t len, int is_err)
{
	if (!ch->pty) {
		sbuf_add(is_err ? &ch->err : &ch->out, data, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && ch->last_out != '\r')
			sbuf_addc(&ch->out, '\r');
		sbuf_addc(&ch->out, data[i]);
		ch->last_out = data[i];
	}
}

/*
 * Take output produced by the action, cut at the drop-after limit.  The limit
 * counts bytes as the client receives them: after the PTY's CRLF translation
 * (and stderr merged), so `after_bytes: 50` delivers exactly 50 bytes.
 */
static void chan_take(struct sim_chan *ch, const struct sbuf *out, const struct sbuf *err)
{
	int64_t limit = sim_drop_limit(ch->action, ch->produced, &ch->drop_base);
	size_t out0 = ch->out.len, err0 = ch->err.len;
	size_t nout, nerr;

	chan_add(ch, out->buf, out->len, 0);
	chan_add(ch, err->buf, err->len, 1);
	nout = ch->out.len - out0;
	nerr = ch->err.len - err0;
	if (limit >= 0 && ch->produced + (int64_t)(nout + nerr) >= limit) {
		int64_t room = limit > ch->produced ? limit - ch->produced : 0;
		size_t keep_out = (size_t)room < nout ? (size_t)room : nout;
		size_t keep_err;

		room -= (int64_t)keep_out;
		keep_err = (size_t)room < nerr ? (size_t)room : nerr;
		ch->out.len = out0 + keep_out;
		ch->out.buf[ch->out.len] = '\0';
		ch->err.len = err0 + keep_err;
		ch->err.buf[ch->err.len] = '\0';
		nout = keep_out;
		nerr = keep_err;
		ch->drop = 1;
	}
	ch->produced += (int64_t)(nout + nerr);
}

/* Ctrl-C through the PTY: the command is interrupted as a console process is. */
static void chan_interrupt(struct sim_chan *ch, int64_t now)
{
	ch->interrupt = 0;
	if (ch->action == NULL || ch->finished || ch->drop)
		return;
	sim_conn_log(ch->conn, "Ctrl-C: command interrupted");
	sim_chan_stop(ch, now); /* aborts: the world applies the interruption */
	chan_add(ch, "^C", 2, 0);
	ch->finished = 1;
	ch->exit_code = SIM_EXIT_CTRL_C;
	ch->conn->srv->dirty = 1;
}

static void chan_start(struct sim_chan *ch, int64_t now)
{
	struct sim_conn *c = ch->conn;

	if (ch->shell) {
		char *msg = xasprintf("ccrsim: %s: interactive shells are not supported; run a "
				      "command instead: ssh HOST 'sc query ClusSvc'\n",
				      sim_host_name(c->srv->world, c->host));

		chan_add(ch, msg, strlen(msg), 0);
		free(msg);
		ch->shell = 0;
		ch->finished = 1;
		ch->exit_code = 1;
		return;
	}
	sim_conn_log(c, "exec %s", ch->cmd);
	ch->action = sim_exec(c->srv->world, c->host, ch->cmd, now);
	c->srv->running++;
	c->srv->dirty = 1;
	free(ch->cmd);
	ch->cmd = NULL;
}

/* Poll the action if output or completion is due. */
static void chan_poll(struct sim_chan *ch, int64_t now)
{
	struct sbuf out, err;

	if (ch->action == NULL || ch->finished || ch->drop || sim_action_next_ms(ch->action) > now)
		return;
	sbuf_init(&out);
	sbuf_init(&err);
	if (sim_action_poll(ch->action, now, &out, &err, &ch->exit_code) == 1)
		ch->finished = 1;
	sim_log_segments(ch->action, sim_host_name(ch->conn->srv->world, ch->conn->host),
			 ch->conn->srv->opts->verbose);
	chan_take(ch, &out, &err); /* with drop set, the exit status is never sent */
	ch->conn->srv->dirty = 1;
	sbuf_release(&out);
	sbuf_release(&err);
}

/* Write buffered output within the peer's window.  -1 if the channel broke. */
static int chan_write(struct sim_chan *ch, struct sbuf *sb, int is_err)
{
	uint32_t win = ssh_channel_window_size(ch->ch);
	size_t n = sb->len < win ? sb->len : win;
	int rc;

	if (n == 0)
		return 0;
	rc = is_err ? ssh_channel_write_stderr(ch->ch, sb->buf, (uint32_t)n)
		    : ssh_channel_write(ch->ch, sb->buf, (uint32_t)n);
	if (rc < 0)
		return -1;
	memmove(sb->buf, sb->buf + rc, sb->len - (size_t)rc);
	sb->len -= (size_t)rc;
	sb->buf[sb->len] = '\0';
	return 0;
}

/* Exit status, EOF, close: the order OpenSSH's client expects. */
static void chan_finish(struct sim_chan *ch, int64_t now)
{
	sim_conn_log(ch->conn, "exit %d", ch->exit_code);
	ssh_channel_request_send_exit_status(ch->ch, ch->exit_code);
	ssh_channel_send_eof(ch->ch);
	ssh_channel_close(ch->ch);
	ch->done = 1;
	sim_chan_stop(ch, now); /* finished: frees the action, nothing to abort */
}

/*
 * One channel's step; returns 1 when the channel can be freed: once the
 * client closed it (after our close, or in the middle of a command).  While
 * the connection is closing nothing new starts and nothing more is polled.
 */
int sim_chan_step(struct sim_chan *ch, int64_t now, int closing)
{
	if (ch->peer_closed)
		return 1;
	if (closing || ch->done)
		return 0;
	if (ch->cmd != NULL || ch->shell)
		chan_start(ch, now);
	if (ch->interrupt)
		chan_interrupt(ch, now);
	chan_poll(ch, now);
	if (chan_write(ch, &ch->out, 0) != 0 || chan_write(ch, &ch->err, 1) != 0)
		return 1;
	if (ch->out.len > 0 || ch->err.len > 0)
		return 0;
	if (ch->drop) {
		sim_conn_log(ch->conn, "drop-after fault: closing the connection");
		sim_conn_close(ch->conn);
		return 0;
	}
	if (ch->finished)
		chan_finish(ch, now);
	return 0;
}

/* Sleep bound for one channel: 0 to start it now, else until its action is due. */
int64_t sim_chan_wait(const struct sim_chan *ch, int64_t now, int paused)
{
	if (ch->cmd != NULL || ch->shell || ch->interrupt)
		return 0;
	if (paused || ch->action == NULL || ch->finished || ch->drop)
		return INT64_MAX;
	return sim_action_next_ms(ch->action) - now;
}
