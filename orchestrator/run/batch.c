/*
 * batch.c — see batch.h.
 *
 * Building is string assembly; parsing walks stdout and stderr once each,
 * looking for the next part's marker only after the previous one, so text
 * a command printed can neither reorder nor forge the markers (it does not
 * know the nonce).
 */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util.h"

/* Are cmd's double quotes balanced?  (sh: single quotes too, outside double ones.) */
static int quotes_balanced(const char *cmd, int singles)
{
	char in = 0;
	for (const char *p = cmd; *p; p++) {
		if (in) {
			if (*p == in)
				in = 0;
		} else if (*p == '"' || (singles && *p == '\'')) {
			in = *p;
		}
	}
	return in == 0;
}

/* cmd.exe: none of ! % ^ anywhere, none of & | < > ( ) outside double quotes. */
static int cmd_part_ok(const char *cmd)
{
	int quoted = 0;
	if (strpbrk(cmd, "!%^\r\n") != NULL || !quotes_balanced(cmd, 0))
		return 0;
	for (const char *p = cmd; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && strchr("&|<>()", *p) != NULL)
			return 0;
	}
	return 1;
}

int batch_part_ok(enum pb_shell shell, const char *cmd)
{
	if (cmd == NULL || *cmd == '\0')
		return 0;
	switch (shell) {
	case PB_SHELL_CMD:
		return cmd_part_ok(cmd);
	case PB_SHELL_SH:
		return strpbrk(cmd, "\r\n") == NULL && quotes_balanced(cmd, 1);
	case PB_SHELL_NONE:
		break;
	}
	return 0;
}

void batch_nonce(char nonce[BATCH_NONCE_LEN + 1])
{
	unsigned char b[BATCH_NONCE_LEN / 2];
	static const char hex[] = "0123456789abcdef";
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	for (; got < sizeof(b); got++) /* no entropy source: still unpredictable enough */
		b[got] = (unsigned char)(now_mono_ms() * 2654435761u >> (got * 8));
	for (size_t i = 0; i < sizeof(b); i++) {
		nonce[2 * i] = hex[b[i] >> 4];
		nonce[2 * i + 1] = hex[b[i] & 15];
	}
	nonce[BATCH_NONCE_LEN] = '\0';
}

char *batch_build(enum pb_shell shell, const char *nonce, const char *const *parts, int n)
{
	struct sbuf sb;

	if (n == 1)
		return xstrdup(parts[0]);
	sbuf_init(&sb);
	if (shell == PB_SHELL_CMD)
		sbuf_adds(&sb, "cmd /v:on /c \"");
	for (int i = 0; i < n; i++) {
		if (shell == PB_SHELL_CMD)
			sbuf_addf(&sb,
				  "%s%s & echo ccrup:%s:%d:!errorlevel!& echo ccrup:%s:%d: 1>&2",
				  i ? "& " : "", parts[i], nonce, i + 1, nonce, i + 1);
		else
			sbuf_addf(&sb, "%s(%s); echo \"ccrup:%s:%d:$?\"; echo \"ccrup:%s:%d:\" >&2",
				  i ? "; " : "", parts[i], nonce, i + 1, nonce, i + 1);
	}
	if (shell == PB_SHELL_CMD)
		sbuf_addc(&sb, '"');
	return sbuf_detach(&sb);
}

/* Past the end of the line at p ("\n" or "\r\n"); NULL when the line does not end. */
static const char *line_end(const char *p)
{
	const char *nl = strchr(p, '\n');
	return nl ? nl + 1 : NULL;
}

/*
 * Part i's text in *pos..marker: 0 with *text (owned) and *pos past the
 * marker's line, *exit (when exit is not NULL) from the digits after it;
 * -1 when the marker (or its line end, or its digits) is missing.
 */
static int take_part(const char **pos, const char *nonce, int i, int *exit, char **text)
{
	char mark[64];
	const char *m, *q, *end;
	long v = 0;

	snprintf(mark, sizeof(mark), "ccrup:%s:%d:", nonce, i);
	if ((m = strstr(*pos, mark)) == NULL || (end = line_end(m)) == NULL)
		return -1;
	q = m + strlen(mark);
	if (exit) {
		if (*q < '0' || *q > '9')
			return -1;
		for (; *q >= '0' && *q <= '9' && v < 1000000; q++)
			v = v * 10 + (*q - '0');
		while (*q == ' ' || *q == '\r')
			q++;
		if (*q != '\n')
			return -1;
		*exit = (int)v;
	}
	*text = xstrndup(*pos, (size_t)(m - *pos));
	*pos = end;
	return 0;
}

int batch_parse(const char *nonce, const char *out, const char *err, int n, struct batch_part *res)
{
	const char *po = out ? out : "", *pe = err ? err : "";

	for (int i = 0; i < n; i++) {
		struct batch_part *b = &res[i];
		if (take_part(&po, nonce, i + 1, &b->exit, &b->out) < 0)
			return i;
		if (take_part(&pe, nonce, i + 1, NULL, &b->err) < 0) {
			free(b->out);
			b->out = NULL;
			return i;
		}
	}
	return n;
}

void batch_parts_release(struct batch_part *res, int n)
{
	for (int i = 0; res && i < n; i++) {
		free(res[i].out);
		free(res[i].err);
		res[i].out = res[i].err = NULL;
	}
}
