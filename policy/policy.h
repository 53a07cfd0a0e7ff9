/* loom-policyd's core: the NetworkPolicy model, the selector index and the
 * compiler to one nftables table (`inet loom`), built incrementally.
 *
 * Pipeline: store key/value -> pol_engine_put/_del (parse, validate with
 * lib/k8s_validate, update the model and mark what changed dirty) ->
 * pol_engine_flush: compile what is dirty into IR pieces (compile.c), diff
 * them against the IR of the last flush and render one nft batch text
 * (ir.c).  Nothing here talks to the kernel or the store: the daemon runs
 * the batch, the tests compare it, loomctl explains from the same model.
 * May use: base, model (k8s_validate), jansson; not kernel, store, cni.
 *
 * Ruleset shape (why): selectors become named address sets shared by every
 * policy using the same (namespace, selector), so pods coming, going or
 * relabelled change set elements only; named ports become one set per port
 * name of "pod address . protocol . port" elements, resolved per pod, so a
 * name mapping to different numbers on different pods needs no rules per
 * pod.  Local pods are found by address (not veth name: bridged traffic
 * seen through br_netfilter carries the bridge as iif/oif), and a vmap
 * from each isolated local pod's address jumps to its namespace's chain,
 * which jumps to each selecting policy's chain and ends in drop.  Chains
 * are named for a reader of `nft list ruleset`: policy/<ns>/<name>/ingress,
 * pods/<ns>/egress. */
#ifndef LOOM_POLICY_H
#define LOOM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

struct pol_engine;

/* `node`: the node whose pods are enforced (NULL: none, for explain). */
struct pol_engine *pol_engine_new(const char *node);
void pol_engine_free(struct pol_engine *e);

/* Feed one datastore key.  Keys outside /loom/{namespaces,pods,endpoints,
 * networkpolicies}/ are ignored (0).  A value that does not parse or
 * validate is treated as absent: -1 with err saying why (the caller logs
 * it); the model stays consistent either way.  err->code LOOM_ERR_INTERNAL
 * is out of memory: the change may not have been taken, and putting the
 * same key again (re-reading the store) catches up. */
int pol_engine_put(struct pol_engine *e, const char *key, const char *value, struct loom_err *err);
void pol_engine_del(struct pol_engine *e, const char *key);

/* The nft batch bringing the kernel from the last flushed state to the
 * current one; malloc()ed, caller frees; "" when nothing changed.  The
 * first flush (and the first after pol_engine_reset) replaces the whole
 * table in the same batch.  NULL on out of memory: the engine has reset
 * itself and the next flush replaces the whole table (never half a
 * change, never a dropped element). */
char *pol_engine_flush(struct pol_engine *e);
/* The table as the engine believes the kernel holds it after the last
 * flush, as sorted text (sets with elements, chains with rules): equal
 * for two engines exactly when their rulesets are.  malloc()ed; NULL on
 * out of memory. */
char *pol_engine_ruleset(const struct pol_engine *e);
/* Forget what was flushed: the next flush rebuilds the table whole (after
 * a failed commit, when the kernel state is unknown). */
void pol_engine_reset(struct pol_engine *e);

struct pol_counts {
	size_t chains, rules, elements, policies, pods;
};
void pol_engine_counts(const struct pol_engine *e, struct pol_counts *c);

/* explain: whether traffic from pod src ("ns/name") to pod dst on
 * port/proto ("80/TCP", proto may be omitted: TCP) is allowed, written to
 * a malloc()ed text (*out).  0 allowed, 1 denied, -1 err (unknown pod,
 * bad port). */
int pol_explain(const struct pol_engine *e, const char *src, const char *dst, const char *portproto,
		char **out, struct loom_err *err);

/* Small helpers shared by the engine, explain and tests. */
bool pol_selector_match(const json_t *sel, const json_t *labels);
int pol_proto_parse(const char *s); /* "TCP" -> 6, "UDP" 17, "SCTP" 132, else -1 */

#endif
