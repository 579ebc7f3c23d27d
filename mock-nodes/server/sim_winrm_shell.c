/*
 * sim_winrm_shell.c — the SOAP half of ccrsim's WinRM (sim_winrm.h): parse
 * a WS-Management request with libxml2, act on the host's shells, build the
 * reply as Windows shapes it.
 *
 * Shells and commands (MS-WSMV remote shell, resource .../windows/shell/cmd):
 *   Create   a shell for the host; ShellId in the ResourceCreated reference
 *            and in rsp:Shell/rsp:ShellId
 *   Command  sim_exec() of the command line (Command and Arguments joined by
 *            a space, as cmd.exe would see it); CommandId
 *   Receive  the output produced so far (base64 rsp:Stream stdout/stderr,
 *            cut to fit the client's MaxEnvelopeSize), CommandState Running,
 *            or Done with ExitCode once the output is all out; nothing yet:
 *            held until OperationTimeout, then fault 2150858793
 *   Signal   terminate: a running command is aborted (sim_action_abort), the
 *            command forgotten
 *   Delete   the shell and its commands
 *
 * Faults (HTTP 500, s:Fault with a WSManFault detail, as Windows sends them):
 *   2150858843  unknown or missing ShellId ("the shell was not found")
 *   2150858793  OperationTimeout passed without output (w:TimedOut)
 *   2150858757  an action or resource this endpoint does not serve
 *               (a:ActionNotSupported)
 *   2150859025  the request exceeds MaxEnvelopeSize (w:EncodingLimit)
 *   2150858752  a request that is not a SOAP envelope or misses a part
 *               (w:InvalidParameter / a:InvalidMessageInformationHeader)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sim_winrm_int.h"

#define NS_SOAP	 "http://www.w3.org/2003/05/soap-envelope"
#define NS_ADDR	 "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define NS_WSMAN "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define NS_SHELL "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
#define NS_XFER	 "http://schemas.xmlsoap.org/ws/2004/09/transfer"
#define NS_FAULT "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
#define RES_CMD	 NS_SHELL "/cmd"
#define ANON	 "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

#define CODE_NO_SHELL	 "2150858843"
#define CODE_TIMED_OUT	 "2150858793"
#define CODE_UNSUPPORTED "2150858757"
#define CODE_BAD_REQUEST "2150858752"

/* ---- parsing ---- */

static int is(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrcmp(n->ns->href, BAD_CAST ns) == 0 && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *ns, const char *name)
{
	for (xmlNodePtr n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next)
		if (is(n, ns, name))
			return n;
	return NULL;
}

static char *text(xmlNodePtr n)
{
	xmlChar *t = n != NULL ? xmlNodeGetContent(n) : NULL;
	char *s = t != NULL ? xstrdup((const char *)t) : NULL;

	xmlFree(t);
	return s;
}

static char *attr(xmlNodePtr n, const char *name)
{
	xmlChar *t = n != NULL ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = t != NULL ? xstrdup((const char *)t) : NULL;

	xmlFree(t);
	return s;
}

/* "PT20S", "PT20.000S", "PT1M" (the forms clients send) to ms; 0 if unreadable. */
static int64_t iso_ms(const char *s)
{
	int64_t ms = 0, v = 0, frac = 0, scale = 0;

	if (s == NULL || strncmp(s, "PT", 2) != 0)
		return 0;
	for (s += 2; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9') {
			if (v > 100000000)
				return 0;
			if (scale > 0) {
				if (scale < 1000)
					frac = frac * 10 + (*s - '0'), scale *= 10;
			} else {
				v = v * 10 + (*s - '0');
			}
		} else if (*s == '.' && scale == 0) {
			scale = 1;
		} else if (*s == 'H' || *s == 'M' || *s == 'S') {
			int64_t unit = *s == 'H' ? 3600000 : *s == 'M' ? 60000 : 1000;
			ms += v * unit + (scale > 1 ? frac * unit / scale : 0);
			v = frac = scale = 0;
		} else {
			return 0;
		}
	}
	return ms;
}

