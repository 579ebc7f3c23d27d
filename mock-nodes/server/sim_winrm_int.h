/*
 * sim_winrm_int.h — what the WinRM modules of ccrsim share (sim_winrm.h
 * is the server loop's view).  Not a public API.
 */
#ifndef CCR_SIM_WINRM_INT_H
#define CCR_SIM_WINRM_INT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sim_lsnset.h"
#include "sim_server.h"
#include "sim_winrm.h"

#define SIM_WR_ID_LEN 40 /* "8-4-4-4-12" upper-case GUID + NUL */

/* One command of a shell. */
struct sim_wr_cmd {
	struct sim_wr_cmd *next; /* shell's list */
	char id[SIM_WR_ID_LEN];	 /* CommandId */
	struct sim_action *a;	 /* the world's action, NULL once finished */
	struct sbuf out;	 /* stdout produced, not yet received */
	struct sbuf err;	 /* stderr produced, not yet received */
	int finished;		 /* the action completed: exit_code is set */
	int exit_code;		 /* its exit status */
	int64_t produced;	 /* output bytes produced (drop-after fault) */
	int64_t drop_base;	 /* produced when a drop fault armed, -1 none yet */
	int host;		 /* world host index (for -v lines) */
	int drop;		 /* the drop fault fired: the connection is cut */
	int waiting;		 /* a Receive for it is held open */
	int64_t last_rx;	 /* real ms of its Command or last Receive */
};

/* One shell: created by Create, gone with Delete or the host's reboot. */
struct sim_wr_shell {
	struct sim_wr_shell *next; /* wr->shells */
	char id[SIM_WR_ID_LEN];	   /* ShellId */
	int host;		   /* world host index */
	int epoch;		   /* the host's boot epoch when it was created */
	struct sim_wr_cmd *cmds;   /* its commands, newest first */
};

/* A parsed request (sim_wr_parse). */
struct sim_wr_req {
	char *action;	   /* a:Action */
	char *resource;	   /* w:ResourceURI */
	char *message_id;  /* a:MessageID */
	char *shell_id;	   /* w:SelectorSet/w:Selector[@Name=ShellId], or NULL */
	int64_t max_env;   /* w:MaxEnvelopeSize, or 0 */
	int64_t op_ms;	   /* w:OperationTimeout in ms, or 0 */
	char *command;	   /* rsp:CommandLine: Command and Arguments joined, or NULL */
	char *command_id;  /* DesiredStream/@CommandId or Signal/@CommandId, or NULL */
	char *signal_code; /* rsp:Signal/rsp:Code, or NULL */
	int has_shell;	   /* the body has an rsp:Shell (Create) */
};

/* Per-host state. */
struct sim_wr_host {
	int fd[2];     /* listeners: [0] HTTP, [1] HTTPS; -1 when closed */
	int up;	       /* power last seen */
	int epoch;     /* boot epoch last seen */
	X509 *cert;    /* server certificate (CN and SAN: name and address) */
	EVP_PKEY *key; /* its key */
};

struct sim_wr_conn;
struct sim_wr_listener;

struct sim_winrm {
	struct sim_server *srv;		   /* owner, borrowed */
	SSL_CTX *ctx;			   /* TLS server context (certificates per connection) */
	struct sim_wr_host *hosts;	   /* [srv->nhosts] */
	struct sim_wr_listener *listeners; /* [2 * nhosts]: HTTP/HTTPS listeners (lsn tags) */
	struct sim_lsnset *lsn;		   /* the open listeners, tagged 2 * host + https */
	struct sim_wr_listener *lsn_who;   /* pollfd who of lsn (kind WR_LSNSET) */
	struct sim_wr_conn *conns;	   /* open connections */
	int nconns;			   /* entries in conns */
	struct sim_wr_shell *shells;	   /* open shells of every host */
	char *ca_path;			   /* STATE/winrm/ca.pem */
	X509 *ca;			   /* the CA, borrowed from ctx */
	EVP_PKEY *cakey;		   /* its key, owned */
	int64_t requests;		   /* requests answered (the -v log numbers them) */
	int off; /* 1: no listeners (the fleet's descriptors do not allow) */
};

/* Results of handling a request. */
enum sim_wr_outcome {
	SIM_WR_REPLY, /* resp holds the SOAP reply; *status its HTTP status */
	SIM_WR_WAIT,  /* a Receive with nothing to say yet: hold it */
	SIM_WR_DROP,  /* the drop fault: close the connection without a reply */
};

/* sim_winrm_shell.c */
/* Parse a SOAP request.  0, or -1 (not a SOAP envelope; r is released). */
int sim_wr_parse(const char *body, size_t len, struct sim_wr_req *r);
void sim_wr_req_release(struct sim_wr_req *r);
/*
 * Handle a parsed request to host at world time now.  A Receive with no
 * output yet returns SIM_WR_WAIT unless timed_out, when it gets the
 * OperationTimeout fault (2150858793).
 */
enum sim_wr_outcome sim_wr_handle(struct sim_winrm *wr, int host, const struct sim_wr_req *r,
				  int64_t now, int timed_out, struct sbuf *resp, int *status);
/* A fault reply (HTTP 500) for a request that could not be parsed or is too big. */
void sim_wr_fault(const struct sim_winrm *wr, int host, const char *relates_to, const char *subcode,
		  const char *code, const char *text, struct sbuf *resp);
/* Poll every running command whose output or completion is due. */
void sim_wr_shells_poll(struct sim_winrm *wr, int64_t now);
/* Earliest world ms a command needs polling, or INT64_MAX. */
int64_t sim_wr_shells_next(const struct sim_winrm *wr);
/* Remove host's shells (reboot, power off); running commands are aborted.  host -1: all. */
void sim_wr_shells_drop_host(struct sim_winrm *wr, int host, int64_t now);

/* sim_winrm_tls.c */
/*
 * Load STATE/winrm/ca.pem + ca.key, or make them.  0, or -1 with err.
 */
int sim_wr_tls_init(struct sim_winrm *wr, char *err, size_t errlen);
/*
 * Host i's certificate, signed by that CA, made at its first HTTPS connection
 * of this start (so a changed address is always in it; a fleet of 10,000
 * hosts does not make 10,000 keys to start).  0, or -1.
 */
int sim_wr_tls_host(struct sim_winrm *wr, int i);
void sim_wr_tls_release(struct sim_winrm *wr);

#endif
