/*
 * winrm_soap.h — the SOAP messages of the WinRM remote shell (MS-WSMV,
 * resource http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd),
 * built and parsed with libxml2.  Pure: no sockets, no clocks, so the unit
 * suite (tests/check_winrm_soap.c) and the transport (xport_winrm.c) share
 * it.
 *
 * Every request carries the headers pywinrm and Ansible send: To, ReplyTo
 * (anonymous), MaxEnvelopeSize, MessageID (a version 4 uuid: fresh random
 * bytes, or the caller's random base with a message number), Locale and
 * DataLocale (en-US), OperationTimeout (PTnS / PTn.nnnS), ResourceURI and
 * Action (mustUnderstand), and a SelectorSet with the ShellId once a shell
 * exists.
 *
 * Calling sequence (one command):
 *   Create  -> ShellId           (once per host, kept open)
 *   Command -> CommandId
 *   Receive ... until the reply says CommandState Done (with ExitCode); the
 *           fault WSMAN_FAULT_TIMED_OUT means "nothing yet, poll again"
 *   Signal terminate             (only when the command is abandoned)
 *   Delete                       (when the transport closes)
 */
#ifndef CCR_WINRM_SOAP_H
#define CCR_WINRM_SOAP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define WSMAN_NS_SOAP	       "http://www.w3.org/2003/05/soap-envelope"
#define WSMAN_NS_ADDR	       "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define WSMAN_NS_WSMAN	       "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define WSMAN_NS_MSWS	       "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
#define WSMAN_NS_SHELL	       "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
#define WSMAN_NS_FAULT	       "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
#define WSMAN_RESOURCE_CMD     "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
#define WSMAN_ACTION_CREATE    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
#define WSMAN_ACTION_DELETE    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
#define WSMAN_ACTION_COMMAND   WSMAN_NS_SHELL "/Command"
#define WSMAN_ACTION_RECEIVE   WSMAN_NS_SHELL "/Receive"
#define WSMAN_ACTION_SIGNAL    WSMAN_NS_SHELL "/Signal"
#define WSMAN_STATE_DONE       WSMAN_NS_SHELL "/CommandState/Done"
#define WSMAN_SIGNAL_TERMINATE WSMAN_NS_SHELL "/signal/terminate"
#define WSMAN_ANONYMOUS	       "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
/* The WS-Man fault a Receive gets when OperationTimeout passed with no output: poll again. */
#define WSMAN_FAULT_TIMED_OUT "2150858793"

/* What every request's header says.  Strings are borrowed for the call. */
struct wsman_hdr {
	const char *to;		      /* the endpoint URL */
	const char *action;	      /* WSMAN_ACTION_* */
	const char *shell_id;	      /* the SelectorSet's ShellId, or NULL (Create) */
	int64_t max_envelope_size;    /* MaxEnvelopeSize, e.g. 153600 */
	int64_t operation_timeout_ms; /* OperationTimeout */
	const char *locale;	      /* "en-US" */
	const unsigned char *id_base; /* 16 random bytes the MessageIDs derive from, or NULL */
	uint64_t id_seq;	      /* with id_base: this message's number (unique per base) */
};

/*
 * Build a request.  Each returns a new NUL-terminated XML document (caller
 * frees) and writes its MessageID ("uuid:...") into msgid (at least 48
 * bytes), so replies can be matched.  h->action is set by the function.
 *   create:  rsp:Shell (stdin / stdout stderr), WINRS_NOPROFILE=TRUE,
 *            WINRS_CODEPAGE=codepage
 *   command: rsp:CommandLine/rsp:Command = cmdline, WINRS_CONSOLEMODE_STDIN
 *            TRUE and WINRS_SKIP_CMD_SHELL FALSE (cmd.exe parses the line)
 *   receive: rsp:Receive/rsp:DesiredStream CommandId="..." "stdout stderr"
 *   signal:  rsp:Signal CommandId="..."/rsp:Code = code
 *   delete:  an empty body
 */
char *wsman_build_create(struct wsman_hdr *h, int codepage, char *msgid);
char *wsman_build_command(struct wsman_hdr *h, const char *cmdline, char *msgid);
char *wsman_build_receive(struct wsman_hdr *h, const char *command_id, char *msgid);
char *wsman_build_signal(struct wsman_hdr *h, const char *command_id, const char *code,
			 char *msgid);
char *wsman_build_delete(struct wsman_hdr *h, char *msgid);

/* A parsed reply.  Embedded: wsman_reply_init() / _release(). */
struct wsman_reply {
	int fault;	  /* 1: a SOAP Fault */
	char *fault_code; /* WSManFault Code ("2150858793"), or the SOAP subcode, or NULL */
	char *fault_text; /* the Reason text (trimmed), or NULL */
	char *relates_to; /* a:RelatesTo, or NULL */
	char *shell_id;	  /* CreateResponse: the ShellId, or NULL */
	char *command_id; /* CommandResponse: the CommandId, or NULL */
	struct sbuf out;  /* ReceiveResponse: stdout bytes, decoded */
	struct sbuf err;  /* ReceiveResponse: stderr bytes, decoded */
	int done;	  /* ReceiveResponse: CommandState is Done */
	int exit_code;	  /* its ExitCode when done (-1 if absent) */
};

/* init: empty buffers (owned); release: frees everything, init again before reuse. */
void wsman_reply_init(struct wsman_reply *r);
void wsman_reply_release(struct wsman_reply *r);

/*
 * Parse a reply body (len bytes; need not be NUL-terminated).  No network
 * access, no entity expansion, no DTD loading.  Returns 0 with r filled
 * (r must have been initialised; it is reset first), or -1 when buf is not
 * a SOAP envelope or a stream is not valid base64 (r->fault_text says
 * which).
 */
int wsman_parse_reply(const char *buf, size_t len, struct wsman_reply *r) CCR_WUR;

/*
 * The same with a reader kept between replies (libxml2's parser context is
 * made once, not per reply).  One reader per thread at a time: a transport
 * owns one.  wsman_reader_free(NULL) is a no-op.
 */
struct wsman_reader;
struct wsman_reader *wsman_reader_new(void);
void wsman_reader_free(struct wsman_reader *p);
int wsman_reader_parse(struct wsman_reader *p, const char *buf, size_t len,
		       struct wsman_reply *r) CCR_WUR;

/*
 * Decode base64 (whitespace ignored) and append to out.  0, or -1 on bad
 * input (out unchanged).
 */
int wsman_b64_decode(const char *s, size_t len, struct sbuf *out) CCR_WUR;

/* Call once per process before threads use this module (xmlInitParser). */
void wsman_global_init(void);

#endif
