/*
 * fuzz_common.h — what every libFuzzer target shares: a scratch file that
 * holds the current input for the loaders that only take a path, and the
 * location of the source tree (for the shipped playbook and scenario).
 *
 * Each fuzzer process gets its own scratch file (mkstemp under $TMPDIR, or
 * /dev/shm when it exists so rewriting it per input costs no disk I/O),
 * rewritten in place for every input and removed at exit.  Nothing here is
 * thread-safe: libFuzzer calls a target from one thread.
 */
#ifndef CCR_FUZZ_COMMON_H
#define CCR_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

static char fuzz_path[4096];

static void fuzz_cleanup(void)
{
	if (fuzz_path[0])
		unlink(fuzz_path);
}

/* The scratch directory: /dev/shm if usable, else $TMPDIR, else /tmp. */
static const char *fuzz_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	if (access("/dev/shm", W_OK) == 0)
		return "/dev/shm";
	return t && *t ? t : "/tmp";
}

/*
 * Replace the scratch file's content with data[0..size) and return its
 * path (static storage).  suffix ends the name (".yml", ".jsonl").  Aborts
 * when the file cannot be written: that is the harness failing, not the
 * code under test.
 */
static const char *fuzz_write_file(const uint8_t *data, size_t size, const char *suffix)
{
	if (fuzz_path[0] == '\0') {
		int n = snprintf(fuzz_path, sizeof(fuzz_path), "%s/ccrup-fuzz-XXXXXX%s",
				 fuzz_tmpdir(), suffix);
		int fd = mkstemps(fuzz_path, (int)strlen(suffix));
		if (n <= 0 || fd < 0) {
			perror("fuzz: mkstemps");
			abort();
		}
		close(fd);
		atexit(fuzz_cleanup);
	}
	FILE *fp = fopen(fuzz_path, "wb");
	if (fp == NULL || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
		perror("fuzz: write scratch file");
		abort();
	}
	return fuzz_path;
}

/* data as a NUL-terminated heap string (bytes after an embedded NUL are ignored by C code). */
static char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An invariant of the code under test failed: report, and crash so libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
