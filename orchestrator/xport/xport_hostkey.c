/*
 * xport_hostkey.c — the transport's host-key policy (DESIGN §6): a known
 * key passes; an unknown key is refused unless trust_new_hosts, which then
 * appends it to known_hosts atomically (read, append, write-temp, rename);
 * a changed key is always refused, naming both fingerprints.
 */
#include "xport_int.h"
#include "fsafe.h"
#include "xknown.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KNOWN_HOSTS_MAX (16 * 1024 * 1024)

/*
 * known_hosts is replaced by read-append-rename; this mutex keeps two
 * threads trusting two new hosts from losing one of the entries.  (Separate
 * processes are serialised by the cluster lock only per cluster; the rename
 * keeps the file whole in any case.)
 */
static pthread_mutex_t known_hosts_mu = PTHREAD_MUTEX_INITIALIZER;

static char *key_fingerprint(ssh_key key)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp, *out;

	if (key == NULL || ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return xstrdup("(unknown)");
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	out = xstrdup(fp ? fp : "(unknown)");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	return out;
}

/* The host entry as known_hosts spells it: "host", or "[host]:port" off port 22. */
static char *host_port(ssh_session s)
{
	unsigned port;
	char *host = xport__session_host(s, &port);
	char *out = port == 22 ? xstrdup(host) : xasprintf("[%s]:%u", host, port);

	free(host);
	return out;
}

/*
 * First fingerprint in file recorded for hp, preferring the offered key's
 * type; *at is set to its line number (so the operator knows which entry to
 * remove).
 */
