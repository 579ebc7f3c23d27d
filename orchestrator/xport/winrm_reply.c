/*
 * winrm_reply.c — see winrm_soap.h: reading a WS-Management reply.
 *
 * A reply is read with libxml2's SAX2 interface, in one pass and without
 * building a tree: the reader keeps the depth of the few elements that give
 * context (the SOAP Body, its Fault, the fault's Subcode and WSManFault, the
 * CommandState) and collects the text of the elements ccrup wants.  Each
 * value is taken from the first such element in document order, which is
 * what a depth-first search of the tree gave; elements are matched by
 * namespace URI and local name, never by prefix (s:, rsp:, w: differ between
 * Windows versions).  Every output stream is decoded as its element closes.
 * Building the tree, searching it and freeing it was most of what reading a
 * reply cost.
 *
 * A reply is refused ("not a SOAP envelope") when it is not well-formed,
 * its root is not a SOAP Envelope, it has no Body, or it carries a document
 * type declaration (SOAP 1.2 forbids one; no DTD is read, no entity is
 * defined, nothing is fetched).
 */
#include "winrm_soap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

/* The texts a reply can give, each from the first such element. */
enum field {
	F_RELATES,  /* a:RelatesTo, anywhere */
	F_SELECTOR, /* the Body's first w:Selector (the ShellId when Name="ShellId") */
	F_SHELL,    /* the Body's first rsp:ShellId */
	F_COMMAND,  /* the Body's first rsp:CommandId */
	F_SUBVALUE, /* the Fault's first Subcode's first Value */
	F_TEXT,	    /* the Fault's first Text */
	F_MESSAGE,  /* the Fault's first WSManFault's first Message */
	F_EXIT,	    /* the first CommandState's first ExitCode */
	F_STREAM,   /* the rsp:Stream being read (every one, in order) */
	N_FIELDS
};

/* Where a context element is: the depth it was opened at while open, then 0. */
struct place {
	int depth; /* while open, its depth (the root is 1); 0 when closed or not met */
	int seen;  /* met once: the first counts */
};

/* One reply being read. */
struct reader {
	struct wsman_reply *r;	    /* what is filled */
	int depth;		    /* of the element being read */
	int root_ok;		    /* the root is a SOAP Envelope */
	int has_dtd;		    /* a DOCTYPE was met */
	int bad_stream;		    /* a stream is not valid base64 */
	struct place body;	    /* the first SOAP Body */
	struct place fault;	    /* its first Fault */
	struct place subcode;	    /* the Fault's first Subcode */
	struct place wsmanfault;    /* the Fault's first WSManFault */
	struct place state;	    /* the Body's first CommandState */
	int cap[N_FIELDS];	    /* depth of the element whose text is collected, or 0 */
	int seen[N_FIELDS];	    /* the field's element was met */
	struct sbuf text[N_FIELDS]; /* collected text */
	char *selector_name;	    /* Name of the first Selector */
	char *wf_code;		    /* Code of the first WSManFault */
	char *state_name;	    /* State of the first CommandState */
	int stream_err;		    /* the open stream is stderr */
};

void wsman_reply_init(struct wsman_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	sbuf_init(&r->out);
	sbuf_init(&r->err);
}

