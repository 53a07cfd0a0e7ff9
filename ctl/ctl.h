/* loomctl's commands.  Each returns the process exit code (0 ok, 1 error)
 * and has already printed its one-line "error: ..." on stderr. */
#ifndef LOOM_CTL_H
#define LOOM_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

struct ctl {
	const char *url; /* the store URL in use; NULL until ctl_store() picks the default */
	struct loom_store *store; /* opened on first use by ctl_store() */
};

/* The opened store, or NULL after printing why it could not be opened. */
struct loom_store *ctl_store(struct ctl *c);

void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read FILE ("-" = stdin) whole, bounded by LOOM_MANIFEST_MAX_BYTES + 1. */
int ctl_read_file(const char *path, char **buf, size_t *len, struct loom_err *err);

/* Emit `j` as one YAML document that loom_manifest_parse() reads back to
 * the same JSON. */
int ctl_yaml_emit(FILE *f, const json_t *j, struct loom_err *err);

int ctl_apply(struct ctl *c, int argc, char **argv);
int ctl_delete(struct ctl *c, int argc, char **argv);
int ctl_get(struct ctl *c, int argc, char **argv);
int ctl_nodes(struct ctl *c, int argc, char **argv);
int ctl_ipam(struct ctl *c, int argc, char **argv);
/* status: 0, or 1 (an error, or --brief found a problem); diags: 0 or 1. */
int ctl_status(struct ctl *c, int argc, char **argv);
int ctl_diags(struct ctl *c, int argc, char **argv);

#endif