static void parse_header(xmlNodePtr hdr, struct sim_wr_req *r)
{
	xmlNodePtr set = child(hdr, NS_WSMAN, "SelectorSet");
	char *v;
	int64_t n;

	r->action = text(child(hdr, NS_ADDR, "Action"));
	r->resource = text(child(hdr, NS_WSMAN, "ResourceURI"));
	r->message_id = text(child(hdr, NS_ADDR, "MessageID"));
	v = text(child(hdr, NS_WSMAN, "MaxEnvelopeSize"));
	if (v != NULL && parse_int64(v, 1, INT32_MAX, &n) == 0)
		r->max_env = n;
	free(v);
	v = text(child(hdr, NS_WSMAN, "OperationTimeout"));
	r->op_ms = iso_ms(v);
	free(v);
	for (xmlNodePtr s = set != NULL ? set->children : NULL; s != NULL; s = s->next) {
		char *name = is(s, NS_WSMAN, "Selector") ? attr(s, "Name") : NULL;
		if (name != NULL && strcmp(name, "ShellId") == 0 && r->shell_id == NULL)
			r->shell_id = text(s);
		free(name);
	}
}

static void parse_body(xmlNodePtr body, struct sim_wr_req *r)
{
	xmlNodePtr line = child(body, NS_SHELL, "CommandLine");
	xmlNodePtr recv = child(body, NS_SHELL, "Receive");
	xmlNodePtr sig = child(body, NS_SHELL, "Signal");

	r->has_shell = child(body, NS_SHELL, "Shell") != NULL;
	if (line != NULL) {
		char *cmd = text(child(line, NS_SHELL, "Command"));
		struct sbuf sb;

		sbuf_init(&sb);
		sbuf_adds(&sb, cmd != NULL ? cmd : "");
		for (xmlNodePtr a = line->children; a != NULL; a = a->next) {
			char *arg = is(a, NS_SHELL, "Arguments") ? text(a) : NULL;
			if (arg != NULL)
				sbuf_addf(&sb, " %s", arg);
			free(arg);
		}
		free(cmd);
		r->command = sbuf_detach(&sb);
	}
	if (recv != NULL)
		r->command_id = attr(child(recv, NS_SHELL, "DesiredStream"), "CommandId");
	if (sig != NULL) {
		r->command_id = attr(sig, "CommandId");
		r->signal_code = text(child(sig, NS_SHELL, "Code"));
	}
}

int sim_wr_parse(const char *body, size_t len, struct sim_wr_req *r)
{
	xmlDocPtr doc;
	xmlNodePtr root, hdr, bd;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (len > INT32_MAX)
		return -1;
	doc = xmlReadMemory(body, (int)len, "request.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (is(root, NS_SOAP, "Envelope") && (hdr = child(root, NS_SOAP, "Header")) != NULL &&
	    (bd = child(root, NS_SOAP, "Body")) != NULL) {
		parse_header(hdr, r);
		parse_body(bd, r);
		rc = 0;
	}
	xmlFreeDoc(doc);
	return rc;
}

void sim_wr_req_release(struct sim_wr_req *r)
{
	free(r->action);
	free(r->resource);
	free(r->message_id);
	free(r->shell_id);
	free(r->command);
	free(r->command_id);
	free(r->signal_code);
	memset(r, 0, sizeof(*r));
}

/* ---- replies ---- */

/* A reply being built. */
struct rep {
	xmlDocPtr doc;
	xmlNodePtr body;
	xmlNsPtr s, a, w, rsp, x;
};

static void new_guid(char *out)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x5a, sizeof(b)); /* never in practice; ids then repeat */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, SIM_WR_ID_LEN,
		 "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

static xmlNodePtr add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *content)
{
	xmlNodePtr n = xmlNewChild(parent, ns, BAD_CAST name, NULL);

	if (n == NULL) {
		fprintf(stderr, "ccrsim: out of memory (libxml2)\n");
		abort();
	}
	if (content != NULL)
		xmlNodeAddContent(n, BAD_CAST content);
	return n;
}