void wsman_reply_release(struct wsman_reply *r)
{
	free(r->fault_code);
	free(r->fault_text);
	free(r->relates_to);
	free(r->shell_id);
	free(r->command_id);
	sbuf_release(&r->out);
	sbuf_release(&r->err);
	memset(r, 0, sizeof(*r)); /* nothing left to free: wsman_reply_init() before reuse */
	r->exit_code = -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The value of a base64 digit, or -1. */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/*
 * One pass, whitespace skipped: whole quads, with '=' padding (at most two)
 * only at the very end.  On bad input out is put back as it was.
 */
int wsman_b64_decode(const char *s, size_t len, struct sbuf *out)
{
	size_t start = out->len, n = 0, pad = 0;
	unsigned acc = 0;

	for (size_t i = 0; i < len; i++) {
		int v = s[i] == '=' ? 0 : b64_value(s[i]);

		if (is_space(s[i]))
			continue;
		if (v < 0 || (pad > 0 && s[i] != '=') || (s[i] == '=' && ++pad > 2))
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		if (++n % 4 == 0) {
			char b[3] = {(char)(acc >> 16), (char)(acc >> 8), (char)acc};

			sbuf_add(out, b, 3 - pad);
			acc = 0;
		}
	}
	if (n % 4 == 0)
		return 0;
bad:
	if (out->buf != NULL) {
		out->len = start;
		out->buf[start] = '\0';
	}
	return -1;
}

static int is(const xmlChar *uri, const xmlChar *local, const char *ns, const char *name)
{
	return uri != NULL && strcmp((const char *)uri, ns) == 0 &&
	       strcmp((const char *)local, name) == 0;
}

/* The value of the first attribute called name (any namespace, as xmlGetProp), or NULL. */
static char *attr(int n, const xmlChar **attrs, const char *name)
{
	for (int i = 0; i < n; i++, attrs += 5)
		if (strcmp((const char *)attrs[0], name) == 0)
			return xstrndup((const char *)attrs[3], (size_t)(attrs[4] - attrs[3]));
	return NULL;
}

/* Start collecting f's text at this element if it is f's first. */
static void capture(struct reader *rd, enum field f)
{
	if (rd->seen[f] && f != F_STREAM)
		return;
	rd->seen[f] = 1;
	rd->cap[f] = rd->depth;
}

/* Open a context element if it is the first of its kind. */
static int enter(struct reader *rd, struct place *p)
{
	if (p->seen)
		return 0;
	p->seen = 1;
	p->depth = rd->depth;
	return 1;
}

/* An element inside the Fault. */
static void in_fault(struct reader *rd, const xmlChar *local, const xmlChar *uri, int na,
		     const xmlChar **attrs)
{
	if (is(uri, local, WSMAN_NS_FAULT, "WSManFault")) {
		if (enter(rd, &rd->wsmanfault))
			rd->wf_code = attr(na, attrs, "Code");
	} else if (is(uri, local, WSMAN_NS_SOAP, "Subcode")) {
		(void)enter(rd, &rd->subcode);
	} else if (rd->subcode.depth > 0 && is(uri, local, WSMAN_NS_SOAP, "Value")) {
		capture(rd, F_SUBVALUE);
	}
	if (is(uri, local, WSMAN_NS_SOAP, "Text"))
		capture(rd, F_TEXT);
	if (rd->wsmanfault.depth > 0 && rd->wsmanfault.depth < rd->depth &&
	    is(uri, local, WSMAN_NS_FAULT, "Message"))
		capture(rd, F_MESSAGE);
}

/* An element inside the Body. */
static void in_body(struct reader *rd, const xmlChar *local, const xmlChar *uri, int na,
		    const xmlChar **attrs)
{
	if (rd->fault.depth > 0) {
		in_fault(rd, local, uri, na, attrs);
	} else if (is(uri, local, WSMAN_NS_SOAP, "Fault")) {
		(void)enter(rd, &rd->fault);
	}
	if (is(uri, local, WSMAN_NS_WSMAN, "Selector")) {
		if (!rd->seen[F_SELECTOR])
			rd->selector_name = attr(na, attrs, "Name");
		capture(rd, F_SELECTOR);
	} else if (is(uri, local, WSMAN_NS_SHELL, "ShellId")) {
		capture(rd, F_SHELL);
	} else if (is(uri, local, WSMAN_NS_SHELL, "CommandId")) {
		capture(rd, F_COMMAND);
	} else if (is(uri, local, WSMAN_NS_SHELL, "Stream") && rd->cap[F_STREAM] == 0) {
		char *name = attr(na, attrs, "Name");

		rd->stream_err = name != NULL && strcmp(name, "stderr") == 0;
		free(name);
		capture(rd, F_STREAM);
	} else if (is(uri, local, WSMAN_NS_SHELL, "CommandState")) {
		if (enter(rd, &rd->state))
			rd->state_name = attr(na, attrs, "State");
	} else if (rd->state.depth > 0 && is(uri, local, WSMAN_NS_SHELL, "ExitCode")) {
		capture(rd, F_EXIT);
	}
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
		     int nns, const xmlChar **nss, int na, int ndef, const xmlChar **attrs)
{
	struct reader *rd = ctx;

	(void)prefix, (void)nns, (void)nss, (void)ndef;
	rd->depth++;
	if (rd->depth == 1) {
		rd->root_ok = is(uri, local, WSMAN_NS_SOAP, "Envelope");
		return;
	}
	if (is(uri, local, WSMAN_NS_ADDR, "RelatesTo"))
		capture(rd, F_RELATES);
	if (rd->body.depth > 0)
		in_body(rd, local, uri, na, attrs);
	else if (is(uri, local, WSMAN_NS_SOAP, "Body"))
		(void)enter(rd, &rd->body);
}

/* The open output stream closed: decode it onto stdout or stderr. */
static void stream_end(struct reader *rd)
{
	struct sbuf *t = &rd->text[F_STREAM];

	if (!rd->bad_stream &&
	    wsman_b64_decode(t->buf, t->len, rd->stream_err ? &rd->r->err : &rd->r->out) != 0)
		rd->bad_stream = 1;
	sbuf_reset(t);
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	struct reader *rd = ctx;
	struct place *places[] = {&rd->body, &rd->fault, &rd->subcode, &rd->wsmanfault, &rd->state};

	(void)local, (void)prefix, (void)uri;
	for (int f = 0; f < N_FIELDS; f++)
		if (rd->cap[f] == rd->depth) {
			rd->cap[f] = 0;
			if (f == F_STREAM)
				stream_end(rd);
		}
	for (size_t i = 0; i < CCR_ARRAY_LEN(places); i++)
		if (places[i]->depth == rd->depth)
			places[i]->depth = 0;
	rd->depth--;
}

/* Text and CDATA go to every element collecting (an element's text is all text inside it). */
static void on_text(void *ctx, const xmlChar *s, int len)
{
	struct reader *rd = ctx;

	for (int f = 0; f < N_FIELDS; f++)
		if (rd->cap[f] > 0)
			sbuf_add(&rd->text[f], s, (size_t)len);
}

static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	(void)name, (void)eid, (void)sid;
	((struct reader *)ctx)->has_dtd = 1;
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	(void)ctx, (void)e; /* a refused reply says "not a SOAP envelope" */
}