static char *expected_in_file(const char *file, const char *hp, ssh_key offered, int *at)
{
	char *data = NULL, *best = NULL;
	size_t len = 0;
	int best_line = 0, lineno = 0;

	if (file == NULL || read_file(file, KNOWN_HOSTS_MAX, &data, &len) < 0)
		return NULL;
	for (char *line = data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		struct ssh_knownhosts_entry *e = NULL;
		if (*line != '#' && *line != '@' && *line != '\0' &&
		    ssh_known_hosts_parse_line(hp, line, &e) == SSH_OK) {
			int same = ssh_key_type(e->publickey) == ssh_key_type(offered);
			if (best == NULL || same) {
				free(best);
				best = key_fingerprint(e->publickey);
				best_line = lineno;
			}
			ssh_knownhosts_entry_free(e);
			if (same)
				break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(data);
	*at = best_line;
	return best;
}

/* The recorded fingerprint; *where: "the line N of FILE (ssh-keygen -R HOST -f FILE)". */
static char *expected_fingerprint(ssh_session s, ssh_key offered, char **where)
{
	enum ssh_options_e files[] = {SSH_OPTIONS_KNOWNHOSTS, SSH_OPTIONS_GLOBAL_KNOWNHOSTS};
	char *hp = host_port(s), *fp = NULL;

	*where = NULL;
	for (size_t i = 0; i < CCR_ARRAY_LEN(files) && fp == NULL; i++) {
		char *file = NULL;
		int line = 0;
		if (ssh_options_get(s, files[i], &file) == SSH_OK &&
		    (fp = expected_in_file(file, hp, offered, &line)) != NULL)
			*where = xasprintf("line %d of %s (ssh-keygen -R '%s' -f %s)", line, file,
					   hp, file);
		ssh_string_free_char(file);
	}
	free(hp);
	if (*where == NULL)
		*where = xstrdup("the old entry");
	return fp ? fp : xstrdup("(entry not readable)");
}

/*
 * known_hosts is replaced by rename: refuse when it is a symlink (the link
 * would silently become a file) or lies in a directory someone else controls
 * (fsafe.h).  0, or -1 with the transport's error set.
 */
static int refuse_unsafe_file(struct xport *x, const char *file, const char *dir)
{
	struct stat st;
	char err[1024] = "", owner[128];

	if (lstat(file, &st) == 0 && S_ISLNK(st.st_mode)) {
		fsafe_owner_name((unsigned)st.st_uid, owner, sizeof(owner));
		xport__fail(x,
			    "known_hosts %s is a symbolic link (owned by %s); refusing to replace "
			    "it: name the file itself",
			    file, owner);
		return -1;
	}
	if (lstat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
		xport__fail(x, "known_hosts %s is not a regular file; refusing", file);
		return -1;
	}
	if (mkdir_p(dir, 0700) < 0 ||
	    fsafe_check_dir(dir, "known_hosts directory", err, sizeof(err)) < 0) {
		xport__fail(x, "%s", err[0] ? err : strerror(errno));
		return -1;
	}
	return 0;
}

/* Append the session's host key to known_hosts: read, append, write_file_atomic. */
static int trust_host(struct xport *x, ssh_session s)
{
	char *entry = NULL, *file = NULL, *old = NULL, *dir = NULL;
	size_t len = 0;
	struct sbuf sb;
	int rc = -1;

	sbuf_init(&sb);
	pthread_mutex_lock(&known_hosts_mu);
	if (ssh_session_export_known_hosts_entry(s, &entry) != SSH_OK ||
	    ssh_options_get(s, SSH_OPTIONS_KNOWNHOSTS, &file) != SSH_OK) {
		xport__fail(x, "cannot build known_hosts entry: %s", ssh_get_error(s));
		goto out;
	}
	dir = xstrdup(file);
	if (strrchr(dir, '/') == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (strrchr(dir, '/') != dir) {
		*strrchr(dir, '/') = '\0';
	}
	if (refuse_unsafe_file(x, file, dir) < 0)
		goto out;
	if (read_file(file, KNOWN_HOSTS_MAX, &old, &len) == 0) {
		sbuf_add(&sb, old, len);
		if (len > 0 && old[len - 1] != '\n')
			sbuf_addc(&sb, '\n');
	} else if (errno != ENOENT) {
		xport__fail(x, "read %s: %s", file, strerror(errno));
		goto out;
	}
	sbuf_adds(&sb, entry);
	if (write_file_atomic(file, sb.buf, sb.len, 0600) < 0) {
		xport__fail(x, "write %s: %s", file, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&known_hosts_mu);
	ssh_string_free_char(entry);
	ssh_string_free_char(file);
	free(old);
	free(dir);
	sbuf_release(&sb);
	return rc;
}

/* 1 if the cache finds key recorded for this host in the session's known_hosts. */
static int known_by_cache(struct xport *x, ssh_session s, ssh_key key)
{
	char *file = NULL, *hp;
	int found;

	if (x->known == NULL || ssh_options_get(s, SSH_OPTIONS_KNOWNHOSTS, &file) != SSH_OK)
		return 0;
	hp = host_port(s);
	found = xport_known_has(x->known, file, hp, key);
	free(hp);
	ssh_string_free_char(file);
	return found;
}

int xport__verify_host(struct xport *x, ssh_session s)
{
	ssh_key key = NULL;
	char *offered = NULL, *expected = NULL, *where = NULL;
	int rc = -1;

	if (ssh_get_server_publickey(s, &key) < 0) {
		xport__fail(x, "no host key from server: %s", ssh_get_error(s));
		return -1;
	}
	offered = key_fingerprint(key);
	/* Known to the cache: done.  Anything else is libssh's to judge, as before. */
	switch (known_by_cache(x, s, key) ? SSH_KNOWN_HOSTS_OK : ssh_session_is_known_server(s)) {
	case SSH_KNOWN_HOSTS_OK:
		rc = 0;
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		expected = expected_fingerprint(s, key, &where);
		xport__seterr(x,
			      xasprintf("host key for %s has CHANGED: known_hosts has %s, server "
					"offered %s — possible man-in-the-middle; if the node "
					"was legitimately reinstalled, remove the old entry: %s",
					x->label, expected, offered, where));
		free(where);
		break;
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (x->trust_new) {
			rc = trust_host(x, s);
			break;
		}
		xport__seterr(x, xasprintf("host key for %s is not known: server offered %s; "
					   "refusing to connect (check the fingerprint, then "
					   "--trust-new-hosts accepts it)",
					   x->label, offered));
		break;
	default:
		xport__fail(x, "cannot check host key: %s", ssh_get_error(s));
	}
	free(offered);
	free(expected);
	ssh_key_free(key);
	return rc;
}