static void rep_start(struct rep *p, const char *action, const char *relates_to)
{
	xmlNodePtr env, hdr;
	char id[SIM_WR_ID_LEN + 5];

	p->doc = xmlNewDoc(BAD_CAST "1.0");
	env = xmlNewNode(NULL, BAD_CAST "Envelope");
	if (p->doc == NULL || env == NULL) {
		fprintf(stderr, "ccrsim: out of memory (libxml2)\n");
		abort();
	}
	xmlDocSetRootElement(p->doc, env);
	xmlNodeSetLang(env, BAD_CAST "en-US");
	p->s = xmlNewNs(env, BAD_CAST NS_SOAP, BAD_CAST "s");
	p->a = xmlNewNs(env, BAD_CAST NS_ADDR, BAD_CAST "a");
	p->x = xmlNewNs(env, BAD_CAST NS_XFER, BAD_CAST "x");
	p->w = xmlNewNs(env, BAD_CAST NS_WSMAN, BAD_CAST "w");
	p->rsp = xmlNewNs(env, BAD_CAST NS_SHELL, BAD_CAST "rsp");
	xmlSetNs(env, p->s);
	hdr = add(env, p->s, "Header", NULL);
	add(hdr, p->a, "Action", action);
	memcpy(id, "uuid:", 5);
	new_guid(id + 5);
	add(hdr, p->a, "MessageID", id);
	add(hdr, p->a, "To", ANON);
	if (relates_to != NULL)
		add(hdr, p->a, "RelatesTo", relates_to);
	p->body = add(env, p->s, "Body", NULL);
}

static void rep_finish(struct rep *p, struct sbuf *resp)
{
	xmlChar *mem = NULL;
	int len = 0;

	xmlDocDumpMemoryEnc(p->doc, &mem, &len, "UTF-8");
	xmlFreeDoc(p->doc);
	if (mem == NULL) {
		fprintf(stderr, "ccrsim: out of memory (libxml2)\n");
		abort();
	}
	sbuf_add(resp, mem, (size_t)len);
	xmlFree(mem);
}

void sim_wr_fault(const struct sim_winrm *wr, int host, const char *relates_to, const char *subcode,
		  const char *code, const char *msg, struct sbuf *resp)
{
	struct rep p;
	xmlNodePtr f, c, sub, wf;
	xmlNsPtr fns;

	rep_start(&p, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to);
	f = add(p.body, p.s, "Fault", NULL);
	c = add(f, p.s, "Code", NULL);
	add(c, p.s, "Value", strcmp(code, CODE_BAD_REQUEST) == 0 ? "s:Sender" : "s:Receiver");
	sub = add(c, p.s, "Subcode", NULL);
	add(sub, p.s, "Value", subcode);
	xmlNodeSetLang(add(add(f, p.s, "Reason", NULL), p.s, "Text", msg), BAD_CAST "en-US");
	wf = add(add(f, p.s, "Detail", NULL), NULL, "WSManFault", NULL);
	fns = xmlNewNs(wf, BAD_CAST NS_FAULT, BAD_CAST "f");
	xmlSetNs(wf, fns);
	xmlNewProp(wf, BAD_CAST "Code", BAD_CAST code);
	xmlNewProp(wf, BAD_CAST "Machine",
		   BAD_CAST(host >= 0 ? sim_host_name(wr->srv->world, host) : "ccrsim"));
	add(wf, fns, "Message", msg);
	rep_finish(&p, resp);
}

/* ---- shells ---- */

/*
 * The shell id of host, if it lives: a shell of an older boot is gone even
 * before the loop's sweep removes it (a reboot between two requests).
 */
static struct sim_wr_shell *shell_find(struct sim_winrm *wr, int host, const char *id)
{
	for (struct sim_wr_shell *s = wr->shells; id != NULL && s != NULL; s = s->next)
		if (s->host == host && strcasecmp(s->id, id) == 0)
			return s->epoch == sim_host_boot_epoch(wr->srv->world, host) ? s : NULL;
	return NULL;
}

