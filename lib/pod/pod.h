/* pod: the attachment of one pod to the host, shared by the CNI plugins.
 *
 * Owns what every topology does the same way: the undo stack of a failed
 * ADD, host veth names and the veth pair, random MACs, the pod interface's
 * addresses and routes, forwarding, the IPAM client (ipam_client.h), the
 * endpoint record (record.h), the firewall elements (firewall.h), the
 * antiSpoof element, and the one DEL and one CHECK path.  A topology
 * (loom-bridge's bridge port, loom-bgp's routed veth) is a small module
 * over it: it says what the host end hangs off (struct loom_pod_topology)
 * and adds its own steps around loom_pod_attach's.
 *
 * May use base, cni, kernel, and loom-ipam's allocator (ipam/, which
 * itself uses only base and cni): in-process IPAM is what spares an ADD an
 * exec.  May NOT use store or model: pod start never depends on the
 * datastore.  Library code: returns -1 with loom_err filled (or -errno
 * where it says so), never prints or exits. */
#ifndef LOOM_POD_H
#define LOOM_POD_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ip.h"
#include "cni/cni.h"
#include "kernel/nl.h"
#include "pod/firewall.h"
#include "pod/ipam_client.h"
#include "pod/record.h"

/* ---- errors ---- */

/* Fill err (LOOM_ERR_INTERNAL, errno -r) with the formatted message and,
 * when the kernel said more, ": <its extended ack>".  Returns -1. */
