/*
 * ccrsim_load.c — a small libssh client that measures how fast ccrsim sets
 * up SSH sessions: THREADS workers each connect (strict known_hosts),
 * authenticate with a key, run one command, read its output, check its exit
 * status and disconnect, SESSIONS times in all, spread round-robin over the
 * hosts listed in the known_hosts file.  Prints one line:
 *
 *   ccrsim_load: N sessions (K failed) in S s: R sessions/s, P ms mean set-up
 *
 * usage: ccrsim_load KNOWN_HOSTS IDENTITY SESSIONS THREADS [COMMAND]
 * Exit 0 when every session ran the command with exit status 0.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libssh/libssh.h>

#include "util.h"

struct load_target {
	char host[64]; /* address */
	int port;      /* TCP port */
};

struct load_ctx {
	const char *known_hosts;     /* strict host key checking against this file */
	ssh_key key;		     /* client private key */
	const char *command;	     /* run on every session */
	struct load_target *targets; /* from known_hosts */
	int ntargets;		     /* entries in targets */
	int sessions;		     /* sessions to run in all */
	int next;		     /* next session number to take */
	int failed;		     /* sessions that did not succeed */
	int64_t setup_ms;	     /* sum of connect + auth times */
	pthread_mutex_t lock;	     /* guards next, failed, setup_ms */
};

/* "[127.0.0.1]:22001 ssh-ed25519 ..." or "127.0.0.1 ssh-ed25519 ..." */
static int load_parse_line(const char *line, struct load_target *t)
{
	const char *end;
	int64_t port = 22;
	size_t n;

	if (line[0] == '[') {
		end = strstr(line, "]:");
		if (end == NULL)
			return -1;
		char num[8] = "";
		size_t k = strcspn(end + 2, " ");

		if (k == 0 || k >= sizeof(num))
			return -1;
		memcpy(num, end + 2, k);
		if (parse_int64(num, 1, 65535, &port) != 0)
			return -1;
		line++;
	} else {
		end = line + strcspn(line, " ");
	}
	n = (size_t)(end - line);
	if (n == 0 || n >= sizeof(t->host))
		return -1;
	memcpy(t->host, line, n);
	t->host[n] = '\0';
	t->port = (int)port;
	return 0;
}

static int load_targets(struct load_ctx *ctx)
{
	char *data = NULL;
	size_t len;

	if (read_file(ctx->known_hosts, 1 << 24, &data, &len) != 0)
		return -1;
	for (char *line = data; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		ctx->targets =
		    xreallocarray(ctx->targets, (size_t)ctx->ntargets + 1, sizeof(*ctx->targets));
		if (load_parse_line(line, &ctx->targets[ctx->ntargets]) == 0)
			ctx->ntargets++;
		line = nl != NULL ? nl + 1 : NULL;
	}
	free(data);
	return ctx->ntargets > 0 ? 0 : -1;
}

/* Run the command on a connected, authenticated session; 0 if it exited 0. */
static int load_exec(ssh_session s, const char *command)
{
	ssh_channel ch = ssh_channel_new(s);
	char buf[4096];
	int rc = -1;

	if (ch == NULL)
		return -1;
	if (ssh_channel_open_session(ch) == SSH_OK &&
	    ssh_channel_request_exec(ch, command) == SSH_OK) {
		while (ssh_channel_read(ch, buf, sizeof(buf), 0) > 0)
			;
		rc = ssh_channel_get_exit_status(ch) == 0 ? 0 : -1;
	}
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	return rc;
}

/* One whole session.  0 on success; *setup gets the connect + auth time. */
static int load_one(struct load_ctx *ctx, const struct load_target *t, int64_t *setup)
{
	ssh_session s = ssh_new();
	int64_t t0 = now_mono_ms();
	int strict = 1;
	bool no_config = false;
	int rc = -1;

	if (s == NULL)
		return -1;
	ssh_options_set(s, SSH_OPTIONS_HOST, t->host);
	ssh_options_set(s, SSH_OPTIONS_PORT, &t->port);
	ssh_options_set(s, SSH_OPTIONS_USER, "administrator");
	ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, ctx->known_hosts);
	ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict);
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no_config);
	ssh_options_set(s, SSH_OPTIONS_NODELAY, &strict); /* else Nagle adds ~40 ms */
	if (ssh_connect(s) != SSH_OK || ssh_session_is_known_server(s) != SSH_KNOWN_HOSTS_OK ||
	    ssh_userauth_publickey(s, NULL, ctx->key) != SSH_AUTH_SUCCESS)
		goto out;
	*setup = now_mono_ms() - t0;
	rc = load_exec(s, ctx->command);
out:
	ssh_disconnect(s);
	ssh_free(s);
	return rc;
}

static void *load_worker(void *arg)
{
	struct load_ctx *ctx = arg;

	for (;;) {
		int64_t setup = 0;
		int i, rc;

		pthread_mutex_lock(&ctx->lock);
		i = ctx->next < ctx->sessions ? ctx->next++ : -1;
		pthread_mutex_unlock(&ctx->lock);
		if (i < 0)
			return NULL;
		rc = load_one(ctx, &ctx->targets[i % ctx->ntargets], &setup);
		pthread_mutex_lock(&ctx->lock);
		ctx->failed += rc != 0;
		ctx->setup_ms += setup;
		pthread_mutex_unlock(&ctx->lock);
	}
}

int main(int argc, char **argv)
{
	struct load_ctx ctx = {.command = argc > 5 ? argv[5] : "sc query ClusSvc"};
	int64_t sessions, threads, t0, ms;
	pthread_t *tid;

	if (argc < 5 || parse_int64(argv[3], 1, 1000000, &sessions) != 0 ||
	    parse_int64(argv[4], 1, 1024, &threads) != 0) {
		fprintf(stderr,
			"usage: ccrsim_load KNOWN_HOSTS IDENTITY SESSIONS THREADS [COMMAND]\n");
		return 2;
	}
	ctx.known_hosts = argv[1];
	ctx.sessions = (int)sessions;
	pthread_mutex_init(&ctx.lock, NULL);
	if (load_targets(&ctx) != 0 ||
	    ssh_pki_import_privkey_file(argv[2], NULL, NULL, NULL, &ctx.key) != SSH_OK) {
		fprintf(stderr, "ccrsim_load: cannot read %s or %s\n", argv[1], argv[2]);
		return 2;
	}
	tid = xcalloc((size_t)threads, sizeof(*tid));
	t0 = now_mono_ms();
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, load_worker, &ctx);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	ms = now_mono_ms() - t0;
	printf("ccrsim_load: %d sessions (%d failed) in %.2f s: %.0f sessions/s, %.1f ms mean "
	       "set-up\n",
	       ctx.sessions, ctx.failed, (double)ms / 1000.0,
	       ms > 0 ? (double)ctx.sessions * 1000.0 / (double)ms : 0.0,
	       (double)ctx.setup_ms / (double)ctx.sessions);
	ssh_key_free(ctx.key);
	free(ctx.targets);
	free(tid);
	pthread_mutex_destroy(&ctx.lock);
	return ctx.failed == 0 ? 0 : 1;
}