static struct sim_wr_cmd *cmd_find(struct sim_wr_shell *s, const char *id)
{
	for (struct sim_wr_cmd *c = s->cmds; id != NULL && c != NULL; c = c->next)
		if (strcasecmp(c->id, id) == 0)
			return c;
	return NULL;
}

static void cmd_free(struct sim_winrm *wr, struct sim_wr_cmd *c, int64_t now)
{
	if (c->a != NULL) {
		if (!c->finished)
			sim_action_abort(c->a, now);
		sim_action_free(c->a);
		wr->srv->running--;
		wr->srv->dirty = 1;
	}
	sbuf_release(&c->out);
	sbuf_release(&c->err);
	free(c);
}

/* Remove command id from shell s (aborting it if it runs). */
static void cmd_remove(struct sim_winrm *wr, struct sim_wr_shell *s, const char *id, int64_t now)
{
	for (struct sim_wr_cmd **pp = &s->cmds; *pp != NULL; pp = &(*pp)->next)
		if (strcasecmp((*pp)->id, id) == 0) {
			struct sim_wr_cmd *c = *pp;
			*pp = c->next;
			cmd_free(wr, c, now);
			return;
		}
}

static void shell_free(struct sim_winrm *wr, struct sim_wr_shell *s, int64_t now)
{
	while (s->cmds != NULL) {
		struct sim_wr_cmd *c = s->cmds;
		s->cmds = c->next;
		cmd_free(wr, c, now);
	}
	free(s);
}

void sim_wr_shells_drop_host(struct sim_winrm *wr, int host, int64_t now)
{
	struct sim_wr_shell **pp = &wr->shells;

	while (*pp != NULL) {
		struct sim_wr_shell *s = *pp;
		if (host >= 0 && s->host != host) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		shell_free(wr, s, now);
	}
}

/* Take output from the action, cut at the drop-after limit (as sim_channel.c does). */
static void cmd_take(struct sim_wr_cmd *c, const struct sbuf *out, const struct sbuf *err)
{
	int64_t limit = sim_drop_limit(c->a, c->produced, &c->drop_base);
	size_t nout = out->len, nerr = err->len;

	if (limit >= 0 && c->produced + (int64_t)(nout + nerr) >= limit) {
		int64_t room = limit > c->produced ? limit - c->produced : 0;
		nout = (size_t)room < nout ? (size_t)room : nout;
		room -= (int64_t)nout;
		nerr = (size_t)room < nerr ? (size_t)room : nerr;
		c->drop = 1;
	}
	sbuf_add(&c->out, out->buf, nout);
	sbuf_add(&c->err, err->buf, nerr);
	c->produced += (int64_t)(nout + nerr);
}

static void cmd_poll(struct sim_winrm *wr, struct sim_wr_cmd *c, int64_t now)
{
	struct sbuf out, err;

	if (c->a == NULL || c->finished || c->drop || sim_action_next_ms(c->a) > now)
		return;
	sbuf_init(&out);
	sbuf_init(&err);
	if (sim_action_poll(c->a, now, &out, &err, &c->exit_code) == 1)
		c->finished = 1;
	sim_log_segments(c->a, sim_host_name(wr->srv->world, c->host), wr->srv->opts->verbose);
	cmd_take(c, &out, &err);
	wr->srv->dirty = 1;
	sbuf_release(&out);
	sbuf_release(&err);
}

/*
 * A command is polled while a Receive waits for it (or in that Receive
 * itself), so that its end and the reply saying so happen in one turn of
 * the loop, as SSH's exit status does: a `shutdown /r` must report its exit
 * status before the reboot takes the shell away.  A command nobody asks
 * about for SIM_WR_IDLE_POLL_MS runs on regardless, as on Windows.
 */
#define SIM_WR_IDLE_POLL_MS 1000

