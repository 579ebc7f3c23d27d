/*
 * ui.h — what a person sees: event lines, a live status line on a
 * terminal, guided-mode questions, and the closing summary.
 *
 * On a terminal events print as short lines with a live status line
 * beneath them (cluster, phase, step i/N, node, elapsed, and a counter
 * against its budget while waiting).  Without one, every event is one
 * timestamped line.  NO_COLOR turns colour off; quiet keeps only
 * failures, warnings and the summary; verbose adds command output.
 * Thread-safe: fleet runs report from many threads.
 */
#ifndef CCR_UI_H
#define CCR_UI_H

#include <stdio.h>

#include "events.h"

struct ui;

struct ui_opts {
	int tty;     /* fp is a terminal: status line, prompts */
	int color;   /* ANSI colours */
	int quiet;   /* only failures, warnings, summary */
	int verbose; /* command output too */
};

struct ui *ui_new(FILE *fp, const struct ui_opts *o);
void ui_free(struct ui *u);
/* event_fn for runner sinks; arg is the struct ui. */
void ui_event(const struct event *e, void *arg);
/* ask_fn for guided mode; reads a line from in (a terminal). */
int ui_ask(void *arg, const char *question, const char *choices);
/* Use this stream for answers (default stdin). */
void ui_set_input(struct ui *u, FILE *in);
/* Print the per-node summary of everything seen so far. */
void ui_summary(struct ui *u);

#endif
