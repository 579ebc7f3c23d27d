/*
 * check_xport.c — the SSH transport against a real OpenSSH sshd.
 *
 * Each test (Check fork mode, checked fixture) gets a fresh temporary
 * directory with a generated ed25519 host key, a client key, an
 * authorized_keys file and an sshd_config, and an sshd -D listening on
 * 127.0.0.1 only, on a free port; teardown stops it by its pid.  A missing
 * sshd fails the suite: `make deps` installs openssh-server.
 *
 * sshd runs commands through root's login shell; "SetEnv SHLVL=1" makes
 * bash skip ~/.bashrc (which it otherwise sources for ssh commands), so a
 * slow rc file does not slow the suite.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "xknown.h"
#include "xport.h"

#define SSHD "/usr/sbin/sshd"

/* The per-test sshd and its files. */
static struct {
	char dir[128];	    /* temporary directory */
	char path[8][256];  /* scratch paths, see P_* */
	int port;	    /* sshd's port on 127.0.0.1 */
	pid_t pid;	    /* sshd -D process, or 0 */
	const char *ids[2]; /* {client key, NULL} */
} fx;

enum { P_HOSTKEY, P_CLIENTKEY, P_AUTHKEYS, P_CONFIG, P_KNOWN, P_LOG };

static void run(const char *fmt, ...) CCR_PRINTF(1, 2);

