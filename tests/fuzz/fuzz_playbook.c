/*
 * fuzz_playbook.c — libFuzzer target for the playbook loader.
 *
 * The input is a playbook file: playbook_load() reads it through libyaml and
 * yamltree, then checks every key, expression, template and regex.  Beyond
 * "no crash, no leak, no undefined behaviour", the loader's contract is
 * checked: it returns a model exactly when it reported no error, and every
 * error it reports is located in the file it was given.
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "model.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write_file(data, size, ".yml");
	struct diag d;

	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	diag_init(&d);
	struct playbook *pb = playbook_load(path, &d);
	FUZZ_ASSERT((pb == NULL) == (d.total > 0));
	FUZZ_ASSERT(d.n <= DIAG_MAX && d.n <= d.total);
	for (int i = 0; i < d.n; i++) {
		FUZZ_ASSERT(d.v[i].msg != NULL && d.v[i].msg[0] != '\0');
		FUZZ_ASSERT(d.v[i].line >= 0 && d.v[i].col >= 0);
	}
	if (pb) {
		FUZZ_ASSERT(pb->nphases > 0 && strlen(pb->sha256) == 64);
		for (int i = 0; i < pb->nphases; i++)
			FUZZ_ASSERT(pb->phases[i].id != NULL);
	}
	diag_print(&d, devnull);
	diag_release(&d);
	playbook_free(pb);
	return 0;
}