int loom_pod_nl_err(struct loom_err *err, struct loom_nl *nl, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- rollback ---- */

#define LOOM_POD_UNDO_MAX 16

/* An undo step: returns 0, or -1 with `why` filled (or -errno) when it
 * could not undo.  `what` names the step in the error's details ("release
 * the address"). */
typedef int (*loom_pod_undo_fn)(void *arg, struct loom_err *why);
struct loom_pod_undo {
	size_t n;
	struct {
		loom_pod_undo_fn fn;
		void *arg;
		const char *what;
	} s[LOOM_POD_UNDO_MAX];
};

void loom_pod_undo_init(struct loom_pod_undo *u);
/* -1 (with err) when the stack is full: a programming error, but then the
 * step must not be taken. */
int loom_pod_undo_push(struct loom_pod_undo *u, loom_pod_undo_fn fn, void *arg, const char *what,
		       struct loom_err *err);
/* Run every step, newest first, and empty the stack.  Failures are noted in
 * err->details (the caller's own message stays). */
void loom_pod_undo_run(struct loom_pod_undo *u, struct loom_err *err);
/* Success: forget the steps. */
void loom_pod_undo_commit(struct loom_pod_undo *u);

/* ---- MAC addresses ---- */

/* A random locally administered unicast MAC. */
int loom_mac_random(uint8_t mac[LOOM_MAC_LEN], struct loom_err *err);
/* "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff" (either case).  0 or -EINVAL. */
int loom_mac_parse(const char *s, uint8_t mac[LOOM_MAC_LEN]);
/* Lower-case colon form, as Go's net.HardwareAddr.String(). */
const char *loom_mac_fmt(const uint8_t mac[LOOM_MAC_LEN], char buf[LOOM_MAC_STRLEN]);

/* ---- what every plugin's config says the same way (conf.c) ---- */

#define LOOM_POD_MAC_FROM_MAX 32

/* Endpoint records describe kernel state (veths, nft elements) that a reboot
 * wipes, so they live on tmpfs: creating a file there costs microseconds,
 * against ~0.8 ms for a new inode on the ext4 nodes we measured. */
#define LOOM_POD_DEFAULT_STATE_DIR "/run/loom/endpoints"
#define LOOM_POD_DEFAULT_BPF_PIN_DIR "/sys/fs/bpf/loom"

/* An optional string member of o copied into buf: 1 when given, 0 when
 * not, -1 (err names `path`) when not a string, too long or holding a NUL. */
int loom_pod_json_str(const json_t *o, const char *key, const char *path, char *buf, size_t len,
		      struct loom_err *err);
/* The pod interface's MAC: CNI_ARGS MAC, then args.cni.mac, then
 * runtimeConfig.mac, each later one winning when not empty; mac_from says
 * which ("runtimeConfig.mac").  A bad CNI_ARGS value is
 * LOOM_ERR_INVALID_ENV, a bad config value LOOM_ERR_INVALID_CONFIG. */
int loom_pod_conf_mac(const struct loom_netconf *nc, const struct loom_cni_args *args,
		      bool *has_mac, uint8_t mac[LOOM_MAC_LEN],
		      char mac_from[LOOM_POD_MAC_FROM_MAX], struct loom_err *err);
/* "dns": *has_dns when it sets any field (it then replaces IPAM's). */
int loom_pod_conf_dns(const struct loom_netconf *nc, bool *has_dns, struct loom_dns *dns,
		      struct loom_err *err);
/* "stateDir" (into PATH_MAX bytes, of which 320 stay free for record
 * names) and "bpfPinDir" (PATH_MAX - 64 bytes) of root, defaulted, and
 * absolute. */
int loom_pod_conf_dirs(const json_t *root, char *state_dir, char *bpf_pin_dir,
		       struct loom_err *err);
/* A MAC an interface can have: not multicast, not all zeros. */
int loom_pod_mac_verify(const uint8_t mac[LOOM_MAC_LEN], const char *mac_from,
			struct loom_err *err);

/* ---- topology ---- */

/* What the host end of a pod's veth hangs off: what DEL may delete by
 * name and what CHECK expects. */
struct loom_pod_check;
struct loom_pod_topology {
	const char *veth_prefix; /* host veth names, at most 6 bytes; NULL: "veth" */
	const char *bridge;      /* the host ends' master; NULL: routed (no master) */
	bool promisc;            /* bridged: promiscMode, which CHECK compares */
	/* Routed: the host holds a route per address (protocol LOOM_RTPROT)
	 * that DEL removes with the record's addresses. */
	bool host_routes;
	/* CHECK's topology-specific part, after the shared one; may be NULL. */
	int (*check)(const struct loom_pod_check *k, struct loom_err *err);
};

/* What the shared steps need of a plugin's config: a view, pointing into
 * the plugin's own struct (which must outlive it). */
struct loom_pod_conf {
	const char *network;          /* "name" */
	const char *state_dir;        /* endpoint records */
	uint32_t mtu;                 /* 0: the kernel's */
	const uint8_t *mac;           /* the pod side's MAC, NULL: random */
	bool enable_dad;              /* false: IPv6 addresses get NODAD */
	bool disable_container_iface; /* leave the pod's interface down */
	bool layer3;                  /* an IPAM: addresses to masquerade and hold to */
	bool ip_masq, spoofchk;       /* firewall elements */
	size_t n_masq_exempt;         /* ipMasq leaves these destinations alone too */
	const struct loom_prefix *masq_exempt;
	bool anti_spoof; /* BPF source checks */
	const char *bpf_pin_dir;
	const struct loom_pod_topology *topo;
	const struct loom_ipam_client *ipam;
};

/* ---- host veth names ---- */

#define LOOM_POD_NAME_SALTS 4

/* prefix ("veth" when NULL, at most 6 bytes) + 8 hex digits of a hash of
 * "<containerID>/<ifname>" (salt 0), or of the same with "#<salt>"
 * appended (the next names tried when the first is taken by someone
 * else's link).  Derived, not random, so that an ADD retried after a crash
 * finds the pair its predecessor left and DEL can name it without a
 * record. */
void loom_pod_veth_name(const char *prefix, const char *container_id, const char *ifname,
			unsigned salt, char out[IFNAMSIZ]);

/* ---- the veth pair ---- */

struct loom_pod_veth_req {
	const char *container_id;
	const char *ifname;      /* the pod side's name */
	int netns_fd;            /* the pod's netns */
	uint32_t mtu;            /* 0: default */
	const uint8_t *peer_mac; /* the pod side's MAC */
	int master;              /* the bridge, 0: none */
	const char *state_dir;   /* records: a completed attachment is no leftover */
	const char *name_prefix; /* host end's name prefix, NULL: "veth" */
};

/* Create the pair, host end enslaved and up.  A leftover pair of an earlier
 * ADD of the same attachment (the host end named from it, the pod end its
 * peer) is deleted first; a name taken by another link moves on to the
 * next salt.  *out receives the host end; out->link is the pod end's
 * ifindex in the pod's netns. */
int loom_pod_veth_create(struct loom_nl *host, struct loom_nl *pod,
			 const struct loom_pod_veth_req *req, struct loom_link *out,
			 struct loom_err *err);

/* Delete the host veths named from (container_id, ifname) that the
 * topology could have made: veths on its bridge, or without a master when
 * routed (a name collision must not cost another pod its link). */
int loom_pod_veth_del_derived(struct loom_nl *host, const struct loom_pod_topology *topo,
			      const char *container_id, const char *ifname, struct loom_err *err);

/* ---- inside the pod ---- */

/* Addresses of `res` whose iface is `res_iface` (IPv6 without DAD unless
 * enable_dad), the link up (unless disable_container_iface), then every
 * route of `res`, on ifindex in the pod's netns. */
int loom_pod_iface_configure(struct loom_nl *pod, int netns_fd, const struct loom_pod_conf *c,
			     const char *ifname, int ifindex, const struct loom_result *res,
			     int res_iface, struct loom_err *err);

/* net.ipv4.ip_forward (family[0]) and net.ipv6.conf.all.forwarding
 * (family[1]) = 1 in the calling thread's netns. */
int loom_pod_forwarding_enable(const bool family[2], struct loom_err *err);

/* ---- ADD: the shared steps ---- */

struct loom_antispoof;

/* One ADD's state.  A topology runs: loom_pod_attach_new, loom_pod_open,
 * loom_pod_ipam_and_veth, loom_pod_antispoof, its own steps
 * (loom_pod_iface_configure among them), loom_pod_firewall,
 * loom_pod_record, then loom_pod_attach_end. */
struct loom_pod_attach {
	const struct loom_cni_ctx *ctx;
	const struct loom_pod_conf *conf;
	struct loom_pod_undo undo;
	struct loom_nl *host, *pod;
	int netns_fd;
	struct loom_link veth;     /* host end; .link = the pod end's ifindex */
	uint8_t mac[LOOM_MAC_LEN]; /* the pod side's */
	char mac_str[LOOM_MAC_STRLEN];
	struct loom_result ipam;                     /* IPAM's answer; the topology may shape it */
	struct loom_prefix ips[LOOM_RESULT_MAX_IPS]; /* IPAM's addresses, subnet lengths */
	struct loom_fw_pod fw;
	struct loom_endpoint_record rec;
	struct loom_antispoof *as; /* antiSpoof's pinned program and maps */
};

/* calloc'd (the job holds result-sized tables): NULL when out of memory. */
struct loom_pod_attach *loom_pod_attach_new(const struct loom_cni_ctx *ctx,
					    const struct loom_pod_conf *c);
/* r < 0: wait for antiSpoof's thread and run the undo steps (noting their
 * failures in err).  Then free everything.  Returns r. */
int loom_pod_attach_end(struct loom_pod_attach *a, int r, struct loom_err *err);

/* CNI_NETNS opened, a netlink socket in the host's and in the pod's. */
int loom_pod_open(struct loom_pod_attach *a, struct loom_err *err);
/* With IPAM (layer3), an address reserved, its undo pushed, a->ips filled
 * (and a crashed predecessor's leftovers cleared: loom_pod_del_orphans);
 * then the veth pair (host end on `master`, 0 for none) with its undo, and
 * `port` (may be NULL) on the host end. */
int loom_pod_ipam_and_veth(struct loom_pod_attach *a, int master,
			   int (*port)(struct loom_pod_attach *a, void *arg, struct loom_err *err),
			   void *arg, struct loom_err *err);
/* antiSpoof (when on, with addresses): the pod's element, then the tc
 * filter on the host end. */
int loom_pod_antispoof(struct loom_pod_attach *a, struct loom_err *err);
/* ipMasq (with addresses) and macspoofchk elements, with their undo. */
int loom_pod_firewall(struct loom_pod_attach *a, struct loom_err *err);
/* The endpoint record of the attachment; `bridge` NULL when routed. */
int loom_pod_record(struct loom_pod_attach *a, const char *bridge, struct loom_err *err);

/* ---- DEL ---- */

/* The one DEL: idempotent, and completes whatever is already gone (see
 * del.c).  ctx: the caller's env; c: its config's view. */
int loom_pod_del(const struct loom_cni_ctx *ctx, const struct loom_pod_conf *c,
		 struct loom_err *err);

/* What a crashed ADD of ctx's attachment may have left besides its veth
 * pair and its address, found without its record: firewall elements by
 * their comment, antiSpoof elements of interfaces gone from this netns,
 * the record's temp files.  DEL's fallback, and what a second ADD clears
 * when it finds its predecessor's address. */
int loom_pod_del_orphans(const struct loom_cni_ctx *ctx, const struct loom_pod_conf *c,
			 struct loom_err *err);

/* GC: killed writers' record temp files, then IPAM's GC. */
int loom_pod_gc(const struct loom_pod_conf *c, struct loom_err *err);

/* ---- CHECK ---- */

/* What CHECK found, for the topology's part. */
struct loom_pod_check {
	const struct loom_result *prev;
	const char *netns;
	struct loom_nl *host, *pod;
	int iface;               /* prevResult's container interface */
	struct loom_link cl, hl; /* container end, host end */
};

/* Fill err as a CHECK difference (LOOM_ERR_NOT_FOUND).  Returns -1. */
int loom_pod_differs(struct loom_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The one CHECK: prevResult and CNI_NETNS required, IPAM's own check, the
 * container interface (a veth, prevResult's MAC), the bridge (bridged),
 * its host end (on the bridge), every address and route of prevResult in
 * the pod, then the topology's check.  The first difference is the
 * error, named precisely. */
int loom_pod_check(const struct loom_cni_ctx *ctx, const struct loom_pod_conf *c,
		   struct loom_err *err);

/* A lease-file plugin's DEL, CHECK, GC or STATUS: its `run` (make the
 * network from the lease file, `lenient` when a missing lease is no error,
 * else fail with `make_code`) around one pod-library step.  One line per
 * command instead of the same three-line wrapper in every plugin. */
#define LOOM_POD_LEASE_CMD(NAME, RUN, LENIENT, STEP, MAKE_CODE)  \
	int NAME(struct loom_cni_ctx *ctx, struct loom_err *err) \
	{                                                        \
		return RUN(ctx, LENIENT, STEP, MAKE_CODE, err);  \
	}

#endif