static void run(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = xvasprintf(fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
	free(cmd);
}

/*
 * A port for the test's sshd: below the ephemeral range (32768-60999), where
 * TIME_WAIT sockets of earlier runs can collide with a listener; spread by pid
 * so parallel test processes rarely try the same one first.
 */
static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int start = (int)(getpid() % 2750) * 4;

	for (int k = 0; k < 11000; k++) {
		int port = 21000 + (start + k) % 11000; /* 21000-31999 */
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		ck_assert_int_ge(fd, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_port = htons((uint16_t)port);
		int ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return port;
	}
	ck_abort_msg("no free port below 32768");
	return -1;
}

static int port_open(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	close(fd);
	return ok;
}

static void msleep(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Fork sshd -D after delay_ms; returns its pid. */
static pid_t sshd_spawn(int delay_ms)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(fx.path[P_LOG], O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 2);
		if (delay_ms > 0)
			msleep(delay_ms);
		char port[16];
		snprintf(port, sizeof(port), "%d", fx.port);
		execl(SSHD, SSHD, "-D", "-e", "-f", fx.path[P_CONFIG], "-p", port, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void sshd_start(void)
{
	fx.pid = sshd_spawn(0);
	for (int i = 0; i < 500 && !port_open(fx.port); i++)
		msleep(10);
	ck_assert_msg(port_open(fx.port), "sshd did not start; see %s", fx.path[P_LOG]);
}

static void sshd_stop(void)
{
	if (fx.pid > 0) {
		kill(fx.pid, SIGTERM);
		waitpid(fx.pid, NULL, 0);
		fx.pid = 0;
	}
}

static void keygen(const char *path, const char *pass)
{
	unlink(path);
	char *pub = xasprintf("%s.pub", path);
	unlink(pub);
	free(pub);
	run("ssh-keygen -q -t ed25519 -N '%s' -C ccrtest -f '%s'", pass, path);
}

static void setup(void)
{
	static const char *const names[] = {"host_key",	   "client_key",  "authorized_keys",
					    "sshd_config", "known_hosts", "sshd.log"};
	struct stat st;

	ck_assert_msg(access(SSHD, X_OK) == 0,
		      "OpenSSH server not installed (" SSHD " missing): run 'make deps', which "
		      "installs openssh-server; these tests need a real sshd");
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/check_xport.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	for (size_t i = 0; i < CCR_ARRAY_LEN(names); i++)
		snprintf(fx.path[i], sizeof(fx.path[i]), "%s/%s", fx.dir, names[i]);
	if (stat("/run/sshd", &st) < 0)
		ck_assert_int_eq(mkdir_p("/run/sshd", 0755), 0); /* sshd's privsep chroot */
	keygen(fx.path[P_HOSTKEY], "");
	keygen(fx.path[P_CLIENTKEY], "");
	run("cp '%s.pub' '%s'", fx.path[P_CLIENTKEY], fx.path[P_AUTHKEYS]);
	fx.port = free_port();
	char *conf = xasprintf("ListenAddress 127.0.0.1\nHostKey %s\nPidFile none\n"
			       "AuthorizedKeysFile %s\nStrictModes no\nUsePAM no\n"
			       "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
			       "KbdInteractiveAuthentication no\nSetEnv SHLVL=1\nLogLevel ERROR\n",
			       fx.path[P_HOSTKEY], fx.path[P_AUTHKEYS]);
	ck_assert_int_eq(write_file_atomic(fx.path[P_CONFIG], conf, strlen(conf), 0600), 0);
	free(conf);
	fx.ids[0] = fx.path[P_CLIENTKEY];
	unsetenv("SSH_AUTH_SOCK");
	unsetenv("CCRUP_KEY_PASSPHRASE");
	sshd_start();
}

/*
 * "sleep 30" for the timeout and stop tests.  It records its pid so
 * teardown can end it: OpenSSH refuses the TERM signal request for root
 * sessions ("session signalling requires privilege separation"), and
 * without a pty closing the channel does not end the command.
 */
static char *sleeper(void)
{
	return xasprintf("echo $$ > %s/sleeper.pid; exec sleep 30", fx.dir);
}

static void teardown(void)
{
	char *pidfile = xasprintf("%s/sleeper.pid", fx.dir), *data = NULL;
	size_t len = 0;
	int64_t pid = 0;

	if (read_file(pidfile, 64, &data, &len) == 0) {
		data[strcspn(data, "\n")] = '\0';
		if (parse_int64(data, 2, INT32_MAX, &pid) == 0)
			kill((pid_t)pid, SIGKILL);
	}
	free(data);
	free(pidfile);
	sshd_stop();
	run("rm -rf '%s'", fx.dir);
}

static struct xport_options base_opts(const char *name, int trust)
{
	struct xport_options o = {
	    .name = name,
	    .address = "127.0.0.1",
	    .port = fx.port,
	    .user = "root",
	    .identities = fx.ids,
	    .known_hosts = fx.path[P_KNOWN],
	    .ssh_config = "none",
	    .trust_new_hosts = trust,
	    .connect_timeout_ms = 5000,
	};
	return o;
}

/* A connected xport for NODE1 that trusted the host key. */
static struct xport *trusted(void)
{
	struct xport_options o = base_opts("NODE1", 1);
	struct xport *x = xport_new(&o);
	ck_assert_msg(xport_connect(x) == XPORT_OK, "%s", xport_error(x));
	return x;
}

/* "SHA256:…" of a public key file, from ssh-keygen (not from the code under test). */
static char *fingerprint_of(const char *pubfile)
{
	char *cmd = xasprintf("ssh-keygen -l -E sha256 -f '%s'", pubfile);
	FILE *p = popen(cmd, "r");
	char line[512] = "";

	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	pclose(p);
	free(cmd);
	char *start = strstr(line, "SHA256:");
	ck_assert_ptr_nonnull(start);
	return xstrndup(start, strcspn(start, " "));
}

static char *host_pub(void)
{
	return xasprintf("%s.pub", fx.path[P_HOSTKEY]);
}

START_TEST(unknown_host_refused)
{
	struct xport_options o = base_opts("NODE1", 0);
	struct xport *x = xport_new(&o);
	char *pub = host_pub(), *fp = fingerprint_of(pub);
	char want[256];

	ck_assert_int_eq(xport_connect(x), XPORT_HOSTKEY);
	snprintf(want, sizeof(want), "host key for NODE1 (127.0.0.1:%d) is not known", fx.port);
	ck_assert_msg(str_startswith(xport_error(x), want), "%s", xport_error(x));
	ck_assert_ptr_nonnull(strstr(xport_error(x), fp));
	ck_assert_ptr_nonnull(strstr(xport_error(x), "--trust-new-hosts"));
	ck_assert_int_eq(access(fx.path[P_KNOWN], F_OK), -1);
	ck_assert(!xport_is_connected(x));

	/* Host key problems are not retried. */
	int64_t t0 = now_mono_ms();
	ck_assert_int_eq(xport_connect_retry(x, 5000, NULL), XPORT_HOSTKEY);
	ck_assert_int_lt(now_mono_ms() - t0, 1500);
	free(pub);
	free(fp);
	xport_free(x);
}
END_TEST

START_TEST(trust_new_records_key_atomically)
{
	char *pub = host_pub(), *data = NULL, *key = NULL, *want;
	size_t len;
	struct stat st;
	const char old[] = "# kept\n|1|abc=|def= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBogus";

	ck_assert_int_eq(write_file_atomic(fx.path[P_KNOWN], old, sizeof(old) - 1, 0644), 0);
	struct xport *x = trusted();
	xport_free(x);

	ck_assert_int_eq(stat(fx.path[P_KNOWN], &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(read_file(pub, 4096, &key, &len), 0);
	*strrchr(key, ' ') = '\0'; /* drop the comment: "ssh-ed25519 AAAA…" */
	want = xasprintf("%s\n[127.0.0.1]:%d %s\n", old, fx.port, key);
	ck_assert_int_eq(read_file(fx.path[P_KNOWN], 1 << 20, &data, &len), 0);
	ck_assert_str_eq(data, want);

	/* Known now: a second connect needs no flag. */
	struct xport_options o = base_opts("NODE1", 0);
	x = xport_new(&o);
	ck_assert_msg(xport_connect(x) == XPORT_OK, "%s", xport_error(x));
	xport_free(x);
	free(data);
	free(want);
	free(key);
	free(pub);
}
END_TEST

START_TEST(changed_key_refused_with_both_fingerprints)
{
	char *pub = host_pub();
	char *old_fp = fingerprint_of(pub);
	xport_free(trusted());

	sshd_stop();
	keygen(fx.path[P_HOSTKEY], "");
	sshd_start();
	char *new_fp = fingerprint_of(pub);
	ck_assert_str_ne(old_fp, new_fp);

	struct xport_options o = base_opts("NODE1", 1); /* trusting new hosts does not help */
	struct xport *x = xport_new(&o);
	ck_assert_int_eq(xport_connect(x), XPORT_HOSTKEY);
	char *want = xasprintf("host key for NODE1 (127.0.0.1:%d) has CHANGED: known_hosts has %s, "
			       "server offered %s — possible man-in-the-middle",
			       fx.port, old_fp, new_fp);
	ck_assert_msg(str_startswith(xport_error(x), want), "%s", xport_error(x));
	ck_assert_ptr_nonnull(strstr(xport_error(x), "remove the old entry"));
	/* ... and which one: the line of the known_hosts file. */
	char *line =
	    xasprintf("remove the old entry: line 1 of %s (ssh-keygen -R '[127.0.0.1]:%d' -f %s)",
		      o.known_hosts, fx.port, o.known_hosts);
	ck_assert_msg(strstr(xport_error(x), line) != NULL, "%s", xport_error(x));
	free(line);
	xport_free(x);
	free(want);
	free(old_fp);
	free(new_fp);
	free(pub);
}
END_TEST

struct seen {
	struct sbuf out, err;
};

static void collect(int stream, const char *data, size_t len, void *arg)
{
	struct seen *s = arg;
	sbuf_add(stream == 1 ? &s->out : &s->err, data, len);
}

START_TEST(exec_captures_output_and_status)
{
	struct xport *x = trusted();
	struct xport_result r;
	struct seen s;

	sbuf_init(&s.out);
	sbuf_init(&s.err);
	xport_result_init(&r);
	ck_assert_int_eq(xport_exec(x, "sh -c 'echo out; echo err >&2; exit 3'", 10000, 4096,
				    collect, &s, NULL, &r),
			 XPORT_OK);
	ck_assert_int_eq(r.outcome, XPORT_OK);
	ck_assert_int_eq(r.exit, 3);
	ck_assert_str_eq(r.out.buf, "out\n");
	ck_assert_str_eq(r.err.buf, "err\n");
	ck_assert_str_eq(s.out.buf, "out\n");
	ck_assert_str_eq(s.err.buf, "err\n");
	ck_assert(!r.out_truncated && !r.err_truncated);
	ck_assert_ptr_null(r.signal);

	ck_assert_int_eq(xport_exec(x, "true", 10000, 4096, NULL, NULL, NULL, &r), XPORT_OK);
	ck_assert_int_eq(r.exit, 0);
	ck_assert_uint_eq(r.out.len, 0);
	xport_result_release(&r);
	sbuf_release(&s.out);
	sbuf_release(&s.err);
	xport_free(x);
}
END_TEST

START_TEST(cap_truncates_but_reads_everything)
{
	struct xport *x = trusted();
	struct xport_result r;
	struct seen s;

	sbuf_init(&s.out);
	sbuf_init(&s.err);
	xport_result_init(&r);
	ck_assert_int_eq(xport_exec(x, "head -c 300000 /dev/zero | tr '\\000' x; echo tail >&2",
				    10000, 1000, collect, &s, NULL, &r),
			 XPORT_OK);
	ck_assert_int_eq(r.exit, 0);
	ck_assert_uint_eq(r.out.len, 1000);
	ck_assert(r.out_truncated);
	ck_assert_uint_eq(s.out.len, 300000); /* the callback saw it all */
	ck_assert_str_eq(r.err.buf, "tail\n");
	ck_assert(!r.err_truncated);
	xport_result_release(&r);
	sbuf_release(&s.out);
	sbuf_release(&s.err);
	xport_free(x);
}
END_TEST

START_TEST(timeout_is_fast_and_session_survives)
{
	struct xport *x = trusted();
	struct xport_result r;

	xport_result_init(&r);
	char *cmd = sleeper();
	int64_t t0 = now_mono_ms();
	ck_assert_int_eq(xport_exec(x, cmd, 500, 4096, NULL, NULL, NULL, &r), XPORT_TIMEOUT);
	int64_t took = now_mono_ms() - t0;
	ck_assert_msg(took >= 450 && took < 1500, "timeout took %lld ms", (long long)took);
	ck_assert_int_eq(r.exit, -1);
	ck_assert_ptr_nonnull(strstr(xport_error(x), "timed out"));

	ck_assert_int_eq(xport_exec(x, "echo ok", 5000, 4096, NULL, NULL, NULL, &r), XPORT_OK);
	ck_assert_str_eq(r.out.buf, "ok\n");
	ck_assert_uint_eq(xport_connect_count(x), 1);
	xport_result_release(&r);
	xport_free(x);
	free(cmd);
}
END_TEST

START_TEST(drop_then_reconnect)
{
	struct xport *x = trusted();
	struct xport_result r;

	xport_result_init(&r);
	/* $PPID of the command's shell is the sshd session process. */
	ck_assert_int_eq(
	    xport_exec(x, "echo before; kill -9 $PPID; sleep 1", 10000, 4096, NULL, NULL, NULL, &r),
	    XPORT_DROPPED);
	ck_assert_ptr_nonnull(strstr(xport_error(x), "connection lost"));
	ck_assert(!xport_is_connected(x));
	ck_assert_int_eq(xport_exec(x, "echo again", 5000, 4096, NULL, NULL, NULL, &r), XPORT_OK);
	ck_assert_str_eq(r.out.buf, "again\n");
	ck_assert_uint_eq(xport_connect_count(x), 2);
	xport_result_release(&r);
	xport_free(x);
}
END_TEST

/* Kill every per-connection process of our sshd (its children), as a node reboot would. */
static void kill_sessions(void)
{
	char path[64], *data = NULL, *p, *end;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)fx.pid, (int)fx.pid);
	ck_assert_int_eq(read_file(path, 4096, &data, &len), 0);
	ck_assert_msg(len > 0, "sshd has no session process");
	for (p = data; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		kill((pid_t)pid, SIGKILL);
	}
	free(data);
	msleep(200);
}

START_TEST(session_that_died_while_idle_is_replaced)
{
	struct xport *x = trusted();
	struct xport_result r;

	xport_result_init(&r);
	kill_sessions();
	/* The channel open fails on the dead session; the command was not sent, so it retries. */
	ck_assert_msg(xport_exec(x, "echo fresh", 5000, 64, NULL, NULL, NULL, &r) == XPORT_OK, "%s",
		      xport_error(x));
	ck_assert_str_eq(r.out.buf, "fresh\n");
	ck_assert_uint_eq(xport_connect_count(x), 2);
	xport_result_release(&r);
	xport_free(x);
}
END_TEST

START_TEST(signaled_command)
{
	struct xport *x = trusted();
	struct xport_result r;

	xport_result_init(&r);
	ck_assert_int_eq(xport_exec(x, "sh -c 'kill -9 $$'", 5000, 4096, NULL, NULL, NULL, &r),
			 XPORT_SIGNALED);
	ck_assert_str_eq(r.signal, "KILL");
	ck_assert_int_eq(r.exit, -1);
	ck_assert_ptr_nonnull(strstr(xport_error(x), "signal KILL"));
	ck_assert(xport_is_connected(x));
	xport_result_release(&r);
	xport_free(x);
}
END_TEST

START_TEST(fifty_commands_one_session_nodelay)
{
	struct xport *x = trusted();
	struct xport_result r;
	int v = 0;
	socklen_t len = sizeof(v);

	xport_result_init(&r);
	int64_t t0 = now_mono_ms();
	for (int i = 0; i < 50; i++) {
		char cmd[32], want[32];
		snprintf(cmd, sizeof(cmd), "echo %d", i);
		snprintf(want, sizeof(want), "%d\n", i);
		ck_assert_int_eq(xport_exec(x, cmd, 5000, 4096, NULL, NULL, NULL, &r), XPORT_OK);
		ck_assert_str_eq(r.out.buf, want);
	}
	int64_t took = now_mono_ms() - t0;
	fprintf(stderr, "50 commands on one session: %lld ms\n", (long long)took);
	ck_assert_uint_eq(xport_connect_count(x), 1);
	int fd = xport_socket(x);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	ck_assert_int_ne(v, 0);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &len), 0);
	ck_assert_int_ne(v, 0);
	xport_result_release(&r);
	xport_free(x);
}
END_TEST

/* Every command after the first runs on the channel opened ahead, and says so. */
START_TEST(next_channel_opened_ahead)
{
	struct xport *x = trusted();
	struct xport_result r;

	xport_result_init(&r);
	for (int i = 0; i < 10; i++) {
		char cmd[64], want[32];
		snprintf(cmd, sizeof(cmd), "echo %d; exit %d", i, i);
		snprintf(want, sizeof(want), "%d\n", i);
		ck_assert_int_eq(xport_exec(x, cmd, 5000, 4096, NULL, NULL, NULL, &r), XPORT_OK);
		ck_assert_str_eq(r.out.buf, want);
		ck_assert_int_eq(r.exit, i);
	}
	ck_assert_uint_eq(xport_channels_ahead(x), 9);
	ck_assert_uint_eq(xport_connect_count(x), 1);
	xport_result_release(&r);
	xport_free(x);
}
END_TEST

/* sshd allowing one channel per connection: the channel opened ahead must not cost a command. */
START_TEST(one_session_per_connection_still_runs)
{
	FILE *f = fopen(fx.path[P_CONFIG], "a");
	ck_assert_ptr_nonnull(f);
	fputs("MaxSessions 1\n", f);
	fclose(f);
	sshd_stop();
	sshd_start();
	struct xport *x = trusted();
	struct xport_result r;

	xport_result_init(&r);
	for (int i = 0; i < 5; i++) {
		ck_assert_msg(xport_exec(x, "echo one", 5000, 64, NULL, NULL, NULL, &r) == XPORT_OK,
			      "command %d: %s", i, xport_error(x));
		ck_assert_str_eq(r.out.buf, "one\n");
	}
	ck_assert_uint_eq(xport_connect_count(x), 1);
	xport_result_release(&r);
	xport_free(x);
}
END_TEST

static volatile sig_atomic_t stop_flag;

static void *set_stop_later(void *arg)
{
	(void)arg;
	msleep(300);
	stop_flag = 1;
	return NULL;
}

START_TEST(stop_flag_honoured)
{
	struct xport *x = trusted();
	struct xport_result r;
	pthread_t t;

	xport_result_init(&r);
	stop_flag = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, set_stop_later, NULL), 0);
	char *cmd = sleeper();
	int64_t t0 = now_mono_ms();
	ck_assert_int_eq(xport_exec(x, cmd, 20000, 4096, NULL, NULL, &stop_flag, &r),
			 XPORT_STOPPED);
	ck_assert_int_lt(now_mono_ms() - t0, 1500);
	pthread_join(t, NULL);
	ck_assert_int_eq(xport_connect_retry(x, 1000, &stop_flag), XPORT_STOPPED);
	xport_result_release(&r);
	xport_free(x);
	free(cmd);
}
END_TEST

