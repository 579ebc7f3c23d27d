/*
 * reap.c — run a command as a child subreaper and account for everything it
 * started: `reap CMD ARGS...`.  Processes that daemonize (ssh -f masters,
 * Ansible's ControlPersist masters) are re-parented to us instead of init;
 * when CMD exits they are sent SIGTERM and reaped, so their CPU time and
 * memory end up in our children's rusage — and so in /usr/bin/time's figures
 * around us.  Exits with CMD's status.  Costs well under a millisecond.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Send sig to every process whose parent is us.  Returns how many. */
static int signal_children(int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	pid_t me = getpid();

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[64], buf[512];
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		char *p = strrchr(buf, ')'); /* comm may hold spaces */
		if (p == NULL)
			continue;
		long ppid = strtol(p + 3, NULL, 10); /* ") S PPID" */
		if (ppid == (long)me && kill((pid_t)pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: reap CMD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		perror("reap: PR_SET_CHILD_SUBREAPER");
	pid_t child = fork();
	if (child < 0) {
		perror("reap: fork");
		return 1;
	}
	if (child == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "reap: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	/* Whatever CMD left running (persistent ssh masters) is ended and reaped. */
	for (int round = 0; round < 100 && signal_children(round < 25 ? SIGTERM : SIGKILL) > 0;
	     round++) {
		struct timespec ts = {0, 2000000};
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		nanosleep(&ts, NULL);
	}
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
