/* Validation and defaulting of the objects loomctl stores (docs/datastore.md):
 * Kubernetes Namespace, Pod and NetworkPolicy (networking.k8s.io/v1), and
 * loom's Network (loom.dev/v1).
 *
 * Errors read the way kubectl's do, one per call, naming the field path:
 *   spec.ingress[0].ports[1].port: must be between 1 and 65535
 * Defaulting fills what Kubernetes' API server would (metadata.namespace
 * "default", protocol "TCP", policyTypes) and Network's documented
 * defaults, so that what is stored is what a later `get` shows and a
 * re-apply of that output is a no-op. */
#ifndef LOOM_K8S_VALIDATE_H
#define LOOM_K8S_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/err.h"

enum loom_kind {
	LOOM_KIND_NAMESPACE,
	LOOM_KIND_POD,
	LOOM_KIND_NETWORKPOLICY,
	LOOM_KIND_NETWORK,
	LOOM_KIND_COUNT,
};

struct loom_kind_info {
	enum loom_kind kind;
	const char *name;        /* "NetworkPolicy" */
	const char *api_version; /* "networking.k8s.io/v1" */
	const char *plural;      /* "networkpolicies" */
	const char *singular;    /* "networkpolicy" */
	const char *short_name;  /* "netpol" */
	const char *qualified;   /* "networkpolicy.networking.k8s.io": kubectl's output prefix */
	const char *prefix;      /* datastore prefix: "/loom/networkpolicies/" */
	bool namespaced;
};

/* The kind named by a Kind, plural, singular or short name (case-insensitive
 * for the resource names, as kubectl), or NULL. */
const struct loom_kind_info *loom_kind_lookup(const char *s);
const struct loom_kind_info *loom_kind_get(enum loom_kind k);

/* Validate `obj` and fill its defaults in place.  On success *kind (may be
 * NULL) is its kind.  On error -1, err->code LOOM_ERR_INVALID_CONFIG and
 * err->msg "FIELD.PATH: rule". */
int loom_k8s_validate(json_t *obj, const struct loom_kind_info **kind, struct loom_err *err);

/* The datastore key of an object (`ns` ignored for cluster-scoped kinds):
 * "/loom/pods/default/web".  -1 (err filled) when it does not fit. */
int loom_k8s_key(const struct loom_kind_info *k, const char *ns, const char *name, char *buf,
		 size_t len, struct loom_err *err);

/* Name rules, exposed for loomctl's arguments and the tests: NULL when
 * valid, else the rule the string breaks. */
const char *loom_k8s_dns1123_label(const char *s);
const char *loom_k8s_dns1123_subdomain(const char *s);
const char *loom_k8s_label_key(const char *s);
const char *loom_k8s_label_value(const char *s);
const char *loom_k8s_port_name(const char *s);

#endif