START_TEST(connection_refused_names_node)
{
	struct xport_options o = base_opts("NODE2", 1);
	o.port = free_port();
	struct xport *x = xport_new(&o);
	struct xport_result r;
	char want[128];

	xport_result_init(&r);
	snprintf(want, sizeof(want), "NODE2 (127.0.0.1:%d): connection refused", o.port);
	ck_assert_int_eq(xport_exec(x, "true", 1000, 10, NULL, NULL, NULL, &r),
			 XPORT_CONNECT_FAILED);
	ck_assert_str_eq(xport_error(x), want);

	int64_t t0 = now_mono_ms();
	ck_assert_int_eq(xport_connect_retry(x, 1000, NULL), XPORT_CONNECT_FAILED);
	int64_t took = now_mono_ms() - t0;
	ck_assert_msg(took >= 900 && took < 2000, "retry took %lld ms", (long long)took);
	xport_result_release(&r);
	xport_free(x);
}
END_TEST

START_TEST(connect_retry_waits_for_node)
{
	xport_free(trusted()); /* record the key */
	sshd_stop();
	struct xport_options o = base_opts("NODE1", 0);
	struct xport *x = xport_new(&o);
	fx.pid = sshd_spawn(1000); /* "the node reboots" and is back in a second */
	int64_t t0 = now_mono_ms();
	ck_assert_msg(xport_connect_retry(x, 15000, NULL) == XPORT_OK, "%s", xport_error(x));
	int64_t took = now_mono_ms() - t0;
	ck_assert_msg(took >= 900 && took < 8000, "took %lld ms", (long long)took);
	xport_free(x);
}
END_TEST

