/*
 * sim_yaml.h — strict, located access to a loaded libyaml document for the
 * scenario loader: every accessor checks the node's type and range and, on
 * failure, records "FILE:LINE:COL: message" (the first error wins) and
 * returns -1.  Absent optional keys yield the default.
 */
#ifndef CCR_SIM_YAML_H
#define CCR_SIM_YAML_H

#include <jansson.h>
#include <stdint.h>
#include <yaml.h>

#include "util.h"

struct sim_yaml {
	const char *path;    /* file name for messages */
	yaml_document_t doc; /* the loaded document */
	char *err;	     /* message buffer (caller's) */
	size_t errlen;	     /* its size */
	int failed;	     /* 1 once an error was recorded */
};

/* Load path.  0, or -1 with the error recorded (the document is then empty). */
int sim_yaml_load(struct sim_yaml *y, const char *path, char *err, size_t errlen);
void sim_yaml_release(struct sim_yaml *y);
yaml_node_t *sim_yaml_root(struct sim_yaml *y);
yaml_node_t *sim_yaml_node(struct sim_yaml *y, int index);

/* Record an error at node n (first error wins).  Always returns -1. */
int sim_yaml_fail(struct sim_yaml *y, const yaml_node_t *n, const char *fmt, ...) CCR_PRINTF(3, 4);

/* n must be a mapping whose keys are distinct scalars from allowed (NULL-terminated). */
int sim_yaml_check_map(struct sim_yaml *y, yaml_node_t *n, const char *const *allowed);
/* Value node of key in mapping n, or NULL. */
yaml_node_t *sim_yaml_get(struct sim_yaml *y, yaml_node_t *n, const char *key);
/* The scalar text of n, or NULL with an error recorded. */
const char *sim_yaml_scalar(struct sim_yaml *y, yaml_node_t *n, const char *what);
/* 1 for a null scalar (~, null, empty). */
int sim_yaml_is_null(const yaml_node_t *n);

int sim_yaml_int(struct sim_yaml *y, yaml_node_t *map, const char *key, int64_t min, int64_t max,
		 int64_t def, int64_t *out);
int sim_yaml_bool(struct sim_yaml *y, yaml_node_t *map, const char *key, int def, int *out);
int sim_yaml_str(struct sim_yaml *y, yaml_node_t *map, const char *key, const char *def,
		 const char **out);
int sim_yaml_duration(struct sim_yaml *y, yaml_node_t *map, const char *key, int64_t def,
		      int64_t *out);
/* A dotted version "8.0.685.25" (caller frees *out). */
int sim_yaml_version(struct sim_yaml *y, yaml_node_t *map, const char *key, const char *def,
		     char **out);
/* "2026-11-21T10:20:00[Z]" (also with a space) to Unix seconds. */
int sim_parse_iso(const char *s, int64_t *unix_s);
/* A node as JSON: plain integer scalars become integers, other scalars strings. */
json_t *sim_yaml_json(struct sim_yaml *y, yaml_node_t *n);

#endif
