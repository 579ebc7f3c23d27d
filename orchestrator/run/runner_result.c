/*
 * runner_result.c — the step machine's results turned into what the world
 * sees: the process exit code (docs/exit-codes.md) and the journal's run-end
 * result (docs/journal.md).  The only place where the two meet, so a new
 * result cannot be mistaken for another by a comparison elsewhere.
 */
#include "runner_int.h"

int runner_exit_code(enum rres rc)
{
	switch (rc) {
	case RR_OK:
	case RR_NOTHING:
		return EXIT_DONE;
	case RR_FAILED:
	case RR_UNDECIDED:
	case RR_INCOMPLETE:
		return EXIT_STEP_FAILED;
	case RR_REFUSED:
		return EXIT_REFUSED;
	case RR_INPUT:
		return EXIT_INPUT;
	case RR_LOCKED:
		return EXIT_LOCKED;
	case RR_JOURNAL:
		return EXIT_JOURNAL;
	case RR_LOCK_LOST:
		return EXIT_LOCK_LOST;
	case RR_INTERRUPTED:
		return EXIT_INTERRUPTED;
	case RR_PROCEED:
	case RR_AGAIN:
		break; /* decisions inside a step: reaching here is a bug, never success */
	}
	return EXIT_STEP_FAILED;
}

const char *runner_result_name(enum rres rc)
{
	switch (rc) {
	case RR_OK:
	case RR_NOTHING:
		return "done";
	case RR_REFUSED:
		return "refused";
	case RR_INTERRUPTED:
		return "interrupted";
	default:
		return "failed";
	}
}

enum rres runner_result_of_exit(int code)
{
	switch (code) {
	case EXIT_DONE:
		return RR_OK;
	case EXIT_INPUT:
		return RR_INPUT;
	case EXIT_REFUSED:
		return RR_REFUSED;
	case EXIT_LOCKED:
		return RR_LOCKED;
	case EXIT_JOURNAL:
		return RR_JOURNAL;
	case EXIT_LOCK_LOST:
		return RR_LOCK_LOST;
	case EXIT_INTERRUPTED:
		return RR_INTERRUPTED;
	default:
		return RR_FAILED;
	}
}