START_TEST(auth_failures)
{
	char *other = xasprintf("%s/other_key", fx.dir);
	char *locked = xasprintf("%s/locked_key", fx.dir);
	const char *ids[] = {other, NULL};

	keygen(other, "");
	xport_free(trusted());
	struct xport_options o = base_opts("NODE1", 0);
	o.identities = ids;
	struct xport *x = xport_new(&o);
	ck_assert_int_eq(xport_connect(x), XPORT_AUTH_FAILED);
	char *want = xasprintf("NODE1 (127.0.0.1:%d): authentication failed for user root (tried "
			       "%s (not accepted))",
			       fx.port, other);
	ck_assert_str_eq(xport_error(x), want);
	free(want);
	xport_free(x);

	/* A passphrase-protected key: refused without the passphrase, used with it. */
	keygen(locked, "s3cret");
	run("cat '%s.pub' >> '%s'", locked, fx.path[P_AUTHKEYS]);
	ids[0] = locked;
	x = xport_new(&o);
	ck_assert_int_eq(xport_connect(x), XPORT_AUTH_FAILED);
	ck_assert_ptr_nonnull(strstr(xport_error(x), "cannot load"));
	ck_assert_ptr_null(strstr(xport_error(x), "s3cret"));
	setenv("CCRUP_KEY_PASSPHRASE", "s3cret", 1);
	ck_assert_msg(xport_connect(x) == XPORT_OK, "%s", xport_error(x));
	xport_free(x);
	free(other);
	free(locked);
}
END_TEST

