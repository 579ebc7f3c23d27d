/*
 * check_sim_server.c — the parts of ccrsim's I/O half that need no sockets:
 * host keys kept in the state directory (sim_keys_host), the generated
 * client key and authorized_keys, and the authorized_keys parser
 * (sim_keys_clients).  The wire is tested by tests/integration/ccrsim_*.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "sim_lsnset.h"
#include "sim_server.h"

static char tmpdir[256];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_sim_server.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static int file_mode(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (int)(st.st_mode & 0777);
}

static void write_text(const char *path, const char *text)
{
	ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0600), 0);
}

static void free_keys(ssh_key *keys, int n)
{
	for (int i = 0; i < n; i++)
		ssh_key_free(keys[i]);
	free(keys);
}

START_TEST(host_key_made_once_then_reused)
{
	ssh_key a = NULL, b = NULL;
	char err[256] = "";
	char *path = xasprintf("%s/hostkeys/NODE1.key", tmpdir);

	ck_assert_int_eq(sim_keys_host(tmpdir, "NODE1", &a, err, sizeof(err)), 0);
	ck_assert_int_eq(ssh_key_type(a), SSH_KEYTYPE_ED25519);
	ck_assert(ssh_key_is_private(a));
	ck_assert_int_eq(file_mode(path), 0600);
	ck_assert_int_eq(sim_keys_host(tmpdir, "NODE1", &b, err, sizeof(err)), 0);
	ck_assert_int_eq(ssh_key_cmp(a, b, SSH_KEY_CMP_PRIVATE), 0);
	ssh_key_free(a);
	ssh_key_free(b);
	free(path);
}
END_TEST

START_TEST(host_key_file_names_are_safe)
{
	ssh_key a = NULL;
	char err[256] = "";
	char *path = xasprintf("%s/hostkeys/.._x_y.key", tmpdir);

	ck_assert_int_eq(sim_keys_host(tmpdir, "../x y", &a, err, sizeof(err)), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	ssh_key_free(a);
	free(path);
}
END_TEST

START_TEST(host_key_unreadable_is_an_error)
{
	ssh_key a = NULL;
	char err[256] = "";
	char *dir = xasprintf("%s/hostkeys", tmpdir);
	char *path = xasprintf("%s/NODE2.key", dir);

	ck_assert_int_eq(mkdir_p(dir, 0700), 0);
	write_text(path, "not a key\n");
	ck_assert_int_eq(sim_keys_host(tmpdir, "NODE2", &a, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "NODE2.key"));
	free(path);
	free(dir);
}
END_TEST

START_TEST(client_key_and_authorized_keys_generated)
{
	ssh_key *keys = NULL, *again = NULL;
	int n = 0, m = 0;
	char err[256] = "";
	char *priv = xasprintf("%s/client_ed25519", tmpdir);
	char *pub = xasprintf("%s/client_ed25519.pub", tmpdir);
	char *auth = xasprintf("%s/authorized_keys", tmpdir);
	ssh_key key = NULL;

	ck_assert_int_eq(sim_keys_clients(tmpdir, NULL, &keys, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(file_mode(priv), 0600);
	ck_assert_int_eq(file_mode(auth), 0600);
	ck_assert_int_eq(file_mode(pub), 0644);
	ck_assert_int_eq(ssh_pki_import_privkey_file(priv, NULL, NULL, NULL, &key), SSH_OK);
	ck_assert_int_eq(ssh_key_cmp(key, keys[0], SSH_KEY_CMP_PUBLIC), 0);
	/* A second start keeps the key. */
	ck_assert_int_eq(sim_keys_clients(tmpdir, NULL, &again, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m, 1);
	ck_assert_int_eq(ssh_key_cmp(again[0], keys[0], SSH_KEY_CMP_PUBLIC), 0);
	ssh_key_free(key);
	free_keys(keys, n);
	free_keys(again, m);
	free(auth);
	free(pub);
	free(priv);
}
END_TEST

