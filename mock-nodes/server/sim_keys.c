/*
 * sim_keys.c — the keys of the simulated fleet, kept in the state directory
 * so that a second start presents the same host keys (clients' known_hosts
 * stay valid) and the same client key works:
 *
 *   STATE/hostkeys/NAME.key   ed25519 host key per host, OpenSSH format, 0600
 *   STATE/hostkeys/_ecdsa.key ECDSA P-256 host key every host also offers, 0600
 *   STATE/hostkeys/_rsa.key   RSA 3072 host key every host also offers, 0600
 *                             ('_' is not allowed in host names: no clash)
 *   STATE/client_ed25519      the client key for ccrup and ssh, 0600 (+ .pub)
 *   STATE/authorized_keys     public keys allowed to log in (unless --authorized-keys)
 *   STATE/known_hosts         one line per host, rewritten at every start
 *
 * Every file is written with write_file_atomic (temp + fsync + rename), so a
 * crash never leaves half a key behind.  The host keys a start generates are
 * staged instead (temp files, not yet synced), then committed together: one
 * syncfs, the renames, one fsync of the directory.  The same guarantee, with
 * one disk flush for 10,002 keys instead of 20,004.
 */
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_server.h"

#define SIM_KEY_MAX_FILE (1 << 20) /* larger key or authorized_keys files are refused */

ssh_key sim_keys_generate(void)
{
	return sim_keys_generate_type(SSH_KEYTYPE_ED25519, 0);
}

ssh_key sim_keys_generate_type(enum ssh_keytypes_e type, int bits)
{
	ssh_key key = NULL;

	if (ssh_pki_generate(type, bits, &key) != SSH_OK)
		return NULL;
	return key;
}

/* Store a private key in OpenSSH format, mode 0600.  0 or -1 with err. */
static int keys_store_private(ssh_key key, const char *path, char *err, size_t errlen)
{
	char *b64 = NULL;
	int rc = -1;

	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) != SSH_OK) {
		snprintf(err, errlen, "%s: cannot export the key", path);
		goto out;
	}
	if (write_file_atomic(path, b64, strlen(b64), 0600) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	ssh_string_free_char(b64);
	return rc;
}

/* "ssh-ed25519 AAAA..." for key (public part); caller frees.  NULL on failure. */
static char *keys_public_line(const ssh_key key)
{
	char *b64 = NULL;
	char *line = NULL;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return NULL;
	line = xasprintf("%s %s", ssh_key_type_to_char(ssh_key_type(key)), b64);
	ssh_string_free_char(b64);
	return line;
}

/* Load path as a private key, or generate one of type (bits) and store it there. */
static int keys_load_or_make_type(const char *path, enum ssh_keytypes_e type, int bits,
				  ssh_key *key, int *made, char *err, size_t errlen)
{
	*made = 0;
	if (access(path, F_OK) == 0) {
		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, key) == SSH_OK)
			return 0;
		snprintf(err, errlen, "%s: not a readable private key", path);
		return -1;
	}
	*key = sim_keys_generate_type(type, bits);
	if (*key == NULL) {
		snprintf(err, errlen, "%s: cannot generate a %s key", path,
			 ssh_key_type_to_char(type));
		return -1;
	}
	if (keys_store_private(*key, path, err, errlen) != 0) {
		ssh_key_free(*key);
		*key = NULL;
		return -1;
	}
	*made = 1;
	return 0;
}

static int keys_load_or_make(const char *path, ssh_key *key, int *made, char *err, size_t errlen)
{
	return keys_load_or_make_type(path, SSH_KEYTYPE_ED25519, 0, key, made, err, errlen);
}