START_TEST(ssh_config_read_first_explicit_wins)
{
	char *conf = xasprintf("%s/ssh_config", fx.dir);
	char *text = xasprintf("Host 127.0.0.1\n  Port 1\n  User nobody\n"
			       "Host node1alias\n  HostName 127.0.0.1\n  Port %d\n  User root\n",
			       fx.port);
	ck_assert_int_eq(write_file_atomic(conf, text, strlen(text), 0600), 0);

	/* Explicit address, port and user override the config's Port 1 / User nobody. */
	struct xport_options o = base_opts("NODE1", 1);
	o.ssh_config = conf;
	struct xport *x = xport_new(&o);
	ck_assert_msg(xport_connect(x) == XPORT_OK, "%s", xport_error(x));
	xport_free(x);

	/* Nothing explicit: the config supplies HostName, Port and User. */
	o.address = NULL;
	o.port = 0;
	o.user = NULL;
	o.name = "node1alias";
	x = xport_new(&o);
	ck_assert_msg(xport_connect(x) == XPORT_OK, "%s", xport_error(x));
	xport_free(x);
	free(conf);
	free(text);
}
END_TEST

static void *thread_worker(void *arg)
{
	struct xport *x = arg;
	struct xport_result r;
	long bad = 0;

	xport_result_init(&r);
	for (int i = 0; i < 10; i++)
		if (xport_exec(x, "echo t", 10000, 64, NULL, NULL, NULL, &r) != XPORT_OK ||
		    strcmp(r.out.buf, "t\n") != 0)
			bad++;
	xport_result_release(&r);
	return (void *)bad;
}

