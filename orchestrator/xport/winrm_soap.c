/*
 * winrm_soap.c — see winrm_soap.h.  Requests are built as libxml2 trees
 * (so every text is escaped by the library, never by us) and serialised;
 * replies are parsed into a tree and searched by namespace and local name,
 * which is how Windows' replies are meant to be read: the prefixes (s:, rsp:,
 * w:) differ between Windows versions and must not matter.
 */
#include "winrm_soap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/rand.h>

/* The namespaces declared on every request's Envelope, prefix and URI. */
static const char *const req_ns[][2] = {
    {"env", WSMAN_NS_SOAP}, {"a", WSMAN_NS_ADDR},    {"w", WSMAN_NS_WSMAN},
    {"p", WSMAN_NS_MSWS},   {"rsp", WSMAN_NS_SHELL},
};

/* A request being built: the document and its namespaces by prefix. */
struct req {
	xmlDocPtr doc;
	xmlNodePtr header;
	xmlNodePtr body;
	xmlNsPtr ns[CCR_ARRAY_LEN(req_ns)];
};

void wsman_global_init(void)
{
	xmlInitParser();
}

static xmlNsPtr req_nsp(struct req *r, const char *prefix)
{
	for (size_t i = 0; i < CCR_ARRAY_LEN(req_ns); i++)
		if (strcmp(req_ns[i][0], prefix) == 0)
			return r->ns[i];
	return NULL;
}

/* "prefix:name" child of parent with optional text (escaped by libxml2). */
static xmlNodePtr add(struct req *r, xmlNodePtr parent, const char *qname, const char *text)
{
	char prefix[8];
	const char *colon = strchr(qname, ':');
	size_t n = (size_t)(colon - qname);
	xmlNodePtr node;

	memcpy(prefix, qname, n);
	prefix[n] = '\0';
	node = xmlNewChild(parent, req_nsp(r, prefix), BAD_CAST(colon + 1), NULL);
	if (node == NULL) {
		fprintf(stderr, "ccrup: out of memory (libxml2)\n");
		abort();
	}
	if (text != NULL)
		xmlNodeAddContent(node, BAD_CAST text);
	return node;
}

static void must_understand(xmlNodePtr n, const char *v)
{
	xmlNewProp(n, BAD_CAST "mustUnderstand", BAD_CAST v);
}

/* "uuid:8-4-4-4-12" from 16 random bytes (version 4). */
static void new_msgid(char *out)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		fprintf(stderr, "ccrup: no random bytes for a message id\n");
		abort();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 48,
		 "uuid:%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

/* ISO 8601 duration of ms: "PT20S" or "PT0.500S". */
static void duration(int64_t ms, char *out, size_t n)
{
	if (ms % 1000 == 0)
		snprintf(out, n, "PT%lldS", (long long)(ms / 1000));
	else
		snprintf(out, n, "PT%lld.%03lldS", (long long)(ms / 1000), (long long)(ms % 1000));
}

static void req_header(struct req *r, const struct wsman_hdr *h, char *msgid)
{
	char num[48];
	xmlNodePtr n;

	add(r, r->header, "a:To", h->to);
	n = add(r, add(r, r->header, "a:ReplyTo", NULL), "a:Address", WSMAN_ANONYMOUS);
	must_understand(n, "true");
	snprintf(num, sizeof(num), "%lld", (long long)h->max_envelope_size);
	must_understand(add(r, r->header, "w:MaxEnvelopeSize", num), "true");
	new_msgid(msgid);
	add(r, r->header, "a:MessageID", msgid);
	n = add(r, r->header, "w:Locale", NULL);
	must_understand(n, "false");
	xmlNodeSetLang(n, BAD_CAST(h->locale ? h->locale : "en-US"));
	n = add(r, r->header, "p:DataLocale", NULL);
	must_understand(n, "false");
	xmlNodeSetLang(n, BAD_CAST(h->locale ? h->locale : "en-US"));
	duration(h->operation_timeout_ms, num, sizeof(num));
	add(r, r->header, "w:OperationTimeout", num);
	must_understand(add(r, r->header, "w:ResourceURI", WSMAN_RESOURCE_CMD), "true");
	must_understand(add(r, r->header, "a:Action", h->action), "true");
	if (h->shell_id != NULL) {
		n = add(r, add(r, r->header, "w:SelectorSet", NULL), "w:Selector", h->shell_id);
		xmlNewProp(n, BAD_CAST "Name", BAD_CAST "ShellId");
	}
}

