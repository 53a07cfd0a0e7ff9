/* Internals of the policy engine shared by its files (not a public API). */
#ifndef LOOM_POL_PRIV_H
#define LOOM_POL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ir.h"
#include "policy.h"
#include "util.h"

/* the datastore prefixes the engine reads */
#define P_NS "/loom/namespaces/"
#define P_POD "/loom/pods/"
#define P_EP "/loom/endpoints/"
#define P_POL "/loom/networkpolicies/"

/* A set of pod addresses: the pods matching `podsel` in namespace `ns`
 * (nssel NULL), or in every namespace matching `nssel`.  Shared by every
 * policy target and peer with the same key; refs counts users. */
struct pol_group {
	char *key;
	char name[24]; /* "s_<16 hex>": set names s_..._4 / s_..._6 */
	char *ns;      /* NULL for namespaceSelector groups */
	json_t *podsel, *nssel;
	int refs; /* policies using it; 0: its sets go at the next flush */
};

enum {
	PEER_ANY,
	PEER_GROUP,
	PEER_BLOCK
};
struct pol_peer {
	int kind;
	struct pol_group *g;
	int family; /* ipBlock: 4 or 6 */
	char *cidr;
	char **except;
	size_t nexcept;
};
struct pol_port {
	int proto;     /* 6, 17, 132 */
	int port, end; /* 0 = every port; end 0 = single */
	char *name;    /* named port, else NULL */
};
struct pol_rule {
	struct pol_peer *peers;
	size_t npeers; /* 0: every peer */
	struct pol_port *ports;
	size_t nports; /* 0: every port */
};
struct pol_policy {
	char *key, *ns, *name;
	char id[24]; /* "<16 hex>" of key */
	struct pol_group *target;
	bool dir[2]; /* [0] ingress, [1] egress: policyTypes */
	struct pol_rule *rules[2];
	size_t nrules[2];
};

struct pol_cport {
	char *name;
	int proto, port;
};
struct pol_ep {
	char *key, *podkey, *node;
	char **addrs; /* "10.0.0.5", "fd00::5" */
	size_t naddrs;
};
/* A pod as the engine sees it: the Pod object (when stored) and the
 * endpoints naming it (addresses). */
struct pol_pod {
	char *key, *ns, *name;
	json_t *labels; /* NULL: no Pod object */
	struct pol_cport *ports;
	size_t nports;
	struct pol_ep **eps;
	size_t neps;
	char **contrib; /* the elements last flushed, sorted "set\telem" */
	size_t ncontrib;
};
struct pol_ns {
	char *name;
	json_t *labels;         /* with kubernetes.io/metadata.name, always */
	struct pm_map pods;     /* key -> struct pol_pod * (borrowed) */
	struct pm_map policies; /* key -> struct pol_policy * (borrowed) */
	struct pm_map groups;   /* ns-scoped groups, key -> group (borrowed) */
	bool stored;            /* a Namespace object exists */
};
struct pol_np {   /* a referenced named port */
	int refs; /* 0: its sets go at the next flush */
};

struct pol_engine {
	char *node;
	struct pm_map nss, pods, eps, policies, groups, nsgroups, nps;
	/* dirty marks: keys -> (void*)1 */
	struct pm_map dirty_pods, dirty_ns, dirty_pol, dirty_groups, dirty_nps;
	/* the next flush compiles everything and replaces the table: at
	 * start, after a failed commit, after any allocation failure (a dirty
	 * mark that could not be recorded included) */
	bool rebuild;
	struct pir ir; /* what the last successful flush made */
};

/* engine.c: records key in a dirty map; on out of memory the next flush
 * rebuilds everything instead */
void pol_mark(struct pol_engine *e, struct pm_map *dirty, const char *key, void *val);

/* model.c */
struct pol_ns *pol_ns_get(struct pol_engine *e, const char *name, bool create);
const json_t *pol_ns_labels(const struct pol_engine *e, const char *ns);
bool pol_group_match(const struct pol_engine *e, const struct pol_group *g,
		     const struct pol_pod *p);
bool pol_pod_local(const struct pol_engine *e, const struct pol_pod *p);
void pol_group_free(void *g);
struct pol_policy *pol_policy_parse(struct pol_engine *e, const char *key, json_t *obj,
				    struct loom_err *err);
void pol_policy_free(struct pol_engine *e, struct pol_policy *p);
int pol_family(const char *addr);

/* rules.c: the rules of one policy's chain for direction d, appended to
 * c.  0 or -ENOMEM. */
int pol_rules_compile(struct pir_chain *c, const struct pol_policy *p, int d);

/* compile.c: model -> IR pieces.  Each returns 0 or -ENOMEM and changes
 * nothing in the engine. */
enum {
	POL_INGRESS,
	POL_EGRESS
};
/* "policy/<ns>/<name>/ingress", "pods/<ns>/egress": names a person can
 * read in `nft list ruleset`; malloc()ed, NULL on out of memory. */
char *pol_policy_chain_name(const char *ns_name, int d);
char *pol_ns_chain_name(const char *ns, int d);
/* the maps and base chains every table has */
int pol_compile_table(struct pir_changes *c);
/* policy p's chain for direction d (p->dir[d] set) */
int pol_compile_policy(const struct pol_policy *p, int d, struct pir_chain **out);
/* namespace n's dispatch chain for d; *out NULL when no policy of n has d */
int pol_compile_ns(const struct pol_ns *n, int d, struct pir_chain **out);
/* every element pod p puts in the table, "set\telem", sorted, unique */
int pol_compile_pod(const struct pol_engine *e, const struct pol_pod *p, char ***out, size_t *n);

#endif