START_TEST(threads_with_separate_xports)
{
	struct xport *xs[4];
	pthread_t t[4];

	xport_free(trusted());
	for (int i = 0; i < 4; i++) {
		struct xport_options o = base_opts("NODE1", 0);
		xs[i] = xport_new(&o);
		ck_assert_int_eq(pthread_create(&t[i], NULL, thread_worker, xs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *bad = NULL;
		pthread_join(t[i], &bad);
		ck_assert_msg(bad == NULL, "thread %d: %ld failures: %s", i, (long)bad,
			      xport_error(xs[i]));
		ck_assert_uint_eq(xport_connect_count(xs[i]), 1);
		xport_free(xs[i]);
	}
}
END_TEST

/* A thread connecting its xport once (the gate tests). */
static void *gate_worker(void *arg)
{
	struct xport *x = arg;
	return (void *)(intptr_t)xport_connect(x);
}

/*
 * 8 threads connecting at once through a gate of 2: all get in, never more
 * than 2 handshakes were in flight (the gate's own count, taken under its
 * lock when a handshake starts), and the others waited their turn.
 */
START_TEST(gate_bounds_concurrent_handshakes)
{
	enum { N = 8 };
	volatile sig_atomic_t never = 0;
	struct xport_gate *g = xport_gate_new(2, &never);
	struct xport *xs[N];
	pthread_t t[N];

	xport_free(trusted()); /* record the host key */
	for (int i = 0; i < N; i++) {
		struct xport_options o = base_opts("NODE1", 0);
		o.gate = g;
		xs[i] = xport_new(&o);
	}
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, gate_worker, xs[i]), 0);
	for (int i = 0; i < N; i++) {
		void *o = NULL;
		pthread_join(t[i], &o);
		ck_assert_msg((intptr_t)o == XPORT_OK, "thread %d: %s", i, xport_error(xs[i]));
	}
	ck_assert_int_eq(xport_gate_stats(g).peak, 2);
	ck_assert_uint_gt(xport_gate_stats(g).waits, 0);
	for (int i = 0; i < N; i++)
		xport_free(xs[i]);
	xport_gate_free(g);
}
END_TEST

