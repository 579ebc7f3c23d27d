/*
 * xknown.h — known_hosts read once per process, not once per connection.
 *
 * libssh's ssh_session_is_known_server() reads and parses the whole
 * known_hosts file at every connection: over a fleet of 10,002 hosts that
 * is 10,002 lines (three keys per host) parsed for each of the 10,002
 * connections and every reconnection.  This cache parses the file once per
 * (path, device, inode, size, mtime) with libssh's own parser
 * (ssh_known_hosts_parse_line), indexes the plain entries by "host" or
 * "[host]:port", and answers one question only: is the key this server
 * offered recorded for it?  Anything else — no plain entry with that key,
 * hashed (|1|) names, @markers, patterns, a file that cannot be read — is
 * left to libssh exactly as before, so unknown and changed keys produce
 * the same refusals.  A file replaced or appended to (trust_new_hosts) is
 * read again at the next check.  (libssh still reads the file once per
 * connection in ssh_connect, to order its host key algorithms: that read
 * stays; the check's read is the one saved.)
 *
 * Created by the apply/resume command, shared by every cluster of the run
 * (run_opts.known -> conns_opts.known -> xport_options.known).  Thread-safe.
 */
#ifndef CCR_XKNOWN_H
#define CCR_XKNOWN_H

#include <libssh/libssh.h>

#include "util.h"

struct xport_known;

/* An empty cache.  Never fails (out of memory aborts). */
struct xport_known *xport_known_new(void);
/* Free k (NULL: nothing). */
void xport_known_free(struct xport_known *k);

/*
 * 1 if known_hosts file `path` (as it is now) has a plain entry for hp
 * ("host", or "[host]:port" off port 22) with the public key `key`; 0 when
 * the cache cannot say so (the caller asks libssh).
 */
int xport_known_has(struct xport_known *k, const char *path, const char *hp, ssh_key key);

/* What the cache did so far (tests, diagnostics). */
struct xport_known_stats {
	unsigned long loads; /* files parsed */
	unsigned long hits;  /* checks it answered (the key was recorded) */
};
struct xport_known_stats xport_known_stats(struct xport_known *k);

#endif
