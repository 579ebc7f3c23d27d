/*
 * fuzz_inventory.c — libFuzzer target for the inventory loader and for the
 * cross-check of an inventory against the shipped CCR playbook.
 *
 * playbooks/ccr-sp1.yml is loaded once; each input is an inventory file,
 * loaded with inventory_load() and, when that succeeds, checked with
 * model_validate() (var kinds, required vars, groups, acknowledged gates).
 * A valid inventory then goes the way of `ccrup plan`: offline role
 * binding, plan_compile() for every cluster, and both renderers.
 * Contracts checked besides memory safety: a model exactly when no error
 * was reported, and model_validate() returns -1 exactly when it added one.
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "model.h"
#include "plan.h"

static struct playbook *ccr_pb;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diag d;

	(void)argc;
	(void)argv;
	diag_init(&d);
	ccr_pb = playbook_load(FUZZ_SRCDIR "/playbooks/ccr-sp1.yml", &d);
	if (ccr_pb == NULL) {
		diag_print(&d, stderr);
		abort();
	}
	diag_release(&d);
	devnull = fopen("/dev/null", "w");
	return 0;
}

/* What `ccrup plan` does with a valid inventory, output thrown away. */
static void plan_all(const struct inventory *inv)
{
	char err[512];

	for (int i = 0; i < inv->nclusters; i++) {
		struct role_binding *roles = NULL;
		int nroles = 0;
		const struct cluster_def *cl = &inv->clusters[i];
		if (plan_assume_roles(ccr_pb, cl, &roles, &nroles, err, sizeof(err)) < 0)
			continue;
		struct plan *p = plan_compile(ccr_pb, inv, cl, roles, nroles, err, sizeof(err));
		free(roles);
		if (p == NULL)
			continue;
		const struct plan *const plans[1] = {p};
		plan_render_text(devnull, plans, 1, 80);
		json_t *js = plan_to_json(plans, 1);
		FUZZ_ASSERT(js != NULL);
		json_decref(js);
		plan_free(p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write_file(data, size, ".yml");
	struct diag d;

	diag_init(&d);
	struct inventory *inv = inventory_load(path, &d);
	FUZZ_ASSERT((inv == NULL) == (d.total > 0));
	if (inv) {
		FUZZ_ASSERT(strlen(inv->sha256) == 64);
		int rc = model_validate(ccr_pb, inv, &d);
		FUZZ_ASSERT(rc == 0 || rc == -1);
		FUZZ_ASSERT((rc == -1) == (d.total > 0));
		if (rc == 0)
			plan_all(inv);
	}
	FUZZ_ASSERT(d.n <= DIAG_MAX && d.n <= d.total);
	for (int i = 0; i < d.n; i++)
		FUZZ_ASSERT(d.v[i].msg != NULL && d.v[i].line >= 0 && d.v[i].col >= 0);
	diag_print(&d, devnull);
	diag_release(&d);
	inventory_free(inv);
	return 0;
}