/*
 * The connect timeout counts from the handshake, not the wait for a slot:
 * with the only slot held for 1.5 s, a node with a 1 s timeout still
 * connects once the slot is free.  A stop request ends the wait.
 */
START_TEST(gate_wait_not_counted_and_stoppable)
{
	volatile sig_atomic_t stop = 0;
	struct xport_gate *g = xport_gate_new(1, &stop);
	struct xport_options o = base_opts("NODE1", 1);
	pthread_t t;
	void *rc = NULL;

	o.gate = g;
	o.connect_timeout_ms = 1000;
	struct xport *x = xport_new(&o);
	ck_assert_int_eq(xport_gate_enter(g), 0);
	int64_t t0 = now_mono_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, gate_worker, x), 0);
	msleep(1500);
	xport_gate_leave(g);
	pthread_join(t, &rc);
	ck_assert_msg((intptr_t)rc == XPORT_OK, "%s", xport_error(x));
	ck_assert_int_ge(now_mono_ms() - t0, 1500);
	xport_disconnect(x);

	ck_assert_int_eq(xport_gate_enter(g), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, gate_worker, x), 0);
	msleep(200);
	t0 = now_mono_ms();
	stop = 1;
	pthread_join(t, &rc);
	ck_assert_int_eq((intptr_t)rc, XPORT_STOPPED);
	ck_assert_int_lt(now_mono_ms() - t0, 1000);
	ck_assert_ptr_nonnull(strstr(xport_error(x), "stopped while waiting to connect"));
	ck_assert_int_eq(xport_gate_enter(g), -1); /* stopped: no new entries either */
	xport_gate_leave(g);
	ck_assert_int_eq(xport_gate_stats(g).peak, 1);
	xport_free(x);
	xport_gate_free(g);
}
END_TEST

/* Connect a fresh xport for NODE1 through cache k; the outcome (x freed, error copied). */
static enum xport_outcome connect_cached(struct xport_known *k, int trust, char **err)
{
	struct xport_options o = base_opts("NODE1", trust);
	o.known = k;
	struct xport *x = xport_new(&o);
	enum xport_outcome r = xport_connect(x);
	*err = xstrdup(xport_error(x));
	xport_free(x);
	return r;
}

/*
 * The known_hosts cache: parsed once for many connections; a key it does not
 * have recorded (changed, unknown) is judged by libssh with the usual
 * errors; a file replaced is read again; hashed names are left to libssh.
 */
