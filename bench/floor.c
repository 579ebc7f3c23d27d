/*
 * floor.c — the floor client of `make bench`: the least any SSH orchestrator
 * can do to send a given list of commands.  One libssh session per host, kept
 * open; one channel per command, run to its end before the next one;
 * TCP_NODELAY; no journal, no probes of its own, no output kept.  bench.py
 * feeds it exactly the commands ccrup sent in a run (from the run's audit log)
 * and times both against fresh, identical ccrsim worlds, so the ratio between
 * them is ccrup's own overhead.
 *
 * usage: floor USER KEYFILE < LIST
 *   LIST: one command per line, "ADDRESS PORT<TAB>COMMAND".  A command that
 *   cannot be started because its host went away (a reboot) is retried on a
 *   new connection until the host answers again (at most 60 s).
 * Prints "commands N reconnects N" and exits 0, or 1 on the first error.
 */
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_HOSTS 64

struct host {
	char addr[64];
	unsigned port;
	ssh_session s;
};

static struct host hosts[MAX_HOSTS];
static int nhosts;

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static ssh_session open_session(const struct host *h, const char *user, ssh_key key)
{
	ssh_session s = ssh_new();
	int nodelay = 1, verb = SSH_LOG_NOLOG;
	ssh_options_set(s, SSH_OPTIONS_HOST, h->addr);
	ssh_options_set(s, SSH_OPTIONS_PORT, &h->port);
	ssh_options_set(s, SSH_OPTIONS_USER, user);
	ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verb);
	ssh_options_set(s, SSH_OPTIONS_NODELAY, &nodelay);
	if (ssh_connect(s) != SSH_OK || ssh_userauth_publickey(s, NULL, key) != SSH_AUTH_SUCCESS) {
		ssh_free(s);
		return NULL;
	}
	int fd = ssh_get_fd(s);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
	return s;
}

/* 0 ran, 1 could not start (host gone: reconnect and retry), -1 error. */
static int run_one(ssh_session s, const char *cmd)
{
	char buf[16384];
	ssh_channel c = ssh_channel_new(s);
	if (c == NULL)
		return 1;
	if (ssh_channel_open_session(c) != SSH_OK || ssh_channel_request_exec(c, cmd) != SSH_OK) {
		ssh_channel_free(c);
		return 1;
	}
	for (;;) {
		int n = ssh_channel_read(c, buf, sizeof(buf), 0);
		if (n == 0)
			n = ssh_channel_read(c, buf, sizeof(buf), 1);
		if (n <= 0 && ssh_channel_is_eof(c))
			break;
		if (n < 0)
			break; /* the host went down under the command (a reboot): it ran */
	}
	ssh_channel_get_exit_status(c);
	ssh_channel_close(c);
	ssh_channel_free(c);
	return 0;
}

static struct host *host_of(const char *addr, unsigned port)
{
	for (int i = 0; i < nhosts; i++)
		if (hosts[i].port == port && strcmp(hosts[i].addr, addr) == 0)
			return &hosts[i];
	if (nhosts == MAX_HOSTS || strlen(addr) >= sizeof(hosts[0].addr))
		return NULL;
	struct host *h = &hosts[nhosts++];
	memcpy(h->addr, addr, strlen(addr) + 1);
	h->port = port;
	h->s = NULL;
	return h;
}

int main(int argc, char **argv)
{
	char line[65536];
	long commands = 0, reconnects = 0;
	ssh_key key = NULL;

	if (argc != 3 || ssh_pki_import_privkey_file(argv[2], NULL, NULL, NULL, &key) != SSH_OK) {
		fprintf(stderr, "usage: floor USER KEYFILE < LIST\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *tab = strchr(line, '\t'), *sp = strchr(line, ' ');
		if (tab == NULL || sp == NULL || sp > tab)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*sp = *tab = '\0';
		struct host *h = host_of(line, (unsigned)strtoul(sp + 1, NULL, 10));
		if (h == NULL)
			return 1;
		int rc = 1;
		for (int tries = 0; rc == 1 && tries < 60000; tries++) {
			if (h->s == NULL || !ssh_is_connected(h->s)) {
				if (h->s) {
					ssh_free(h->s);
					reconnects++;
				}
				h->s = open_session(h, argv[1], key);
				if (h->s == NULL) {
					pause_ms(1);
					continue;
				}
			}
			rc = run_one(h->s, tab + 1);
			if (rc == 1) {
				ssh_disconnect(h->s);
				ssh_free(h->s);
				h->s = NULL;
				reconnects++;
			}
		}
		if (rc != 0) {
			fprintf(stderr, "floor: %s:%u: cannot run %s\n", h->addr, h->port, tab + 1);
			return 1;
		}
		commands++;
	}
	for (int i = 0; i < nhosts; i++)
		if (hosts[i].s) {
			ssh_disconnect(hosts[i].s);
			ssh_free(hosts[i].s);
		}
	ssh_key_free(key);
	printf("commands %ld reconnects %ld\n", commands, reconnects);
	return 0;
}
