/*
 * diag.h — located input errors ("FILE:LINE:COL: message (value)") and the
 * project's exit codes.
 *
 * Loaders do not stop at the first problem: they add every error they find
 * to a struct diag (up to DIAG_MAX, after which one "too many errors" line
 * is kept) so a user fixes a file in one pass.  Lines and columns are
 * 1-based, as editors show them.
 */
#ifndef CCR_DIAG_H
#define CCR_DIAG_H

#include <stdio.h>

#include "util.h"

/* Exit codes: the CLI contract (docs/exit-codes.md). */
enum ccr_exit {
	EXIT_DONE = 0,		/* run finished, or command succeeded */
	EXIT_STEP_FAILED = 1,	/* a step failed; the run is resumable */
	EXIT_INPUT = 2,		/* usage or input error; nothing was done */
	EXIT_REFUSED = 3,	/* a precondition refused; nothing changed by that step */
	EXIT_LOCKED = 4,	/* another run holds the cluster's lock */
	EXIT_JOURNAL = 5,	/* journal corrupt or mismatched */
	EXIT_LOCK_LOST = 6,	/* the run lost its (etcd) lock mid-run; stopped, resumable */
	EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM; the run is resumable */
};

#define DIAG_MAX 50

struct diag_entry {
	char *file; /* path as the user gave it */
	int line;   /* 1-based; 0 when the error concerns the whole file */
	int col;    /* 1-based; 0 when unknown */
	char *msg;  /* the complete message, value included */
};

struct diag {
	struct diag_entry *v; /* entries in the order found */
	int n;		      /* entries kept (<= DIAG_MAX) */
	int total;	      /* errors reported, including those past the cap */
};

void diag_init(struct diag *d);
void diag_release(struct diag *d);
/* Add an error.  file may be NULL ("<input>").  The message is copied. */
void diag_add(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
    CCR_PRINTF(5, 6);
/* Print "FILE:LINE:COL: msg" lines (and a cap note) to fp. */
void diag_print(const struct diag *d, FILE *fp);
/* Sort entries by file, line, column (stable), so output reads top to bottom. */
void diag_sort(struct diag *d);

/*
 * Append a value to a message for display: printable ASCII kept, anything
 * else escaped (\n, \t, \xNN), cut at 60 bytes with "...".  Never fails.
 */
void diag_quote(struct sbuf *sb, const char *value);

#endif
