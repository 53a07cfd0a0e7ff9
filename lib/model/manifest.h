/* Manifests: the YAML or JSON files `loomctl apply -f` reads, turned into
 * jansson objects the way kubectl turns them into JSON.
 *
 * YAML streams may hold several documents ("---"); empty documents are
 * skipped; a `List` (or any `*List` kind with `items`) is flattened into its
 * items.  Plain YAML scalars are typed like Kubernetes' YAML (core schema:
 * integers, floats, true/false, null; everything else, and every quoted
 * scalar, is a string).  Aliases are refused (no billion laughs), mapping
 * keys must be scalars and unique, nesting and size are bounded.  Input
 * that starts with '{' or '[' is read as one JSON document. */
#ifndef LOOM_MANIFEST_H
#define LOOM_MANIFEST_H

#include <stddef.h>

#include <jansson.h>

#include "base/err.h"

#define LOOM_MANIFEST_MAX_BYTES (4 * 1024 * 1024)
#define LOOM_MANIFEST_MAX_DEPTH 64
#define LOOM_MANIFEST_MAX_NODES 200000

struct loom_manifest {
	json_t *objects; /* array of objects, in file order, Lists flattened */
	json_t *origins; /* array of strings, one per object: "document 2",
			      "document 1: items[3]" (for error messages) */
};

/* Parse `len` bytes.  On error -1 with err->msg like
 * "document 2: line 7, column 3: found duplicate key \"name\"".
 * On success the caller frees with loom_manifest_free(). */
int loom_manifest_parse(const char *data, size_t len, struct loom_manifest *out,
			struct loom_err *err);
void loom_manifest_free(struct loom_manifest *m); /* NULL-safe, idempotent */

/* How a plain (unquoted, untagged) scalar is typed: a new reference to the
 * JSON value, or NULL when the text is a plain string.  The YAML emitter
 * uses it to decide which strings must be quoted to stay strings. */
json_t *loom_manifest_plain_scalar(const char *text, size_t len);

#endif
