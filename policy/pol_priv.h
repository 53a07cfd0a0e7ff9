/* Internals of the policy engine shared by its files (not a public API). */
#ifndef LOOM_POL_PRIV_H
#define LOOM_POL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy.h"

/* A string-keyed hash map with chaining; keys are copied, values owned by
 * the caller. */
struct pm_ent {
	char *key;
	void *val;
	struct pm_ent *next;
};
struct pm_map {
	struct pm_ent **b;
	size_t nb, n;
};
void *pm_get(const struct pm_map *m, const char *key);
int pm_put(struct pm_map *m, const char *key, void *val); /* replaces; -ENOMEM */
void *pm_del(struct pm_map *m, const char *key);          /* the old value or NULL */
/* The keys, sorted (malloc()ed array of borrowed pointers; *n). */
const char **pm_keys(const struct pm_map *m, size_t *n);
void pm_clear(struct pm_map *m, void (*free_val)(void *));
#define pm_each(m, e, i)                                                                           \
	for (size_t i = 0; i < (m)->nb; i++)                                                       \
		for (struct pm_ent *e = (m)->b[i]; e; e = e->next)

/* A growable string (every append aborts nothing: on ENOMEM `oom` is set
 * and later appends are dropped). */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

uint64_t pol_hash(const char *s);

/* A set of pod addresses: the pods matching `podsel` in namespace `ns`
 * (nssel NULL), or in every namespace matching `nssel`.  Shared by every
 * policy target and peer with the same key; refs counts users. */
struct pol_group {
	char *key;
	char name[24]; /* "s_<16 hex>": set names s_..._4 / s_..._6 */
	char *ns;      /* NULL for namespaceSelector groups */
	json_t *podsel, *nssel;
	int refs;
	bool emitted;  /* its sets exist in the kernel */
};

enum { PEER_ANY, PEER_GROUP, PEER_BLOCK };
struct pol_peer {
	int kind;
	struct pol_group *g;
	int family;       /* ipBlock: 4 or 6 */
	char *cidr;
	char **except;
	size_t nexcept;
};
struct pol_port {
	int proto;        /* 6, 17, 132 */
	int port, end;    /* 0 = every port; end 0 = single */
	char *name;       /* named port, else NULL */
};
struct pol_rule {
	struct pol_peer *peers;
	size_t npeers;    /* 0: every peer */
	struct pol_port *ports;
	size_t nports;    /* 0: every port */
};
struct pol_policy {
	char *key, *ns, *name;
	char id[24];      /* "<16 hex>" of key */
	struct pol_group *target;
	bool dir[2];      /* [0] ingress, [1] egress: policyTypes */
	struct pol_rule *rules[2];
	size_t nrules[2];
};

struct pol_cport {
	char *name;
	int proto, port;
};
struct pol_ep {
	char *key, *podkey, *node;
	char **addrs;     /* "10.0.0.5", "fd00::5" */
	size_t naddrs;
};
/* A pod as the engine sees it: the Pod object (when stored) and the
 * endpoints naming it (addresses). */
struct pol_pod {
	char *key, *ns, *name;
	json_t *labels;   /* NULL: no Pod object */
	struct pol_cport *ports;
	size_t nports;
	struct pol_ep **eps;
	size_t neps;
	char **contrib;   /* the elements last flushed, sorted "set\telem[\tvalue]" */
	size_t ncontrib;
};
struct pol_ns {
	char *name;
	json_t *labels;   /* with kubernetes.io/metadata.name, always */
	struct pm_map pods;      /* key -> struct pol_pod * (borrowed) */
	struct pm_map policies;  /* key -> struct pol_policy * (borrowed) */
	struct pm_map groups;    /* ns-scoped groups, key -> group (borrowed) */
	bool stored;             /* a Namespace object exists */
	int chains_emitted[2];   /* ni_/ne_ chain exists */
};
struct pol_np {              /* a referenced named port */
	int refs;
	bool emitted;
};

struct pol_engine {
	char *node;
	struct pm_map nss, pods, eps, policies, groups, nsgroups, nps;
	/* dirty marks: keys -> (void*)1 */
	struct pm_map dirty_pods, dirty_ns, dirty_pol, dirty_groups, dirty_nps;
	struct pm_map pol_emitted; /* policy id -> (uintptr_t) bit0 in, bit1 out */
	bool fresh;                /* next flush replaces the table */
	size_t elements, rules, chains;
	struct pm_map pol_rules;   /* policy id -> (uintptr_t) rules in its chains */
	struct pm_map ns_rules;    /* ns -> (uintptr_t) rules in its chains */
};

/* model.c */
struct pol_ns *pol_ns_get(struct pol_engine *e, const char *name, bool create);
const json_t *pol_ns_labels(const struct pol_engine *e, const char *ns);
bool pol_group_match(const struct pol_engine *e, const struct pol_group *g,
		     const struct pol_pod *p);
bool pol_pod_local(const struct pol_engine *e, const struct pol_pod *p);
struct pol_policy *pol_policy_parse(struct pol_engine *e, const char *key, json_t *obj,
				    struct loom_err *err);
void pol_policy_free(struct pol_engine *e, struct pol_policy *p);
int pol_family(const char *addr);

/* rules.c: the rules of one policy's chain for direction d. */
size_t pol_rules_emit(struct sbuf *b, const char *chain, const struct pol_policy *p, int d);

#endif
