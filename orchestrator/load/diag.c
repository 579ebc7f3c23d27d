/*
 * diag.c — see diag.h.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d)
{
	d->v = NULL;
	d->n = 0;
	d->total = 0;
}

void diag_release(struct diag *d)
{
	for (int i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	diag_init(d);
}

void diag_add(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	d->total++;
	if (d->n >= DIAG_MAX)
		return;
	d->v = xreallocarray(d->v, (size_t)d->n + 1, sizeof(*d->v));
	struct diag_entry *e = &d->v[d->n++];
	e->file = xstrdup(file ? file : "<input>");
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	e->msg = xvasprintf(fmt, ap);
	va_end(ap);
}

void diag_print(const struct diag *d, FILE *fp)
{
	for (int i = 0; i < d->n; i++) {
		const struct diag_entry *e = &d->v[i];
		if (e->line > 0)
			fprintf(fp, "%s:%d:%d: %s\n", e->file, e->line, e->col > 0 ? e->col : 1,
				e->msg);
		else
			fprintf(fp, "%s: %s\n", e->file, e->msg);
	}
	if (d->total > d->n)
		fprintf(fp, "... and %d more errors (only the first %d are shown)\n",
			d->total - d->n, d->n);
}

static int entry_before(const struct diag_entry *x, const struct diag_entry *y)
{
	int c = strcmp(x->file, y->file);
	if (c)
		return c < 0;
	if (x->line != y->line)
		return x->line < y->line;
	return x->col < y->col;
}

void diag_sort(struct diag *d)
{
	/* Insertion sort: stable, and n is at most DIAG_MAX. */
	for (int i = 1; i < d->n; i++) {
		struct diag_entry e = d->v[i];
		int j = i - 1;
		while (j >= 0 && entry_before(&e, &d->v[j])) {
			d->v[j + 1] = d->v[j];
			j--;
		}
		d->v[j + 1] = e;
	}
}

void diag_quote(struct sbuf *sb, const char *value)
{
	size_t i;
	for (i = 0; value[i] && i < 60; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c == '\n')
			sbuf_adds(sb, "\\n");
		else if (c == '\t')
			sbuf_adds(sb, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			sbuf_addf(sb, "\\x%02x", c);
		else
			sbuf_addc(sb, (char)c);
	}
	if (value[i])
		sbuf_adds(sb, "...");
}