START_TEST(known_hosts_cache_reads_once_rereads_changed_file)
{
	struct xport_known *k = xport_known_new();
	char *pub = host_pub(), *old_fp = fingerprint_of(pub), *err = NULL, *key = NULL;
	size_t len;

	xport_free(trusted());
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(connect_cached(k, 0, &err) == XPORT_OK, "%s", err);
		free(err);
	}
	ck_assert_uint_eq(xport_known_stats(k).loads, 1);
	ck_assert_uint_eq(xport_known_stats(k).hits, 3);

	/* A changed key: the cache cannot vouch for it; libssh refuses as before. */
	sshd_stop();
	keygen(fx.path[P_HOSTKEY], "");
	sshd_start();
	char *new_fp = fingerprint_of(pub);
	ck_assert_int_eq(connect_cached(k, 1, &err), XPORT_HOSTKEY);
	char *want = xasprintf("host key for NODE1 (127.0.0.1:%d) has CHANGED: known_hosts has %s, "
			       "server offered %s — possible man-in-the-middle",
			       fx.port, old_fp, new_fp);
	ck_assert_msg(str_startswith(err, want), "%s", err);
	free(err);
	ck_assert_uint_eq(xport_known_stats(k).loads, 1);
	ck_assert_uint_eq(xport_known_stats(k).hits, 3);

	/* The file replaced with the new key: read again, and the key is known. */
	ck_assert_int_eq(read_file(pub, 4096, &key, &len), 0);
	char *line = xasprintf("[127.0.0.1]:%d %s", fx.port, key);
	ck_assert_int_eq(write_file_atomic(fx.path[P_KNOWN], line, strlen(line), 0600), 0);
	ck_assert_msg(connect_cached(k, 0, &err) == XPORT_OK, "%s", err);
	free(err);
	ck_assert_uint_eq(xport_known_stats(k).loads, 2);
	ck_assert_uint_eq(xport_known_stats(k).hits, 4);

	/* Hashed names are libssh's: still known, not by the cache. */
	run("ssh-keygen -q -H -f '%s' >/dev/null 2>&1", fx.path[P_KNOWN]);
	ck_assert_msg(connect_cached(k, 0, &err) == XPORT_OK, "%s", err);
	free(err);
	ck_assert_uint_eq(xport_known_stats(k).loads, 3);
	ck_assert_uint_eq(xport_known_stats(k).hits, 4);

	/* Another host's entry only: unknown, refused with today's words. */
	const char other[] =
	    "[127.0.0.9]:22 ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAIOb0yUi1HuRVuv8MIiLsV4u7eG0ZJoLA5b3yH+SxJp8J\n";
	ck_assert_int_eq(write_file_atomic(fx.path[P_KNOWN], other, sizeof(other) - 1, 0600), 0);
	ck_assert_int_eq(connect_cached(k, 0, &err), XPORT_HOSTKEY);
	free(want);
	want = xasprintf("host key for NODE1 (127.0.0.1:%d) is not known: server offered %s; "
			 "refusing to connect",
			 fx.port, new_fp);
	ck_assert_msg(str_startswith(err, want), "%s", err);
	free(err);
	/* --trust-new-hosts records it; the next connect finds it in the re-read file. */
	ck_assert_msg(connect_cached(k, 1, &err) == XPORT_OK, "%s", err);
	free(err);
	ck_assert_msg(connect_cached(k, 0, &err) == XPORT_OK, "%s", err);
	free(err);
	ck_assert_uint_eq(xport_known_stats(k).hits, 5);
	ck_assert_uint_eq(xport_known_stats(k).loads, 5);
	free(line);
	free(key);
	free(want);
	free(new_fp);
	free(old_fp);
	free(pub);
	xport_known_free(k);
}
END_TEST

static Suite *xport_suite(void)
{
	Suite *s = suite_create("xport");
	TCase *tc = tcase_create("sshd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, unknown_host_refused);
	tcase_add_test(tc, trust_new_records_key_atomically);
	tcase_add_test(tc, changed_key_refused_with_both_fingerprints);
	tcase_add_test(tc, exec_captures_output_and_status);
	tcase_add_test(tc, cap_truncates_but_reads_everything);
	tcase_add_test(tc, timeout_is_fast_and_session_survives);
	tcase_add_test(tc, drop_then_reconnect);
	tcase_add_test(tc, session_that_died_while_idle_is_replaced);
	tcase_add_test(tc, signaled_command);
	tcase_add_test(tc, fifty_commands_one_session_nodelay);
	tcase_add_test(tc, next_channel_opened_ahead);
	tcase_add_test(tc, one_session_per_connection_still_runs);
	tcase_add_test(tc, stop_flag_honoured);
	tcase_add_test(tc, connection_refused_names_node);
	tcase_add_test(tc, connect_retry_waits_for_node);
	tcase_add_test(tc, auth_failures);
	tcase_add_test(tc, ssh_config_read_first_explicit_wins);
	tcase_add_test(tc, threads_with_separate_xports);
	tcase_add_test(tc, gate_bounds_concurrent_handshakes);
	tcase_add_test(tc, gate_wait_not_counted_and_stoppable);
	tcase_add_test(tc, known_hosts_cache_reads_once_rereads_changed_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xport_suite());
	int failed;

	if (xport_global_init() != 0) {
		fprintf(stderr, "ssh_init failed\n");
		return EXIT_FAILURE;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	xport_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