static void req_start(struct req *r, struct wsman_hdr *h, const char *action, char *msgid)
{
	xmlNodePtr env;

	h->action = action;
	r->doc = xmlNewDoc(BAD_CAST "1.0");
	env = xmlNewNode(NULL, BAD_CAST "Envelope");
	if (r->doc == NULL || env == NULL) {
		fprintf(stderr, "ccrup: out of memory (libxml2)\n");
		abort();
	}
	xmlDocSetRootElement(r->doc, env);
	for (size_t i = 0; i < CCR_ARRAY_LEN(req_ns); i++)
		r->ns[i] = xmlNewNs(env, BAD_CAST req_ns[i][1], BAD_CAST req_ns[i][0]);
	xmlSetNs(env, r->ns[0]);
	r->header = add(r, env, "env:Header", NULL);
	r->body = add(r, env, "env:Body", NULL);
	req_header(r, h, msgid);
}

static void option(struct req *r, xmlNodePtr set, const char *name, const char *value)
{
	xmlNewProp(add(r, set, "w:Option", value), BAD_CAST "Name", BAD_CAST name);
}

/* Serialise and free the document.  Caller frees the text. */
static char *req_finish(struct req *r)
{
	xmlChar *mem = NULL;
	int len = 0;
	char *out;

	xmlDocDumpMemoryEnc(r->doc, &mem, &len, "UTF-8");
	xmlFreeDoc(r->doc);
	if (mem == NULL) {
		fprintf(stderr, "ccrup: out of memory (libxml2)\n");
		abort();
	}
	out = xmalloc((size_t)len + 1);
	memcpy(out, mem, (size_t)len);
	out[len] = '\0';
	xmlFree(mem);
	return out;
}

char *wsman_build_create(struct wsman_hdr *h, int codepage, char *msgid)
{
	struct req r;
	xmlNodePtr set, shell;
	char cp[16];

	req_start(&r, h, WSMAN_ACTION_CREATE, msgid);
	set = add(&r, r.header, "w:OptionSet", NULL);
	option(&r, set, "WINRS_NOPROFILE", "TRUE");
	snprintf(cp, sizeof(cp), "%d", codepage);
	option(&r, set, "WINRS_CODEPAGE", cp);
	shell = add(&r, r.body, "rsp:Shell", NULL);
	add(&r, shell, "rsp:InputStreams", "stdin");
	add(&r, shell, "rsp:OutputStreams", "stdout stderr");
	return req_finish(&r);
}

char *wsman_build_command(struct wsman_hdr *h, const char *cmdline, char *msgid)
{
	struct req r;
	xmlNodePtr set, line;

	req_start(&r, h, WSMAN_ACTION_COMMAND, msgid);
	set = add(&r, r.header, "w:OptionSet", NULL);
	option(&r, set, "WINRS_CONSOLEMODE_STDIN", "TRUE");
	option(&r, set, "WINRS_SKIP_CMD_SHELL", "FALSE");
	line = add(&r, r.body, "rsp:CommandLine", NULL);
	add(&r, line, "rsp:Command", cmdline);
	return req_finish(&r);
}