void sim_wr_shells_poll(struct sim_winrm *wr, int64_t now)
{
	int64_t real = now_mono_ms();

	for (struct sim_wr_shell *s = wr->shells; s != NULL; s = s->next)
		for (struct sim_wr_cmd *c = s->cmds; c != NULL; c = c->next)
			if (c->waiting || real - c->last_rx >= SIM_WR_IDLE_POLL_MS)
				cmd_poll(wr, c, now);
}

int64_t sim_wr_shells_next(const struct sim_winrm *wr)
{
	int64_t t = INT64_MAX;

	for (const struct sim_wr_shell *s = wr->shells; s != NULL; s = s->next)
		for (const struct sim_wr_cmd *c = s->cmds; c != NULL; c = c->next)
			if (c->a != NULL && !c->finished && !c->drop && c->waiting &&
			    sim_action_next_ms(c->a) < t)
				t = sim_action_next_ms(c->a);
	return t;
}

/* ---- actions ---- */

static void log_req(struct sim_winrm *wr, int host, const char *what, const char *detail)
{
	if (wr->srv->opts->verbose)
		fprintf(stderr, "ccrsim: %s: winrm %s%s%s\n", sim_host_name(wr->srv->world, host),
			what, detail != NULL ? " " : "", detail != NULL ? detail : "");
}

static enum sim_wr_outcome do_create(struct sim_winrm *wr, int host, const struct sim_wr_req *r,
				     struct sbuf *resp)
{
	struct sim_wr_shell *s = xcalloc(1, sizeof(*s));
	xmlNodePtr rc, ref, set, sel, sh;
	struct rep p;
	char *addr;

	new_guid(s->id);
	s->host = host;
	s->epoch = sim_host_boot_epoch(wr->srv->world, host);
	s->next = wr->shells;
	wr->shells = s;
	log_req(wr, host, "create shell", s->id);
	rep_start(&p, NS_XFER "/CreateResponse", r->message_id);
	rc = add(p.body, p.x, "ResourceCreated", NULL);
	addr = xasprintf("http://%s:%d/wsman", sim_host_addr(wr->srv->world, host),
			 sim_winrm_port(wr->srv->world, host, 0));
	add(rc, p.a, "Address", addr);
	free(addr);
	ref = add(rc, p.a, "ReferenceParameters", NULL);
	add(ref, p.w, "ResourceURI", RES_CMD);
	set = add(ref, p.w, "SelectorSet", NULL);
	sel = add(set, p.w, "Selector", s->id);
	xmlNewProp(sel, BAD_CAST "Name", BAD_CAST "ShellId");
	sh = add(p.body, p.rsp, "Shell", NULL);
	add(sh, p.rsp, "ShellId", s->id);
	add(sh, p.rsp, "ResourceUri", RES_CMD);
	add(sh, p.rsp, "Owner", sim_winrm_user(wr->srv->world));
	add(sh, p.rsp, "InputStreams", "stdin");
	add(sh, p.rsp, "OutputStreams", "stdout stderr");
	rep_finish(&p, resp);
	return SIM_WR_REPLY;
}

static enum sim_wr_outcome do_command(struct sim_winrm *wr, struct sim_wr_shell *s,
				      const struct sim_wr_req *r, int64_t now, struct sbuf *resp)
{
	struct sim_wr_cmd *c = xcalloc(1, sizeof(*c));
	struct rep p;

	new_guid(c->id);
	c->host = s->host;
	c->drop_base = -1;
	sbuf_init(&c->out);
	sbuf_init(&c->err);
	log_req(wr, s->host, "exec", r->command);
	c->a = sim_exec(wr->srv->world, s->host, r->command, now);
	wr->srv->running++;
	wr->srv->dirty = 1;
	c->next = s->cmds;
	s->cmds = c;
	c->last_rx = now_mono_ms(); /* polled from the first Receive on */
	rep_start(&p, NS_SHELL "/CommandResponse", r->message_id);
	add(add(p.body, p.rsp, "CommandResponse", NULL), p.rsp, "CommandId", c->id);
	rep_finish(&p, resp);
	return SIM_WR_REPLY;
}

