/*
 * fsafe.h — opening files where someone else might have planted something.
 *
 * ccrup is often run as root from a directory other users can reach (a shared
 * /srv, a checkout in /tmp).  Anything such a user can create in the path of a
 * state directory lets them redirect root's writes: a symlink `lock ->
 * /etc/shadow` turns "truncate the lock" into "truncate /etc/shadow".  The
 * rules, after OpenSSH's safe_path():
 *
 *   - every directory from the state directory up to / is owned by root or by
 *     the effective user, and nobody else can write to it, except that an
 *     ancestor (never the state directory itself) may be world-writable if it
 *     is sticky (/tmp): there others cannot rename or remove what is ours;
 *   - every symlink on the way is owned by root or the effective user;
 *   - every file is opened with O_NOFOLLOW, new ones with O_EXCL, and must be a
 *     regular file owned by root or the effective user with one link.
 *
 * Refusals name the path and its owner.  Reading inputs (inventory,
 * playbook) never blocks: anything but a regular file is refused after a
 * non-blocking open.
 */
#ifndef CCR_FSAFE_H
#define CCR_FSAFE_H

#include <stddef.h>

#include "util.h"

/*
 * Check that dir (which must exist) and everything above it obeys the rules
 * above.  what names dir in messages ("state directory").  Returns 0, or -1
 * with a message in err naming the offending path, its owner and its mode.
 */
int fsafe_check_dir(const char *dir, const char *what, char *err, size_t errlen) CCR_WUR;

/*
 * mkdir -p dir (0700 for what is created), then fsafe_check_dir().
 * Returns 0, or -1 with a message in err.
 */
int fsafe_make_dir(const char *dir, const char *what, char *err, size_t errlen) CCR_WUR;

/*
 * open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600) and check the
 * result is a regular file owned by root or the effective user, with a single
 * link; O_NONBLOCK is cleared again.  With O_CREAT the file is created 0600
 * (fchmod, whatever the umask) if it did not exist.  Returns the descriptor,
 * or -1 with errno set and a message in err naming path (and its owner when
 * the owner is the problem).
 */
int fsafe_open(const char *path, int flags, char *err, size_t errlen) CCR_WUR;

/*
 * Read a whole input file the caller named (it may be a symlink) without
 * blocking on FIFOs or devices: anything but a regular file is refused.
 * Files larger than max_bytes are refused.  Returns 0 with *data (caller
 * frees, NUL-terminated) and *len, or -1 with errno set (EFBIG: too large)
 * and a message in err ("is a FIFO, not a regular file").
 */
int fsafe_read_input(const char *path, size_t max_bytes, char **data, size_t *len, char *err,
		     size_t errlen) CCR_WUR;

/* "root", "alice (uid 1001)" for a uid, into out. */
void fsafe_owner_name(unsigned uid, char *out, size_t outlen);

#endif
