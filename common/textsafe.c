/*
 * textsafe.c — see textsafe.h.
 *
 * Why escape rather than drop: the operator should see that a node printed
 * something odd (and what), not a silently different line.  Why \xNN and
 * not caret notation: it reads the same in a terminal, a log and a report,
 * and a pasted \x1b is inert.
 */
#include "textsafe.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at p (2..4), or 0 if there is none. */
static int utf8_len(const unsigned char *p, unsigned *cp)
{
	int n;
	unsigned c;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not text. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* C1 controls, bidirectional embeddings, overrides and isolates, line separators. */
static int unsafe_codepoint(unsigned c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029 || c == 0x200e ||
	       c == 0x200f || c == 0x061c;
}

static void escape_byte(struct sbuf *out, unsigned char c)
{
	if (c == '\n')
		sbuf_adds(out, "\\n");
	else if (c == '\r')
		sbuf_adds(out, "\\r");
	else if (c == '\t')
		sbuf_adds(out, "\\t");
	else
		sbuf_addf(out, "\\x%02x", c);
}

/* Bytes consumed at p; appends the safe form to out if out is not NULL.  *changed set on escape. */
static size_t escape_one(struct sbuf *out, const unsigned char *p, const char *keep, int *changed)
{
	unsigned cp = 0;
	int n;

	if (*p < 0x20 || *p == 0x7f) {
		if (strchr(keep, (char)*p) != NULL) {
			if (out)
				sbuf_addc(out, (char)*p);
			return 1;
		}
		*changed = 1;
		if (out)
			escape_byte(out, *p);
		return 1;
	}
	if (*p < 0x80) {
		if (out)
			sbuf_addc(out, (char)*p);
		return 1;
	}
	n = utf8_len(p, &cp);
	if (n == 0) {
		*changed = 1;
		if (out)
			escape_byte(out, *p);
		return 1;
	}
	if (unsafe_codepoint(cp)) {
		*changed = 1;
		if (out)
			sbuf_addf(out, "\\u{%04x}", cp);
	} else if (out) {
		sbuf_add(out, p, (size_t)n);
	}
	return (size_t)n;
}

void text_escape_to(struct sbuf *out, const char *s, const char *keep)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int changed = 0;

	while (*p)
		p += escape_one(out, p, keep ? keep : "", &changed);
}

char *text_escaped(const char *s, const char *keep)
{
	struct sbuf sb;

	sbuf_init(&sb);
	text_escape_to(&sb, s, keep);
	return sbuf_detach(&sb);
}

int text_needs_escape(const char *s, const char *keep)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int changed = 0;

	while (*p && !changed)
		p += escape_one(NULL, p, keep ? keep : "", &changed);
	return changed;
}

/* Length of a URL scheme at s followed by "://", or 0. */
static size_t scheme_len(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

	return n > 0 && strncmp(s + n, "://", 3) == 0 ? n + 3 : 0;
}

char *url_redact(const char *url, int whole)
{
	const char *s = url ? url : "";
	size_t sch = scheme_len(s);
	const char *auth = s + sch;
	const char *at = NULL, *rest;
	size_t alen;
	struct sbuf sb;

	/* Userinfo ends at the last '@' before any query: a password may hold a
	 * '/', and showing too little beats showing a password. */
	for (const char *p = auth; *p != '\0' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			at = p;
	alen = strcspn(at ? at : auth, "/?#") + (size_t)(at ? at - auth : 0);
	rest = auth + alen;
	sbuf_init(&sb);
	sbuf_add(&sb, s, sch);
	if (at != NULL) {
		sbuf_adds(&sb, "[REDACTED]@");
		sbuf_add(&sb, at + 1, (size_t)(rest - at - 1));
	} else {
		sbuf_add(&sb, auth, alen);
	}
	if (whole) {
		if (*rest != '\0' && strcmp(rest, "/") != 0)
			sbuf_adds(&sb, "/[REDACTED]");
		else
			sbuf_adds(&sb, rest);
	} else {
		size_t plen = strcspn(rest, "?#");
		sbuf_add(&sb, rest, plen);
		if (rest[plen] != '\0')
			sbuf_addf(&sb, "%c[REDACTED]", rest[plen]);
	}
	char *r = sbuf_detach(&sb);
	/* What is left came from outside too: no control characters either. */
	char *e = text_escaped(r, "");
	free(r);
	return e;
}

/*
 * The hanging indent of a line of a message: under the value of "    why:   ..."
 * (a label block), else four columns.
 */
static int hang_indent(const char *s, size_t n, int cols)
{
	size_t k = 0, lab;
	while (k < n && s[k] == ' ')
		k++;
	lab = k;
	while (k < n && s[k] >= 'a' && s[k] <= 'z')
		k++;
	if (k > lab && k < n && s[k] == ':') {
		k++;
		while (k < n && s[k] == ' ')
			k++;
		if ((int)k < cols / 2)
			return (int)k;
	}
	return 4;
}

/* See textsafe.h. */
/*
 * A message on a terminal, wrapped at spaces to cols with a hanging indent, so
 * a long line never breaks in the middle of a word.  col: where the first line
 * starts.  Each of the message's own lines is wrapped by itself.
 */
void text_put_wrapped(FILE *fp, const char *s, int col, int cols)
{
	int first = 1;
	if (col > cols - 20) { /* a long "where": the message on lines of its own */
		fputs("\n    ", fp);
		col = 4;
	}
	while (*s) {
		size_t n = strcspn(s, "\n");
		int indent = first ? 4 : hang_indent(s, n, cols);
		const char *p = s, *end = s + n;
		while (p < end) {
			int avail = cols - col;
			size_t take = (size_t)(end - p);
			if ((int)take > avail) {
				size_t k = avail > 0 ? (size_t)avail : 1;
				while (k > 0 && p[k] != ' ')
					k--;
				take = k > 0 ? k : (size_t)(avail > 0 ? avail : 1);
			}
			fwrite(p, 1, take, fp);
			p += take;
			while (p < end && *p == ' ')
				p++;
			if (p < end) {
				fprintf(fp, "\n%*s", indent, "");
				col = indent;
			}
		}
		s = end;
		if (*s == '\n') {
			fputc('\n', fp);
			s++;
		}
		col = 0;
		first = 0;
	}
}

int text_term_cols(FILE *fp)
{
	struct winsize ws;
	if (isatty(fileno(fp)) && ioctl(fileno(fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 0;
}

void text_put_term(FILE *fp, const char *s)
{
	int cols = text_term_cols(fp);

	if (cols)
		text_put_wrapped(fp, s, 0, cols);
	else
		fputs(s, fp);
}