/* base64 of n bytes of sb into a new rsp:Stream; the bytes are consumed. */
static void add_stream(struct rep *p, xmlNodePtr parent, const char *name, const char *cmd_id,
		       struct sbuf *sb, size_t n)
{
	xmlNodePtr st = add(parent, p->rsp, "Stream", NULL);
	char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)sb->buf, (int)n);
	xmlNodeAddContent(st, BAD_CAST b64);
	free(b64);
	xmlNewProp(st, BAD_CAST "Name", BAD_CAST name);
	xmlNewProp(st, BAD_CAST "CommandId", BAD_CAST cmd_id);
	memmove(sb->buf, sb->buf + n, sb->len - n);
	sb->len -= n;
	sb->buf[sb->len] = '\0';
}

static enum sim_wr_outcome do_receive(struct sim_wr_cmd *c, const struct sim_wr_req *r,
				      struct sbuf *resp)
{
	/* Room for output: the client's envelope limit, less the XML around it, as base64. */
	int64_t env = r->max_env > 0 ? r->max_env : SIM_WINRM_MAX_ENVELOPE;
	size_t room = env > 4096 ? (size_t)((env - 2048) / 4 * 3) : 1024;
	size_t nout = c->out.len < room ? c->out.len : room;
	size_t nerr = c->err.len < room - nout ? c->err.len : room - nout;
	int done = c->finished && !c->drop && nout == c->out.len && nerr == c->err.len;
	xmlNodePtr rr, st;
	struct rep p;

	rep_start(&p, NS_SHELL "/ReceiveResponse", r->message_id);
	rr = add(p.body, p.rsp, "ReceiveResponse", NULL);
	if (nout > 0)
		add_stream(&p, rr, "stdout", c->id, &c->out, nout);
	if (nerr > 0)
		add_stream(&p, rr, "stderr", c->id, &c->err, nerr);
	st = add(rr, p.rsp, "CommandState", NULL);
	xmlNewProp(st, BAD_CAST "CommandId", BAD_CAST c->id);
	xmlNewProp(
	    st, BAD_CAST "State",
	    BAD_CAST(done ? NS_SHELL "/CommandState/Done" : NS_SHELL "/CommandState/Running"));
	if (done) {
		char code[16];
		snprintf(code, sizeof(code), "%d", c->exit_code);
		add(st, p.rsp, "ExitCode", code);
	}
	rep_finish(&p, resp);
	return SIM_WR_REPLY;
}

static enum sim_wr_outcome do_signal(struct sim_winrm *wr, struct sim_wr_shell *s,
				     const struct sim_wr_req *r, int64_t now, struct sbuf *resp)
{
	struct rep p;

	log_req(wr, s->host, "signal", r->signal_code);
	if (r->signal_code != NULL && strstr(r->signal_code, "/signal/terminate") != NULL)
		cmd_remove(wr, s, r->command_id, now);
	rep_start(&p, NS_SHELL "/SignalResponse", r->message_id);
	add(p.body, p.rsp, "SignalResponse", NULL);
	rep_finish(&p, resp);
	return SIM_WR_REPLY;
}