/* f's text, trimmed, as a new string; NULL if its element was not met. */
static char *take(struct reader *rd, enum field f)
{
	const char *s = rd->text[f].buf != NULL ? rd->text[f].buf : "";
	size_t n = rd->text[f].len;

	if (!rd->seen[f])
		return NULL;
	while (n > 0 && is_space(*s))
		s++, n--;
	while (n > 0 && is_space(s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static void take_fault(struct reader *rd, struct wsman_reply *r)
{
	r->fault = 1;
	r->fault_code = rd->wf_code;
	rd->wf_code = NULL;
	if (r->fault_code == NULL && rd->subcode.seen)
		r->fault_code = take(rd, F_SUBVALUE);
	r->fault_text = take(rd, F_TEXT);
	if (r->fault_text == NULL && rd->wsmanfault.seen)
		r->fault_text = take(rd, F_MESSAGE);
	sbuf_reset(&r->out); /* a fault's streams are not output */
	sbuf_reset(&r->err);
}

/* After a well-formed envelope: fill r from what was read. */
static int reader_finish(struct reader *rd, struct wsman_reply *r)
{
	char *code;
	int64_t v;

	if (rd->fault.seen) {
		take_fault(rd, r);
		return 0;
	}
	if (rd->selector_name != NULL && strcmp(rd->selector_name, "ShellId") == 0)
		r->shell_id = take(rd, F_SELECTOR);
	if (r->shell_id == NULL)
		r->shell_id = take(rd, F_SHELL);
	r->command_id = take(rd, F_COMMAND);
	if (rd->bad_stream) {
		r->fault_text = xstrdup("a stream is not valid base64");
		return -1;
	}
	if (rd->state_name != NULL && strcmp(rd->state_name, WSMAN_STATE_DONE) == 0) {
		r->done = 1;
		code = take(rd, F_EXIT);
		if (code != NULL && parse_int64(code, INT32_MIN, UINT32_MAX, &v) == 0)
			r->exit_code = (int)v; /* Windows exit codes are DWORDs: keep the bits */
		free(code);
	}
	return 0;
}

static void reader_release(struct reader *rd)
{
	for (int f = 0; f < N_FIELDS; f++)
		sbuf_release(&rd->text[f]);
	free(rd->selector_name);
	free(rd->wf_code);
	free(rd->state_name);
}

/* libxml2's context, kept between replies (making one was half of reading a reply). */
struct wsman_reader {
	xmlParserCtxtPtr ctxt; /* a push parser calling the handlers below, or NULL */
};

struct wsman_reader *wsman_reader_new(void)
{
	return xcalloc(1, sizeof(struct wsman_reader));
}

void wsman_reader_free(struct wsman_reader *p)
{
	if (p == NULL)
		return;
	if (p->ctxt != NULL)
		xmlFreeParserCtxt(p->ctxt);
	free(p);
}

/* Run the SAX parse of buf into rd with p's context: 0 if well-formed, else -1. */
static int reader_parse(struct wsman_reader *p, struct reader *rd, const char *buf, size_t len)
{
	/* The first bytes go first: libxml2 detects the encoding from them. */
	size_t head = len < 4 ? len : 4;

	if (p->ctxt == NULL) {
		xmlSAXHandler sax;

		memset(&sax, 0, sizeof(sax));
		sax.initialized = XML_SAX2_MAGIC;
		sax.startElementNs = on_start;
		sax.endElementNs = on_end;
		sax.characters = on_text;
		sax.ignorableWhitespace = on_text;
		sax.cdataBlock = on_text;
		sax.internalSubset = on_dtd;
		sax.serror = on_error;
		p->ctxt = xmlCreatePushParserCtxt(&sax, rd, buf, (int)head, "reply.xml");
		if (p->ctxt == NULL) {
			fprintf(stderr, "ccrup: out of memory (libxml2)\n");
			abort();
		}
	} else if (xmlCtxtResetPush(p->ctxt, buf, (int)head, "reply.xml", NULL) != 0) {
		return -1;
	}
	p->ctxt->userData = rd;
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (xmlParseChunk(p->ctxt, buf + head, (int)(len - head), 1) != 0 || !p->ctxt->wellFormed)
		return -1;
	return 0;
}

int wsman_parse_reply(const char *buf, size_t len, struct wsman_reply *r)
{
	struct wsman_reader *p = wsman_reader_new();
	int rc = wsman_reader_parse(p, buf, len, r);

	wsman_reader_free(p);
	return rc;
}

int wsman_reader_parse(struct wsman_reader *p, const char *buf, size_t len, struct wsman_reply *r)
{
	struct reader rd;
	int rc = -1;

	wsman_reply_release(r);
	wsman_reply_init(r);
	memset(&rd, 0, sizeof(rd));
	rd.r = r;
	for (int f = 0; f < N_FIELDS; f++)
		sbuf_init(&rd.text[f]);
	if (len > INT_MAX || reader_parse(p, &rd, buf, len) != 0 || !rd.root_ok || rd.has_dtd ||
	    !rd.body.seen) {
		wsman_reply_release(r);
		wsman_reply_init(r);
		r->fault_text = xstrdup("not a SOAP envelope");
		goto out;
	}
	r->relates_to = take(&rd, F_RELATES);
	rc = reader_finish(&rd, r);
out:
	reader_release(&rd);
	return rc;
}