char *wsman_build_receive(struct wsman_hdr *h, const char *command_id, char *msgid)
{
	struct req r;
	xmlNodePtr ds;

	req_start(&r, h, WSMAN_ACTION_RECEIVE, msgid);
	ds = add(&r, add(&r, r.body, "rsp:Receive", NULL), "rsp:DesiredStream", "stdout stderr");
	xmlNewProp(ds, BAD_CAST "CommandId", BAD_CAST command_id);
	return req_finish(&r);
}

char *wsman_build_signal(struct wsman_hdr *h, const char *command_id, const char *code, char *msgid)
{
	struct req r;
	xmlNodePtr sig;

	req_start(&r, h, WSMAN_ACTION_SIGNAL, msgid);
	sig = add(&r, r.body, "rsp:Signal", NULL);
	xmlNewProp(sig, BAD_CAST "CommandId", BAD_CAST command_id);
	add(&r, sig, "rsp:Code", code);
	return req_finish(&r);
}

char *wsman_build_delete(struct wsman_hdr *h, char *msgid)
{
	struct req r;

	req_start(&r, h, WSMAN_ACTION_DELETE, msgid);
	return req_finish(&r);
}

/* ---- replies ---- */

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

static int is(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrcmp(n->ns->href, BAD_CAST ns) == 0 && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* The first element {ns}name at or below n, depth first, or NULL. */
static xmlNodePtr find(xmlNodePtr n, const char *ns, const char *name)
{
	for (; n != NULL; n = n->next) {
		xmlNodePtr hit;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is(n, ns, name))
			return n;
		if ((hit = find(n->children, ns, name)) != NULL)
			return hit;
	}
	return NULL;
}

/* The element's text, trimmed, as a new string; NULL for no element. */
static char *text_of(xmlNodePtr n)
{
	xmlChar *t;
	char *s, *e;

	if (n == NULL)
		return NULL;
	t = xmlNodeGetContent(n);
	s = xstrdup(t != NULL ? (const char *)t : "");
	xmlFree(t);
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]) != NULL)
		*--e = '\0';
	if (strspn(s, " \t\r\n") > 0)
		memmove(s, s + strspn(s, " \t\r\n"), strlen(s + strspn(s, " \t\r\n")) + 1);
	return s;
}

