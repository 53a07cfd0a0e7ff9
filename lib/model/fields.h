/* Field helpers for the model's strict parsers (k8s_validate.c, network.c
 * and each mode's spec.backend.<mode> section): every error reads
 * "FIELD.PATH: rule", the way kubectl prints the API server's.
 *
 * Each returns 0 / a documented positive value, or -1 with err filled
 * (LOOM_ERR_INVALID_CONFIG).  Library code of the model layer: base only. */
#ifndef LOOM_MODEL_FIELDS_H
#define LOOM_MODEL_FIELDS_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"

#define LOOM_FIELD_PATH_MAX 256

/* -1 with err = "path: rule". */
int loom_field_bad(struct loom_err *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* buf (LOOM_FIELD_PATH_MAX) = parent "." child; truncated paths still point the way. */
void loom_field_path(char *buf, const char *parent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOOM_FIELD_CHILD(buf, parent, ...) \
	char buf[LOOM_FIELD_PATH_MAX];     \
	loom_field_path(buf, parent, __VA_ARGS__)

/* j is of JSON type `type` (JSON_TRUE: any boolean). */
int loom_field_type(const json_t *j, int type, const char *path, struct loom_err *err);
/* Refuse members of `o` not in the NULL-terminated `allowed`. */
int loom_field_known(const json_t *o, const char *const *allowed, const char *path,
		     struct loom_err *err);
/* Optional member of type `type`: 1 present (*out set), 0 absent, -1 error. */
int loom_field_member(const json_t *o, const char *key, int type, const char *path, json_t **out,
		      struct loom_err *err);
/* The same, and absent is an error. */
int loom_field_required(const json_t *o, const char *key, int type, const char *path, json_t **out,
			struct loom_err *err);
/* An optional list of at most `max` items: 1 present (*out set), 0 absent, -1 error. */
int loom_field_list(const json_t *o, const char *key, size_t max, const char *path, json_t **out,
		    struct loom_err *err);
/* An optional integer in [min, max]: 1 present (*out set), 0 absent, -1 error. */
int loom_field_int(const json_t *o, const char *key, json_int_t min, json_int_t max,
		   const char *path, json_int_t *out, struct loom_err *err);
/* Set o[key] = v unless present (v is consumed either way).  0, -1 on ENOMEM. */
int loom_field_default(json_t *o, const char *key, json_t *v);
/* A DNS-1123 subdomain (or label) name. */
int loom_field_name(const char *s, bool subdomain, const char *path, struct loom_err *err);

#endif
