/*
 * jrecord.c — see jrecord.h; the byte-level definition is docs/journal.md §1.3.
 */
#include "jrecord.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define CRC_PREFIX     ",\"crc\":\""
#define CRC_PREFIX_LEN 8
#define CRC_SUFFIX_LEN (CRC_PREFIX_LEN + 8 + 2) /* ,"crc":" + 8 hex + "} */

static unsigned long crc_of_line(const char *line, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, (const Bytef *)line, (uInt)(len - CRC_SUFFIX_LEN));
	return crc32(c, (const Bytef *)"}", 1);
}

/* Does the line end in `,"crc":"xxxxxxxx"}` with lower-case hex?  Sets *crc. */
static int crc_suffix(const char *line, size_t len, unsigned long *crc)
{
	const char *s;
	unsigned long v = 0;

	if (len <= CRC_SUFFIX_LEN) /* before forming s: a pointer before line is undefined */
		return -1;
	s = line + len - CRC_SUFFIX_LEN;
	if (memcmp(s, CRC_PREFIX, CRC_PREFIX_LEN) != 0 || memcmp(line + len - 2, "\"}", 2) != 0)
		return -1;
	for (int i = 0; i < 8; i++) {
		char c = s[CRC_PREFIX_LEN + i];
		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned long)(c - 'a' + 10);
		else
			return -1;
	}
	*crc = v;
	return 0;
}

/* Check the seq of a parsed record against the previous one. */
static int check_seq(json_t *rec, long long prev, struct sbuf *why)
{
	json_t *seq = json_object_get(rec, "seq");
	long long v;

	if (seq == NULL) {
		sbuf_adds(why, "missing seq");
		return -1;
	}
	if (!json_is_integer(seq)) {
		sbuf_adds(why, "seq is not an integer");
		return -1;
	}
	v = json_integer_value(seq);
	if (v == prev + 1)
		return 0;
	if (v == prev)
		sbuf_addf(why, "seq %lld repeats the previous record (duplicated line)", v);
	else if (v < prev)
		sbuf_addf(why, "seq %lld after seq %lld (records out of order or repeated)", v,
			  prev);
	else
		sbuf_addf(why, "seq %lld after seq %lld (gap: records missing or out of order)", v,
			  prev);
	return -1;
}

/*
 * Validate one complete line (without its newline) and return the parsed
 * record, or NULL with the reason in why.
 */
json_t *jrecord_decode(const char *line, size_t len, long long prev, struct sbuf *why)
{
	json_error_t jerr;
	unsigned long want = 0, got;
	json_t *rec = NULL;

	if (len == 0) {
		sbuf_adds(why, "empty line");
		return NULL;
	}
	if (len > JRECORD_MAX_LINE) {
		sbuf_addf(why, "line is %zu bytes (limit %d)", len, JRECORD_MAX_LINE);
		return NULL;
	}
	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (rec == NULL) {
		sbuf_addf(why, "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(rec))
		sbuf_adds(why, "record is not a JSON object");
	else if (crc_suffix(line, len, &want) < 0)
		sbuf_adds(why, "missing or malformed crc (must be the last member, 8 hex digits)");
	else if ((got = crc_of_line(line, len)) != want)
		sbuf_addf(why, "CRC mismatch: line says %08lx, content gives %08lx", want, got);
	else if (check_seq(rec, prev, why) == 0)
		return rec;
	json_decref(rec);
	return NULL;
}

/* Serialise out (no crc) into the line to write, newline included. */
char *jrecord_encode(json_t *out, size_t *len, unsigned long *crc)
{
	char *body = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n;
	char *line;

	if (body == NULL)
		return NULL;
	n = strlen(body);
	if (n < 3) { /* "{}": a record without members has nowhere to put the crc before "}" */
		free(body);
		return NULL;
	}
	*crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)body, (uInt)n);
	body[n - 1] = '\0'; /* drop the closing brace; the crc member goes before it */
	line = xasprintf("%s" CRC_PREFIX "%08lx\"}\n", body, *crc);
	free(body);
	*len = strlen(line);
	if (*len > JRECORD_MAX_LINE) {
		free(line);
		return NULL;
	}
	return line;
}
