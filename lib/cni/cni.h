/* The CNI core: environment, network config, CNI_ARGS, results in every
 * supported spec version, error JSON, dispatch of a plugin's commands, and
 * delegation to another plugin through CNI_PATH.
 *
 * Supported spec versions: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0. */
#ifndef LOOM_CNI_H
#define LOOM_CNI_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/ip.h"

/* ---- spec versions ---- */

enum loom_cni_version {
	LOOM_CNI_V030,
	LOOM_CNI_V031,
	LOOM_CNI_V040,
	LOOM_CNI_V100,
	LOOM_CNI_V110,
	LOOM_CNI_VERSION_COUNT
};
#define LOOM_CNI_VERSION_LATEST LOOM_CNI_V110

/* 0 or -EINVAL for a version loom does not speak. */
int loom_cni_version_parse(const char *s, enum loom_cni_version *out);
const char *loom_cni_version_str(enum loom_cni_version v);

/* ---- environment ---- */

enum loom_cni_cmd {
	LOOM_CMD_ADD,
	LOOM_CMD_DEL,
	LOOM_CMD_CHECK,
	LOOM_CMD_VERSION,
	LOOM_CMD_GC,
	LOOM_CMD_STATUS,
};
int loom_cni_cmd_parse(const char *s, enum loom_cni_cmd *out);
const char *loom_cni_cmd_str(enum loom_cni_cmd c);

struct loom_cni_env {
	enum loom_cni_cmd cmd;
	const char *container_id; /* borrowed from environ; NULL when absent */
	const char *netns;
	const char *ifname;
	const char *args; /* CNI_ARGS, may be NULL */
	const char *path; /* CNI_PATH */
};

/* Read and validate CNI_* from the process environment (getenv) as the spec
 * requires for the command: a missing required variable or a malformed one
 * (container ID characters, interface name rules) is LOOM_ERR_INVALID_ENV
 * with the variable's name in the message. */
int loom_cni_env_read(struct loom_cni_env *env, struct loom_err *err);

/* Validators used by env_read, exported for other callers and tests. */
int loom_cni_validate_container_id(const char *id, struct loom_err *err);
int loom_cni_validate_ifname(const char *ifname, struct loom_err *err);
int loom_cni_validate_network_name(const char *name, struct loom_err *err);

/* ---- CNI_ARGS ---- */

#define LOOM_CNI_ARGS_MAX 32
#define LOOM_CNI_ARG_MAX 256

struct loom_cni_args {
	size_t n;
	struct {
		char key[LOOM_CNI_ARG_MAX];
		char value[LOOM_CNI_ARG_MAX];
	} kv[LOOM_CNI_ARGS_MAX];
	bool ignore_unknown;           /* IgnoreUnknown=1|true */
	const char *k8s_pod_namespace; /* point into kv[], NULL when absent */
	const char *k8s_pod_name;
	const char *k8s_pod_infra_container_id;
	const char *k8s_pod_uid;
};

/* Parse "K=V;K=V".  `known` is a NULL-terminated list of keys the plugin
 * understands beyond the always-known IgnoreUnknown and K8S_POD_* keys (may be
 * NULL).  A pair without exactly one '=' or an empty key is
 * LOOM_ERR_INVALID_ENV naming CNI_ARGS; an unknown key is an error unless
 * IgnoreUnknown is true.  NULL or "" parses to no pairs. */
int loom_cni_args_parse(const char *s, const char *const *known, struct loom_cni_args *out,
			struct loom_err *err);
/* Value of `key`, or NULL. */
const char *loom_cni_args_get(const struct loom_cni_args *a, const char *key);

/* ---- results ---- */

#define LOOM_RESULT_MAX_IFACES 8
#define LOOM_RESULT_MAX_IPS 16
#define LOOM_RESULT_MAX_ROUTES 64
#define LOOM_DNS_MAX 16
#define LOOM_DNS_STRLEN 256
#define LOOM_MAC_STRLEN 18

struct loom_result_iface {
	char name[IFNAMSIZ];
	char mac[LOOM_MAC_STRLEN]; /* "" when absent */
	char sandbox[256];         /* "" for a host-side interface */
	int mtu;                   /* 0 when absent (1.1.0 only) */
	char socket_path[256];     /* 1.1.0 only, "" when absent */
	char pci_id[64];           /* 1.1.0 only, "" when absent */
};

struct loom_result_ip {
	struct loom_prefix address; /* the address with its subnet's length */
	bool has_gateway;
	struct loom_ip gateway;
	int iface; /* index into ifaces[], -1 when absent */
};

struct loom_route {
	struct loom_prefix dst;
	bool has_gw;
	struct loom_ip gw;
	/* 1.1.0 only; 0 = absent (scope: -1 = absent) */
	int mtu;
	int advmss;
	int priority;
	int table;
	int scope;
};

struct loom_dns {
	size_t n_nameservers, n_search, n_options;
	char nameservers[LOOM_DNS_MAX][LOOM_DNS_STRLEN];
	char domain[LOOM_DNS_STRLEN];
	char search[LOOM_DNS_MAX][LOOM_DNS_STRLEN];
	char options[LOOM_DNS_MAX][LOOM_DNS_STRLEN];
};

struct loom_result {
	size_t n_ifaces, n_ips, n_routes;
	struct loom_result_iface ifaces[LOOM_RESULT_MAX_IFACES];
	struct loom_result_ip ips[LOOM_RESULT_MAX_IPS];
	struct loom_route routes[LOOM_RESULT_MAX_ROUTES];
	struct loom_dns dns;
};

