/*
 * batch.h — compound probes: several read-only commands sent to one host as
 * one remote command, and the answer split back into each command's
 * stdout, stderr and exit status (docs/design.md "Fresh facts", issue 14).
 *
 * The wire formats (playbook `shell:`):
 *   cmd  cmd /v:on /c "P1 & echo ccrup:NONCE:1:!errorlevel!& echo ccrup:NONCE:1: 1>&2& P2 & ..."
 *   sh   (P1); echo "ccrup:NONCE:1:$?"; echo "ccrup:NONCE:1:" >&2; (P2); ...
 * NONCE is 8 random lower-case hex digits per batch, so no command's output
 * can forge a marker.  Part i's stdout is the text before "ccrup:NONCE:i:"
 * (after the previous marker's line), its exit status the digits after it;
 * its stderr likewise, split on the same marker in stderr.  A batch of one
 * part is the plain command.  A part whose marker is missing (it hung and
 * the batch timed out, the connection dropped, the output was cut) and every
 * part after it are not complete: the caller gives them the batch's
 * transport outcome.
 *
 * Calling sequence:
 *   if (batch_part_ok(shell, cmd)) ... collect parts
 *   batch_nonce(nonce)
 *   sent = batch_build(shell, nonce, parts, n)          caller frees
 *   ... run sent, get stdout and stderr ...
 *   k = batch_parse(nonce, out, err, n, res)            parts 0..k-1 complete
 *   batch_parts_release(res, n)
 */
#ifndef CCR_BATCH_H
#define CCR_BATCH_H

#include "model.h"

#define BATCH_NONCE_LEN 8

/* One part's answer, as batch_parse() found it. */
struct batch_part {
	int exit;  /* exit status */
	char *out; /* stdout (owned), NULL when the part is not complete */
	char *err; /* stderr (owned), NULL when the part is not complete */
};

/* Can cmd be a part of a batch under shell?  1 yes, 0 no (it is sent alone). */
int batch_part_ok(enum pb_shell shell, const char *cmd);

/* A fresh nonce: BATCH_NONCE_LEN random lower-case hex digits and a NUL. */
void batch_nonce(char nonce[BATCH_NONCE_LEN + 1]);

/*
 * The remote command that runs parts[0..n) in order under shell (n >= 1;
 * every part batch_part_ok; shell not PB_SHELL_NONE).  n == 1: the part
 * itself.  Caller frees.
 */
char *batch_build(enum pb_shell shell, const char *nonce, const char *const *parts, int n);

/*
 * Split a batch's stdout and stderr into res[0..n) (zeroed by the caller).
 * Returns k, the number of complete parts: res[0..k) have out, err and
 * exit; the rest are left empty.  A marker counts only with its own
 * nonce, its part's number, in order, and (stdout) decimal digits ending
 * the line.
 */
int batch_parse(const char *nonce, const char *out, const char *err, int n, struct batch_part *res);

/* Free what batch_parse() put in res[0..n). */
void batch_parts_release(struct batch_part *res, int n);

#endif