START_TEST(authorized_keys_options_comments_blanks)
{
	ssh_key a = sim_keys_generate(), b = sim_keys_generate();
	ssh_key *keys = NULL;
	char *b64a = NULL, *b64b = NULL;
	char err[256] = "";
	int n = 0;
	char *path = xasprintf("%s/ak", tmpdir);
	char *text;

	ck_assert_int_eq(ssh_pki_export_pubkey_base64(a, &b64a), SSH_OK);
	ck_assert_int_eq(ssh_pki_export_pubkey_base64(b, &b64b), SSH_OK);
	text = xasprintf("# keys\n\nssh-ed25519 %s alice@lab\r\n"
			 "from=\"127.0.0.1\",no-pty ssh-ed25519 %s\n   \n",
			 b64a, b64b);
	write_text(path, text);
	ck_assert_int_eq(sim_keys_clients(tmpdir, path, &keys, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(ssh_key_cmp(keys[0], a, SSH_KEY_CMP_PUBLIC), 0);
	ck_assert_int_eq(ssh_key_cmp(keys[1], b, SSH_KEY_CMP_PUBLIC), 0);
	/* --authorized-keys: no client key is generated. */
	free(path);
	path = xasprintf("%s/client_ed25519", tmpdir);
	ck_assert_int_ne(access(path, F_OK), 0);
	free_keys(keys, n);
	ssh_string_free_char(b64a);
	ssh_string_free_char(b64b);
	ssh_key_free(a);
	ssh_key_free(b);
	free(text);
	free(path);
}
END_TEST

START_TEST(authorized_keys_errors_name_the_line)
{
	ssh_key *keys = NULL;
	char err[256] = "";
	int n = 0;
	char *path = xasprintf("%s/ak", tmpdir);

	write_text(path, "# only a comment\n\nssh-ed25519 AAAAnotbase64!!\n");
	ck_assert_int_eq(sim_keys_clients(tmpdir, path, &keys, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "ak:3: not a public key line"));
	ck_assert_ptr_null(keys);
	write_text(path, "# nothing\n");
	ck_assert_int_eq(sim_keys_clients(tmpdir, path, &keys, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no public keys"));
	free(path);
	path = xasprintf("%s/missing", tmpdir);
	ck_assert_int_eq(sim_keys_clients(tmpdir, path, &keys, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "missing"));
	free(path);
}
END_TEST

/* A listening socket on 127.0.0.1, any port; its port in *port. */
static int test_listener(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static int test_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The set's one descriptor is readable exactly when a listener has a connection
 * waiting, and names that listener by its tag; a removed listener is not watched. */
START_TEST(listener_set_names_the_ready_listener)
{
	struct sim_lsnset *s = sim_lsnset_new();
	int port[3], fd[3];
	uint64_t tags[8];
	struct pollfd p;

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < 3; i++) {
		fd[i] = test_listener(&port[i]);
		ck_assert_int_eq(sim_lsnset_add(s, fd[i], 100 + (uint64_t)i), 0);
	}
	p = (struct pollfd){.fd = sim_lsnset_fd(s), .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	ck_assert_int_eq(sim_lsnset_ready(s, tags, 8), 0);
	int c1 = test_connect(port[1]);
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(sim_lsnset_ready(s, tags, 8), 1);
	ck_assert_uint_eq(tags[0], 101);
	/* level-triggered: still ready until accepted */
	ck_assert_int_eq(sim_lsnset_ready(s, tags, 8), 1);
	int a = accept(fd[1], NULL, NULL);
	ck_assert_int_ge(a, 0);
	ck_assert_int_eq(sim_lsnset_ready(s, tags, 8), 0);
	sim_lsnset_del(s, fd[2]);
	int c2 = test_connect(port[2]);
	ck_assert_int_eq(poll(&p, 1, 100), 0);
	close(c1);
	close(c2);
	close(a);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	sim_lsnset_free(s);
}
END_TEST

static Suite *sim_server_suite(void)
{
	Suite *s = suite_create("sim_server");
	TCase *tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, host_key_made_once_then_reused);
	tcase_add_test(tc, host_key_file_names_are_safe);
	tcase_add_test(tc, host_key_unreadable_is_an_error);
	tcase_add_test(tc, client_key_and_authorized_keys_generated);
	tcase_add_test(tc, authorized_keys_options_comments_blanks);
	tcase_add_test(tc, authorized_keys_errors_name_the_line);
	tcase_add_test(tc, listener_set_names_the_ready_listener);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_server_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
