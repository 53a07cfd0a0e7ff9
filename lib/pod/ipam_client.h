/* The IPAM client of the plugins: loom-ipam runs in the plugin's process
 * (no second exec, the point of having it as a library); any other type
 * is exec'd through CNI_PATH with the plugin's own stdin, as the spec
 * requires.
 *
 * Why the pod library links loom-ipam's allocator (ipam/, target
 * loomipam) rather than leaving in-process IPAM to each plugin: every
 * plugin's ADD, DEL, CHECK, GC and STATUS go through this client, and the
 * allocator uses only base and cni (its store is plain files under
 * dataDir), so the link adds no datastore or model dependency. */
#ifndef LOOM_POD_IPAM_CLIENT_H
#define LOOM_POD_IPAM_CLIENT_H

#include <stdbool.h>

#include "base/err.h"
#include "cni/cni.h"

struct loom_ipam_conf;

struct loom_ipam_client {
	/* env (container ID, ifname, CNI_PATH), args, the netconf whose ipam
	 * section loom-ipam reads, the stdin an exec'd plugin gets */
	const struct loom_cni_ctx *ctx;
	bool layer3;      /* an ipam.type: false for "ipam": {} */
	bool in_process;  /* ipam.type is "loom-ipam" */
	const char *type; /* ipam.type */
	/* In-process: the allocator's config, built by the caller; NULL: parsed
	 * from ctx's netconf by each call (off the caller's thread on ADD). */
	const struct loom_ipam_conf *conf;
};

/* IPAM's answer for ADD (res initialised here). */
int loom_ipam_client_add(const struct loom_ipam_client *cl, struct loom_result *res,
			 struct loom_err *err);
/* loom_ipam_client_add, and on LOOM_ERR_DUPLICATE with no endpoint record
 * of the attachment in (state_dir, network) (a crashed ADD), release and
 * allocate again; *reclaimed then says so (the crashed ADD may have left
 * more than its address: the caller clears that too). */
int loom_ipam_client_add_reclaim(const struct loom_ipam_client *cl, const char *state_dir,
				 const char *network, struct loom_result *res, bool *reclaimed,
				 struct loom_err *err);
/* Nothing to do without layer 3. */
int loom_ipam_client_del(const struct loom_ipam_client *cl, struct loom_err *err);
int loom_ipam_client_check(const struct loom_ipam_client *cl, struct loom_err *err);
/* Without the runtime's list of valid attachments, in-process keeps all. */
int loom_ipam_client_gc(const struct loom_ipam_client *cl, struct loom_err *err);
int loom_ipam_client_status(const struct loom_ipam_client *cl, struct loom_err *err);

#endif