static char *attr_of(xmlNodePtr n, const char *name)
{
	xmlChar *v = n != NULL ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = v != NULL ? xstrdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

/* The value of a base64 digit, or -1. */
static int b64_value(char c)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

/*
 * Whitespace is dropped first; then the text must be whole quads, with
 * '=' padding (at most two) only at the very end.
 */
int wsman_b64_decode(const char *s, size_t len, struct sbuf *out)
{
	struct sbuf clean;
	size_t pad = 0;
	int rc = -1;

	sbuf_init(&clean);
	for (size_t i = 0; i < len; i++)
		if (strchr(" \t\r\n", s[i]) == NULL || s[i] == '\0')
			sbuf_addc(&clean, s[i]);
	while (pad < clean.len && pad < 3 && clean.buf[clean.len - 1 - pad] == '=')
		pad++;
	if (clean.len % 4 != 0 || pad > 2)
		goto out;
	for (size_t i = 0; i < clean.len - pad; i++)
		if (b64_value(clean.buf[i]) < 0)
			goto out;
	for (size_t i = 0; i < clean.len; i += 4) {
		unsigned acc = 0;
		char b[3];
		size_t n = i + 4 == clean.len ? 3 - pad : 3;

		for (size_t k = 0; k < 4; k++)
			acc =
			    (acc << 6) |
			    (clean.buf[i + k] == '=' ? 0u : (unsigned)b64_value(clean.buf[i + k]));
		b[0] = (char)(acc >> 16);
		b[1] = (char)(acc >> 8);
		b[2] = (char)acc;
		sbuf_add(out, b, n);
	}
	rc = 0;
out:
	sbuf_release(&clean);
	return rc;
}

/* Append every rsp:Stream under n to r (stdout/stderr by Name). */
static int take_streams(xmlNodePtr n, struct wsman_reply *r)
{
	for (; n != NULL; n = n->next) {
		if (is(n, WSMAN_NS_SHELL, "Stream")) {
			char *name = attr_of(n, "Name");
			xmlChar *t = xmlNodeGetContent(n);
			struct sbuf *dst = name && strcmp(name, "stderr") == 0 ? &r->err : &r->out;
			int rc = t != NULL && wsman_b64_decode((const char *)t,
							       strlen((const char *)t), dst) != 0;

			xmlFree(t);
			free(name);
			if (rc != 0)
				return -1;
		} else if (n->type == XML_ELEMENT_NODE && take_streams(n->children, r) != 0) {
			return -1;
		}
	}
	return 0;
}

static void take_fault(xmlNodePtr fault, struct wsman_reply *r)
{
	xmlNodePtr wf = find(fault->children, WSMAN_NS_FAULT, "WSManFault");
	xmlNodePtr sub = find(fault->children, WSMAN_NS_SOAP, "Subcode");

	r->fault = 1;
	r->fault_code = attr_of(wf, "Code");
	if (r->fault_code == NULL && sub != NULL)
		r->fault_code = text_of(find(sub->children, WSMAN_NS_SOAP, "Value"));
	r->fault_text = text_of(find(fault->children, WSMAN_NS_SOAP, "Text"));
	if (r->fault_text == NULL && wf != NULL)
		r->fault_text = text_of(find(wf->children, WSMAN_NS_FAULT, "Message"));
}

static void take_state(xmlNodePtr root, struct wsman_reply *r)
{
	xmlNodePtr st = find(root, WSMAN_NS_SHELL, "CommandState");
	char *state = attr_of(st, "State");
	char *code;
	int64_t v;

	if (state != NULL && strcmp(state, WSMAN_STATE_DONE) == 0) {
		r->done = 1;
		code = text_of(find(st->children, WSMAN_NS_SHELL, "ExitCode"));
		if (code != NULL && parse_int64(code, INT32_MIN, UINT32_MAX, &v) == 0)
			r->exit_code = (int)v; /* Windows exit codes are DWORDs: keep the bits */
		free(code);
	}
	free(state);
}

int wsman_parse_reply(const char *buf, size_t len, struct wsman_reply *r)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, body, n;
	int rc = -1;

	wsman_reply_release(r);
	wsman_reply_init(r);
	if (len > INT32_MAX)
		goto bad;
	doc = xmlReadMemory(buf, (int)len, "reply.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (!is(root, WSMAN_NS_SOAP, "Envelope") ||
	    (body = find(root->children, WSMAN_NS_SOAP, "Body")) == NULL)
		goto bad;
	r->relates_to = text_of(find(root->children, WSMAN_NS_ADDR, "RelatesTo"));
	if ((n = find(body->children, WSMAN_NS_SOAP, "Fault")) != NULL) {
		take_fault(n, r);
		rc = 0;
		goto out;
	}
	for (n = find(body->children, WSMAN_NS_WSMAN, "Selector"); n != NULL && r->shell_id == NULL;
	     n = NULL) {
		char *name = attr_of(n, "Name");
		if (name != NULL && strcmp(name, "ShellId") == 0)
			r->shell_id = text_of(n);
		free(name);
	}
	if (r->shell_id == NULL)
		r->shell_id = text_of(find(body->children, WSMAN_NS_SHELL, "ShellId"));
	r->command_id = text_of(find(body->children, WSMAN_NS_SHELL, "CommandId"));
	if (take_streams(body->children, r) != 0) {
		r->fault_text = xstrdup("a stream is not valid base64");
		goto out;
	}
	take_state(body->children, r);
	rc = 0;
	goto out;
bad:
	r->fault_text = xstrdup("not a SOAP envelope");
out:
	xmlFreeDoc(doc);
	return rc;
}
