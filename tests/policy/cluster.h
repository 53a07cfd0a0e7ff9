/* Test helpers over the policy engine: datastore objects written the way
 * loomctl and loomd write them, and a sync step that sends a flush's batch
 * to the table stand-in (nftsim) and checks that the engine's idea of the
 * table is what the batch made.  For tests/unit/test_policy_*.c and the
 * policy fuzz target. */
#ifndef LOOM_TEST_POLICY_CLUSTER_H
#define LOOM_TEST_POLICY_CLUSTER_H

#include <stddef.h>

#include "ir.h"
#include "policy.h"

/* Each returns pol_engine_put's result. */
int cl_namespace(struct pol_engine *e, const char *ns, const char *labels_json);
/* a Pod with label pod=<label> serving serve-{80,81}-{tcp,udp}, and its
 * endpoint on node with addresses a4 and a6 (either may be NULL) */
int cl_pod(struct pol_engine *e, const char *ns, const char *name, const char *node,
	   const char *labels_json, const char *a4, const char *a6);
void cl_pod_del(struct pol_engine *e, const char *ns, const char *name, const char *node);
int cl_policy(struct pol_engine *e, const char *ns, const char *name, const char *spec_json);
void cl_policy_del(struct pol_engine *e, const char *ns, const char *name);

/* Flush e; apply the batch to sim; 0 when it applied and the engine's
 * ruleset equals sim's, else -1 with why.  *batch (if not NULL) gets the
 * batch, caller frees. */
int cl_sync(struct pol_engine *e, struct pir *sim, char **batch, char *why, size_t len);

#endif