static enum sim_wr_outcome do_delete(struct sim_winrm *wr, struct sim_wr_shell *s,
				     const struct sim_wr_req *r, int64_t now, struct sbuf *resp)
{
	struct rep p;

	log_req(wr, s->host, "delete shell", s->id);
	for (struct sim_wr_shell **pp = &wr->shells; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	shell_free(wr, s, now);
	rep_start(&p, NS_XFER "/DeleteResponse", r->message_id);
	rep_finish(&p, resp);
	return SIM_WR_REPLY;
}

static enum sim_wr_outcome fault(struct sim_winrm *wr, int host, const struct sim_wr_req *r,
				 const char *sub, const char *code, const char *msg,
				 struct sbuf *resp, int *status)
{
	sim_wr_fault(wr, host, r->message_id, sub, code, msg, resp);
	*status = 500;
	return SIM_WR_REPLY;
}

static enum sim_wr_outcome no_shell(struct sim_winrm *wr, int host, const struct sim_wr_req *r,
				    struct sbuf *resp, int *status)
{
	char *msg = xasprintf("The request for the Windows Remote Shell with ShellId %s failed "
			      "because the shell was not found on the server. Possible causes are: "
			      "the specified ShellId is incorrect or the shell no longer exists on "
			      "the server. Provide the correct ShellId or create a new shell and "
			      "retry the operation. ",
			      r->shell_id != NULL ? r->shell_id : "(none)");
	enum sim_wr_outcome o =
	    fault(wr, host, r, "w:InvalidSelectors", CODE_NO_SHELL, msg, resp, status);

	free(msg);
	return o;
}

/* Receive: output (or Done) now, hold, time out, or the drop fault. */
static enum sim_wr_outcome receive(struct sim_winrm *wr, struct sim_wr_shell *s,
				   const struct sim_wr_req *r, int64_t now, int timed_out,
				   struct sbuf *resp, int *status)
{
	struct sim_wr_cmd *c = cmd_find(s, r->command_id);

	if (c == NULL)
		return fault(wr, s->host, r, "w:InvalidParameter", CODE_BAD_REQUEST,
			     "The WS-Management service cannot process the request because the "
			     "CommandId is not valid for this shell. ",
			     resp, status);
	c->last_rx = now_mono_ms();
	cmd_poll(wr, c, now);
	c->waiting = 0;
	/* With the drop fault, the output before the cut goes out, then the connection
	 * is cut: the exit status is never sent (as over SSH). */
	if (c->out.len > 0 || c->err.len > 0 || (c->finished && !c->drop))
		return do_receive(c, r, resp);
	if (c->drop)
		return SIM_WR_DROP;
	if (!timed_out) {
		c->waiting = 1;
		return SIM_WR_WAIT;
	}
	return fault(wr, s->host, r, "w:TimedOut", CODE_TIMED_OUT,
		     "The WS-Management service cannot complete the operation within the time "
		     "specified in OperationTimeout.  ",
		     resp, status);
}

enum sim_wr_outcome sim_wr_handle(struct sim_winrm *wr, int host, const struct sim_wr_req *r,
				  int64_t now, int timed_out, struct sbuf *resp, int *status)
{
	const char *act = r->action != NULL ? r->action : "";
	struct sim_wr_shell *s;

	*status = 200;
	if (r->resource == NULL || strcasecmp(r->resource, RES_CMD) != 0 || r->message_id == NULL)
		return fault(wr, host, r, "a:DestinationUnreachable", CODE_UNSUPPORTED,
			     "The WS-Management service cannot process the request. The resource "
			     "URI is missing or is not supported by this endpoint. ",
			     resp, status);
	if (strcmp(act, NS_XFER "/Create") == 0)
		return do_create(wr, host, r, resp);
	if (strcmp(act, NS_SHELL "/Command") != 0 && strcmp(act, NS_SHELL "/Receive") != 0 &&
	    strcmp(act, NS_SHELL "/Signal") != 0 && strcmp(act, NS_XFER "/Delete") != 0)
		return fault(wr, host, r, "a:ActionNotSupported", CODE_UNSUPPORTED,
			     "The WS-Management service cannot process the request because the "
			     "specified action is not supported for this resource. ",
			     resp, status);
	if ((s = shell_find(wr, host, r->shell_id)) == NULL)
		return no_shell(wr, host, r, resp, status);
	if (strcmp(act, NS_XFER "/Delete") == 0)
		return do_delete(wr, s, r, now, resp);
	if (strcmp(act, NS_SHELL "/Signal") == 0)
		return do_signal(wr, s, r, now, resp);
	if (strcmp(act, NS_SHELL "/Receive") == 0)
		return receive(wr, s, r, now, timed_out, resp, status);
	if (r->command == NULL || r->command[0] == '\0')
		return fault(wr, host, r, "w:InvalidParameter", CODE_BAD_REQUEST,
			     "The WS-Management service cannot process the request because the "
			     "command line is missing. ",
			     resp, status);
	return do_command(wr, s, r, now, resp);
}
