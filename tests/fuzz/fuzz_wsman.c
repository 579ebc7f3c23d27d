/*
 * fuzz_wsman.c — libFuzzer target for the WinRM transport's reader of what a
 * server sends back (winrm_soap.h): SOAP envelopes and their base64 streams.
 * A WinRM endpoint is a remote peer; nothing it sends may crash ccrup, leak,
 * or be half-accepted.
 *
 * The input is a reply body, given to wsman_parse_reply() and then to
 * wsman_reader_parse() with a reader kept across inputs (as a transport keeps
 * one), with the same reply (the second parse must reset what the first
 * filled), then to wsman_b64_decode().
 *
 * Contracts checked: a parse returns 0 or -1; a refused body says why
 * (fault_text); an accepted ReceiveResponse's exit code is -1 unless the
 * command is done; both parses of the same bytes give the same result and the
 * same decoded streams; a failed base64 decode leaves its buffer unchanged.
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "util.h"
#include "winrm_soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wsman_reader *kept;
	struct wsman_reply r;

	if (kept == NULL) {
		wsman_global_init();
		kept = wsman_reader_new();
	}
	wsman_reply_init(&r);
	int a = wsman_parse_reply((const char *)data, size, &r);
	if (a != 0 && a != -1)
		abort();
	if (a == -1 && r.fault_text == NULL)
		abort(); /* a refusal says why */
	if (a == 0 && !r.fault && !r.done && r.exit_code != -1)
		abort(); /* no exit code before the command is done */
	size_t olen = r.out.len, elen = r.err.len;
	char *o = olen ? xmalloc(olen) : NULL;
	if (o)
		memcpy(o, r.out.buf, olen);
	int b = wsman_reader_parse(kept, (const char *)data, size, &r);
	if (b != a || r.out.len != olen || r.err.len != elen ||
	    (olen && memcmp(o, r.out.buf, olen) != 0))
		abort(); /* parsing again resets and gives the same */
	free(o);
	wsman_reply_release(&r);

	struct sbuf s;
	sbuf_init(&s);
	sbuf_add(&s, "keep", 4);
	if (wsman_b64_decode((const char *)data, size, &s) < 0 &&
	    (s.len != 4 || memcmp(s.buf, "keep", 4) != 0))
		abort(); /* a failed decode leaves out unchanged */
	sbuf_release(&s);
	return 0;
}