int sim_keys_shared(const char *state_dir, int which, ssh_key *keyp, char **publine, char *err,
		    size_t errlen)
{
	static const char *const names[] = {"_ecdsa.key", "_rsa.key"};
	enum ssh_keytypes_e type = which == 0 ? SSH_KEYTYPE_ECDSA_P256 : SSH_KEYTYPE_RSA;
	char *dir = xasprintf("%s/hostkeys", state_dir);
	char *path = xasprintf("%s/%s", dir, names[which]);
	ssh_key key = NULL;
	int made, rc = -1;

	*keyp = NULL;
	*publine = NULL;
	if (mkdir_p(dir, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (keys_load_or_make_type(path, type, which == 0 ? 256 : 3072, &key, &made, err, errlen) !=
	    0)
		goto out;
	if ((*publine = keys_public_line(key)) == NULL) {
		snprintf(err, errlen, "%s: cannot export the key", path);
		goto out;
	}
	*keyp = key;
	key = NULL;
	rc = 0;
out:
	ssh_key_free(key);
	free(path);
	free(dir);
	return rc;
}

/* Host names come from the scenario: keep file names to a safe alphabet. */
static char *keys_host_path(const char *state_dir, const char *name)
{
	char *path = xasprintf("%s/hostkeys/%s.key", state_dir, name);
	char *p = path + strlen(state_dir) + strlen("/hostkeys/");

	for (; *p != '\0' && strcmp(p, ".key") != 0; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			*p = '_';
	}
	return path;
}

int sim_keys_host(const char *state_dir, const char *name, ssh_key *key, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/hostkeys", state_dir);
	char *path = NULL;
	int made;
	int rc = -1;

	if (mkdir_p(dir, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	path = keys_host_path(state_dir, name);
	rc = keys_load_or_make(path, key, &made, err, errlen);
out:
	free(path);
	free(dir);
	return rc;
}

/* The private key in a fresh temp file next to path (mode 0600, not synced), staged in b. */
static int keys_stage_private(ssh_key key, const char *path, struct sim_keys_batch *b, char *err,
			      size_t errlen)
{
	char *b64 = NULL, *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd = -1, rc = -1;

	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) != SSH_OK) {
		snprintf(err, errlen, "%s: cannot export the key", path);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (size_t off = 0, len = strlen(b64); off < len;) {
		ssize_t n = write(fd, b64 + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	b->tmp = xreallocarray(b->tmp, (size_t)b->n + 1, sizeof(*b->tmp));
	b->path = xreallocarray(b->path, (size_t)b->n + 1, sizeof(*b->path));
	b->tmp[b->n] = tmp;
	b->path[b->n++] = xstrdup(path);
	tmp = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
		rc = -1;
	}
	ssh_string_free_char(b64);
	return rc;
}

int sim_keys_host_staged(const char *state_dir, const char *name, ssh_key *key,
			 struct sim_keys_batch *b, char *err, size_t errlen)
{
	char *path = keys_host_path(state_dir, name);
	int rc = -1;

	*key = NULL;
	if (access(path, F_OK) == 0) {
		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, key) == SSH_OK)
			rc = 0;
		else
			snprintf(err, errlen, "%s: not a readable private key", path);
		goto out;
	}
	*key = sim_keys_generate();
	if (*key == NULL) {
		snprintf(err, errlen, "%s: cannot generate an ed25519 key", path);
		goto out;
	}
	rc = keys_stage_private(*key, path, b, err, errlen);
	if (rc != 0) {
		ssh_key_free(*key);
		*key = NULL;
	}
out:
	free(path);
	return rc;
}

int sim_keys_batch_commit(struct sim_keys_batch *b, const char *state_dir, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/hostkeys", state_dir);
	int fd = -1, rc = -1, i = 0;

	if (b->n == 0) {
		rc = 0;
		goto out;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) != 0)
		goto fail;
	for (; i < b->n; i++) {
		if (rename(b->tmp[i], b->path[i]) != 0)
			goto fail;
		free(b->tmp[i]);
		b->tmp[i] = NULL;
	}
	if (fsync(fd) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "%s: %s", i < b->n ? b->path[i] : dir, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

void sim_keys_batch_release(struct sim_keys_batch *b)
{
	for (int i = 0; i < b->n; i++) {
		if (b->tmp[i] != NULL)
			unlink(b->tmp[i]);
		free(b->tmp[i]);
		free(b->path[i]);
	}
	free(b->tmp);
	free(b->path);
	memset(b, 0, sizeof(*b));
}

/* Write text + "\n" to path atomically with mode. */
static int keys_write_line(const char *path, const char *text, int mode, char *err, size_t errlen)
{
	char *data = xasprintf("%s\n", text);
	int rc = write_file_atomic(path, data, strlen(data), mode);

	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	free(data);
	return rc;
}

/* Make STATE/client_ed25519 if absent, and STATE/authorized_keys from it if new or absent. */
static int keys_make_client(const char *state_dir, const char *authorized, char *err, size_t errlen)
{
	char *path = xasprintf("%s/client_ed25519", state_dir);
	char *pub_path = xasprintf("%s/client_ed25519.pub", state_dir);
	char *line = NULL;
	char *pub_text = NULL;
	ssh_key key = NULL;
	int made = 0;
	int rc = -1;

	if (keys_load_or_make(path, &key, &made, err, errlen) != 0)
		goto out;
	line = keys_public_line(key);
	if (line == NULL) {
		snprintf(err, errlen, "%s: cannot export the public key", path);
		goto out;
	}
	pub_text = xasprintf("%s ccrsim-client", line);
	if (made || access(pub_path, F_OK) != 0)
		if (keys_write_line(pub_path, pub_text, 0644, err, errlen) != 0)
			goto out;
	if (made || access(authorized, F_OK) != 0)
		if (keys_write_line(authorized, pub_text, 0600, err, errlen) != 0)
			goto out;
	rc = 0;
out:
	ssh_key_free(key);
	free(pub_text);
	free(line);
	free(pub_path);
	free(path);
	return rc;
}

/* Next whitespace-separated token of *s, NUL-terminated in place, or NULL. */
static char *keys_token(char **s)
{
	char *p = *s;
	char *tok;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return NULL;
	tok = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return tok;
}

/*
 * One authorized_keys line: optional options, then "TYPE BASE64 [comment]".
 * The first token naming a known key type starts the key.  NULL if none.
 */
static ssh_key keys_parse_line(char *line)
{
	char *rest = line;
	char *tok;
	ssh_key key = NULL;

	while ((tok = keys_token(&rest)) != NULL) {
		enum ssh_keytypes_e type = ssh_key_type_from_name(tok);
		char *b64;

		if (type == SSH_KEYTYPE_UNKNOWN)
			continue;
		b64 = keys_token(&rest);
		if (b64 == NULL || ssh_pki_import_pubkey_base64(b64, type, &key) != SSH_OK)
			return NULL;
		return key;
	}
	return NULL;
}

/* Parse every key of an authorized_keys file; bad lines are an error. */
static int keys_parse_authorized(const char *path, char *data, ssh_key **keys, int *nkeys,
				 char *err, size_t errlen)
{
	char *line = data;
	int lineno = 0;

	while (line != NULL && *line != '\0') {
		char *nl = strchr(line, '\n');
		ssh_key key;

		if (nl != NULL)
			*nl = '\0';
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (line[strspn(line, " \t")] != '\0' && line[strspn(line, " \t")] != '#') {
			key = keys_parse_line(line);
			if (key == NULL) {
				snprintf(err, errlen, "%s:%d: not a public key line", path, lineno);
				return -1;
			}
			*keys = xreallocarray(*keys, (size_t)*nkeys + 1, sizeof(**keys));
			(*keys)[(*nkeys)++] = key;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (*nkeys == 0) {
		snprintf(err, errlen, "%s: no public keys", path);
		return -1;
	}
	return 0;
}

int sim_keys_clients(const char *state_dir, const char *authorized_keys, ssh_key **keys, int *nkeys,
		     char *err, size_t errlen)
{
	char *path = NULL;
	char *data = NULL;
	size_t len;
	int rc = -1;

	*keys = NULL;
	*nkeys = 0;
	if (authorized_keys != NULL) {
		path = xstrdup(authorized_keys);
	} else {
		path = xasprintf("%s/authorized_keys", state_dir);
		if (keys_make_client(state_dir, path, err, errlen) != 0)
			goto out;
	}
	if (read_file(path, SIM_KEY_MAX_FILE, &data, &len) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = keys_parse_authorized(path, data, keys, nkeys, err, errlen);
out:
	if (rc != 0) {
		for (int i = 0; i < *nkeys; i++)
			ssh_key_free((*keys)[i]);
		free(*keys);
		*keys = NULL;
		*nkeys = 0;
	}
	free(data);
	free(path);
	return rc;
}

int sim_keys_known_hosts(const struct sim_server *srv, const char *path, char *err, size_t errlen)
{
	struct sbuf sb;
	int rc = -1;

	sbuf_init(&sb);
	for (int i = 0; i < srv->nhosts; i++) {
		const char *addr = sim_host_addr(srv->world, i);
		int port = sim_host_port(srv->world, i);
		char *line = keys_public_line(srv->hosts[i].pubkey);

		if (line == NULL) {
			snprintf(err, errlen, "%s: cannot export a host key", path);
			goto out;
		}
		char *who = port == 22 ? xasprintf("%s", addr) : xasprintf("[%s]:%d", addr, port);

		sbuf_addf(&sb, "%s %s\n", who, line);
		for (int k = 0; k < 2; k++)
			if (srv->shared_pub[k] != NULL)
				sbuf_addf(&sb, "%s %s\n", who, srv->shared_pub[k]);
		free(who);
		free(line);
	}
	if (write_file_atomic(path, sb.buf, sb.len, 0644) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sbuf_release(&sb);
	return rc;
}
