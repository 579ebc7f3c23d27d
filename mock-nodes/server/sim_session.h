/*
 * sim_session.h — internals shared by sim_session.c (one SSH connection) and
 * sim_channel.c (one session channel of it).  Nothing else includes this:
 * the server loop uses the sim_conn_* / sim_conns_* functions of
 * sim_server.h.
 *
 * Ownership: a connection owns its channels (list newest first); a channel
 * owns its running action.  Only the pump frees; libssh callbacks record.
 */
#ifndef CCR_SIM_SESSION_H
#define CCR_SIM_SESSION_H

#include <libssh/callbacks.h>

#include "sim_server.h"

/* Ctrl-C through a PTY ends the command as Windows ends a console process. */
#define SIM_EXIT_CTRL_C ((int)0xC000013Au) /* STATUS_CONTROL_C_EXIT, 3221225786 */

/* One session channel: at most one command (exec) or a refused shell. */
struct sim_chan {
	struct sim_conn *conn;			/* owner */
	struct sim_chan *next;			/* next channel of conn */
	ssh_channel ch;				/* libssh channel */
	struct ssh_channel_callbacks_struct cb; /* must outlive ch's use of it */
	int pty;				/* PTY requested: CRLF, stderr merged */
	int shell;				/* shell requested: answer with a notice */
	char *cmd;				/* exec command line not yet started, owned */
	struct sim_action *action;		/* running command, owned */
	struct sbuf out;			/* stdout to write (translated) */
	struct sbuf err;			/* stderr to write */
	char last_out;				/* last byte added to out (CRLF state) */
	int64_t produced;			/* bytes the action produced so far */
	int64_t drop_base;			/* produced when a drop fault armed, -1 none yet */
	int finished;				/* action done: exit_code is valid */
	int exit_code;				/* exit status to send */
	int drop;				/* drop-after reached: end the connection */
	int peer_closed;			/* client closed the channel */
	int interrupt;				/* Ctrl-C (0x03) came through the PTY */
	int done;				/* exit status, EOF and close sent */
};

/* One TCP connection. */
struct sim_conn {
	struct sim_server *srv;		       /* owner */
	struct sim_conn *prev, *next;	       /* srv->conns list */
	ssh_session session;		       /* libssh server session, owned */
	ssh_event event;		       /* this session's own poll context, owned */
	struct ssh_server_callbacks_struct cb; /* auth and channel-open callbacks */
	struct ssh_callbacks_struct gcb;       /* global requests (keepalive) */
	int host;			       /* world host index */
	int epoch;			       /* host boot epoch when accepted */
	int64_t born_ms;		       /* real ms when accepted (auth grace) */
	int authed;			       /* public-key auth succeeded */
	struct sim_chan *chans;		       /* open channels, newest first */
	int nchans;			       /* entries in chans */
	int64_t closing_ms;		       /* real ms when closing began, or 0 */
	int64_t fin_ms;			       /* real ms our FIN was sent (lingering), or 0 */
	int peer_eof;			       /* lingering: the client closed its side too */
};

/* sim_session.c */
/* -v logging: "ccrsim: HOST: message". */
void sim_conn_log(const struct sim_conn *c, const char *fmt, ...) CCR_PRINTF(2, 3);
/* Stop taking requests; the connection ends once its output is flushed. */
void sim_conn_close(struct sim_conn *c);

/* sim_channel.c */
/* A channel for an open request on c, callbacks set; NULL if libssh refuses. */
struct sim_chan *sim_chan_new(struct sim_conn *c, ssh_session session);
/* One step from the pump; 1 when the channel can be freed (the client closed it). */
int sim_chan_step(struct sim_chan *ch, int64_t now, int closing);
/* How long until the channel wants a step: 0 now, INT64_MAX never (world ms). */
int64_t sim_chan_wait(const struct sim_chan *ch, int64_t now, int paused);
/* Abort (if unfinished) and free the running action, if any. */
void sim_chan_stop(struct sim_chan *ch, int64_t now);
/* Free our side only (the libssh channel is already gone with its session). */
void sim_chan_release(struct sim_chan *ch, int64_t now);
/* Remove our callbacks, free the libssh channel (CLOSE if needed), then ours. */
void sim_chan_free(struct sim_chan *ch, int64_t now);

#endif
