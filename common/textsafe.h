/*
 * textsafe.h — text from elsewhere, made safe to show.
 *
 * Two kinds of text must not reach a terminal or a log as they are: what a
 * node printed (its bytes can move the cursor, retitle the window, clear the
 * screen or fake a line of ours: ESC]0;…BEL, ESC[2J, CR) and the URLs of
 * notification endpoints (for Slack and Teams the URL is the credential).
 * Every place that shows either goes through these functions.
 */
#ifndef CCR_TEXTSAFE_H
#define CCR_TEXTSAFE_H

#include <stdio.h>

#include "util.h"

/*
 * Append s to out with every control character escaped except those in keep
 * (e.g. "\n\t", or "" for none): C0 controls and DEL as \xNN (\n, \r, \t
 * as such), C1 controls and the Unicode bidirectional overrides as \u{NNNN},
 * bytes that are not valid UTF-8 as \xNN.  Printable text, including valid
 * UTF-8, is copied unchanged.
 */
void text_escape_to(struct sbuf *out, const char *s, const char *keep);

/* text_escape_to() into a new string (caller frees).  NULL gives "". */
char *text_escaped(const char *s, const char *keep);

/* True if s contains anything text_escape_to() would change (keep as there). */
int text_needs_escape(const char *s, const char *keep);

/*
 * A URL fit to print: scheme and host[:port] kept, userinfo replaced by
 * "[REDACTED]@"; when whole is true (notification endpoints, where the
 * path or query is the secret) a non-empty path, query and fragment become
 * "/[REDACTED]", else only the query and fragment are.  Works on anything, URL
 * or not (a rejected value is shown through it too).  Caller frees.
 */
char *url_redact(const char *url, int whole);

/*
 * Write s to a terminal cols wide, wrapped at spaces so no word is cut: col
 * is where its first line starts; continuation lines are indented 4, or, for
 * a line of s like "    why:   text", under its value.  Each of s's own lines
 * is wrapped by itself.  s is shown as it is: escape node text first.
 */
void text_put_wrapped(FILE *fp, const char *s, int col, int cols);

/* fp's width when it is a terminal that says (a bare PTY says 0), else 0. */
int text_term_cols(FILE *fp);
/* Write s to fp: wrapped at spaces to the terminal's width when fp is a
 * terminal that reports one, as it is otherwise (a pipe, a file). */
void text_put_term(FILE *fp, const char *s);

#endif