void loom_result_init(struct loom_result *r); /* zero, scopes -1, iface -1 */

/* Encode for `v`: 0.3.x/0.4.0 carry "version" in each ip; 1.0.0 drops it;
 * 1.1.0 adds interface mtu/socketPath/pciID and route mtu/advmss/priority/
 * table/scope.  "dns" is always present ({} when empty), as Go
 * prints it.  Returns a new reference. */
json_t *loom_result_to_json(const struct loom_result *r, enum loom_cni_version v);

/* Decode a result of any supported version (prevResult, a delegate's answer).
 * Every field's type is checked; errors name the path
 * ("prevResult.ips[1].address: ...") under `what`. */
int loom_result_from_json(const json_t *j, const char *what, struct loom_result *out,
			  struct loom_err *err);

/* ---- network config ---- */

struct loom_attachment {
	char container_id[256];
	char ifname[IFNAMSIZ];
};

#define LOOM_MAX_ATTACHMENTS 4096

struct loom_netconf {
	json_t *root; /* the whole document (owned) */
	enum loom_cni_version version;
	const char *version_str; /* as written; borrowed from root */
	const char *name;        /* borrowed from root */
	const char *type;
	json_t *ipam; /* borrowed; NULL when absent */
	json_t *dns;
	json_t *runtime_config; /* "runtimeConfig" */
	json_t *args;           /* "args" */
	json_t *capabilities;
	bool has_prev_result;
	struct loom_result prev_result;
	/* GC: cni.dev/valid-attachments (or the older cni.dev/attachments) */
	bool has_valid_attachments;
	size_t n_valid_attachments;
	struct loom_attachment *valid_attachments; /* owned */
};

/* Parse the config read from stdin for `cmd`.  Undecodable JSON or a
 * non-object is LOOM_ERR_DECODE; a missing/ill-typed name, type or
 * cniVersion is LOOM_ERR_INVALID_CONFIG naming the field; a cniVersion loom
 * does not speak is LOOM_ERR_INCOMPATIBLE_VERSION; prevResult is decoded.
 * On failure nothing needs freeing. */
int loom_netconf_parse(const char *buf, size_t len, enum loom_cni_cmd cmd, struct loom_netconf *out,
		       struct loom_err *err);
void loom_netconf_free(struct loom_netconf *c);

/* ---- error output ---- */

/* {"cniVersion": v, "code": N, "msg": "...", "details": "..."} */
json_t *loom_err_to_json(const struct loom_err *e, const char *cni_version);

/* ---- plugin skeleton ---- */

struct loom_cni_ctx {
	struct loom_cni_env env;
	struct loom_netconf conf;
	struct loom_cni_args args;
	const char *stdin_buf; /* the raw config, for delegation */
	size_t stdin_len;
};

struct loom_plugin {
	const char *name;              /* "loom-ipam", used in messages */
	const char *const *known_args; /* CNI_ARGS keys beyond the always-known ones */
	/* Each returns 0 or -1 with err filled.  add fills `res`. */
	int (*add)(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err);
	int (*del)(struct loom_cni_ctx *ctx, struct loom_err *err);
	int (*check)(struct loom_cni_ctx *ctx, struct loom_err *err);
	int (*gc)(struct loom_cni_ctx *ctx, struct loom_err *err);     /* NULL: no-op success */
	int (*status)(struct loom_cni_ctx *ctx, struct loom_err *err); /* NULL: success */
};

/* The whole life of one plugin exec: read env, read stdin (bounded), parse,
 * enforce each version's rules (CHECK needs >= 0.4.0, GC and STATUS need
 * 1.1.0), dispatch, print the result or the error JSON on stdout.  Returns
 * the process exit status (0 or 1). */
int loom_cni_main(const struct loom_plugin *p);

/* A plugin binary's whole main.c body: the plugin named NAME whose commands
 * are PREFIX_add, PREFIX_del, PREFIX_check, PREFIX_gc and PREFIX_status, and
 * whose extra CNI_ARGS keys are the string literals that follow. */
#define LOOM_CNI_PLUGIN_MAIN(NAME, PREFIX, ...)                                          \
	static const char *const loom_known_args_[] = { __VA_ARGS__, NULL };             \
	static const struct loom_plugin loom_plugin_ = { .name = NAME,                   \
							 .known_args = loom_known_args_, \
							 .add = PREFIX##_add,            \
							 .del = PREFIX##_del,            \
							 .check = PREFIX##_check,        \
							 .gc = PREFIX##_gc,              \
							 .status = PREFIX##_status };    \
	int main(void)                                                                   \
	{                                                                                \
		return loom_cni_main(&loom_plugin_);                                     \
	}

/* ---- delegation ---- */

#define LOOM_DELEGATE_TIMEOUT_MS 30000

/* Exec plugin `type` found in env->path (CNI_PATH, colon-separated) with
 * CNI_COMMAND=cmd and the rest of the CNI_* environment from `env`, `conf`
 * on stdin, and wait at most timeout_ms (then SIGKILL).  On success (exit 0)
 * *out is the parsed stdout (NULL for an empty answer, e.g. DEL).  A
 * plugin's error JSON is passed through into err (its code and msg); a
 * missing plugin, a timeout, a crash or garbage on stdout is
 * LOOM_ERR_DELEGATE with what happened. */
int loom_delegate(const char *type, enum loom_cni_cmd cmd, const struct loom_cni_env *env,
		  const char *conf, size_t conf_len, int timeout_ms, json_t **out,
		  struct loom_err *err);

#endif
