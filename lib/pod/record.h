/* The endpoint record: one small JSON file per attachment, written when an
 * ADD succeeds and removed by DEL.  DEL needs it to find the host veth,
 * the firewall and antiSpoof elements when the pod's netns is already
 * gone; loomd watches the directory to publish endpoints (it reads the
 * JSON, not this code).  Every plugin writes the same shape, "plugin":
 * "loom-bridge" included, which is what loomd and older DELs expect. */
#ifndef LOOM_POD_RECORD_H
#define LOOM_POD_RECORD_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/ip.h"
#include "cni/cni.h"

#define LOOM_RECORD_MASQ_EXEMPT_MAX 2 /* one per family */

struct loom_endpoint_record {
	char network[256];
	char container_id[256];
	char ifname[IFNAMSIZ];
	char host_veth[IFNAMSIZ];
	char bridge[IFNAMSIZ];     /* "" when routed */
	char mac[LOOM_MAC_STRLEN]; /* the pod side's */
	char netns[PATH_MAX];
	char pod_namespace[256]; /* from CNI_ARGS K8S_POD_NAMESPACE, "" when absent */
	char pod_name[256];
	size_t n_ips;
	struct loom_prefix ips[LOOM_RESULT_MAX_IPS]; /* with their subnet's (block's) length */
	bool masq, spoofchk;                         /* firewall elements the ADD made */
	size_t n_masq_exempt;                        /* ipMasq: the conf's masq_exempt at ADD */
	struct loom_prefix masq_exempt[LOOM_RECORD_MASQ_EXEMPT_MAX];
	int antispoof_ifindex;                 /* antiSpoof: the host veth's map key, 0 = none */
	char antispoof_pin_dir[PATH_MAX - 64]; /* antiSpoof: where the maps are pinned */
};

/* <dir>/<network>:<containerID>:<ifname>.json (':' is in none of the three). */
int loom_endpoint_record_path(const char *dir, const char *network, const char *container_id,
			      const char *ifname, char *buf, size_t len);
/* Write atomically (temp file + rename), creating dir when missing. */
int loom_endpoint_record_write(const char *dir, const struct loom_endpoint_record *r,
			       struct loom_err *err);
/* 0 and *out filled, -ENOENT when there is none, -EINVAL (err filled) when
 * the file is unreadable or not a record. */
int loom_endpoint_record_read(const char *dir, const char *network, const char *container_id,
			      const char *ifname, struct loom_endpoint_record *out,
			      struct loom_err *err);
/* True when any network holds a record of (container_id, ifname): an ADD
 * of it completed and its links are not leftovers. */
bool loom_endpoint_record_any(const char *dir, const char *container_id, const char *ifname);
/* A missing record is success. */
int loom_endpoint_record_remove(const char *dir, const char *network, const char *container_id,
				const char *ifname, struct loom_err *err);

/* Remove the temp files of killed writers of this attachment's record
 * (".<network>:<containerID>:<ifname>.<pid>.tmp", any pid): DEL's, since
 * no ADD of the attachment may run beside its DEL.  0 or -1 with err. */
int loom_endpoint_record_remove_temps(const char *dir, const char *network,
				      const char *container_id, const char *ifname,
				      struct loom_err *err);
/* GC's: remove every record temp file in dir whose writer (the pid in its
 * name) is dead.  A live writer's is left alone. */
int loom_endpoint_record_sweep_temps(const char *dir, struct loom_err *err);

#endif
