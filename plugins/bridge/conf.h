/* loom-bridge's network config: the reference bridge plugin's keys, parsed
 * into a plain struct, verified once, then acted on.
 *
 * Parsing (loom_br_conf_parse) checks each key's type and range and fills
 * defaults; verification (loom_br_conf_verify, called by parse) refuses the
 * combinations that cannot work.  Every error names its field.  Nothing here
 * touches the kernel or the disk. */
#ifndef LOOM_BRIDGE_CONF_H
#define LOOM_BRIDGE_CONF_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "cni/cni.h"
#include "base/err.h"
#include "kernel/nl.h"
#include "pod/pod.h"

#define LOOM_BR_DEFAULT_BRIDGE "cni0"
#define LOOM_BR_DEFAULT_STATE_DIR LOOM_POD_DEFAULT_STATE_DIR
#define LOOM_BR_VLAN_MAX 4094
#define LOOM_BR_DEFAULT_BPF_PIN_DIR LOOM_POD_DEFAULT_BPF_PIN_DIR
#define LOOM_BR_IPAM_TYPE_MAX 64
#define LOOM_BR_MASQ_EXEMPT_MAX LOOM_RECORD_MASQ_EXEMPT_MAX /* one per family */

struct loom_br_conf {
	char network[256];            /* "name" */
	char bridge[IFNAMSIZ];        /* "bridge", default cni0 */
	bool is_gw;                   /* "isGateway" (or implied by isDefaultGateway) */
	bool is_default_gw;           /* "isDefaultGateway" */
	bool force_address;           /* "forceAddress" */
	bool ip_masq;                 /* "ipMasq" (nftables whatever ipMasqBackend says) */
	bool hairpin;                 /* "hairpinMode" */
	bool promisc;                 /* "promiscMode" */
	bool spoofchk;                /* "macspoofchk" */
	bool enable_dad;              /* "enabledad": false means IPv6 addresses get NODAD */
	bool disable_container_iface; /* "disableContainerInterface": leave it down */
	bool port_isolation;          /* "portIsolation" */
	uint32_t mtu;                 /* "mtu", 0 = kernel default */

	int vlan;       /* "vlan": access VLAN, 0 = none */
	size_t n_trunk; /* "vlanTrunk": VLAN IDs, sorted, unique */
	uint16_t trunk[LOOM_BR_VLAN_MAX];
	bool preserve_default_vlan; /* "preserveDefaultVlan", default true */

	bool has_mac; /* runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC */
	uint8_t mac[LOOM_MAC_LEN];
	char mac_from[32]; /* where the MAC came from, for messages */

	bool layer3;          /* ipam.type given: false for "ipam": {} */
	bool ipam_in_process; /* ipam.type is "loom-ipam" */
	char ipam_type[LOOM_BR_IPAM_TYPE_MAX];

	bool has_dns; /* "dns" sets at least one field: it replaces IPAM's */
	struct loom_dns dns;

	char state_dir[PATH_MAX]; /* "stateDir": endpoint records, absolute */

	bool anti_spoof;                 /* "antiSpoof", default true: BPF source checks */
	char bpf_pin_dir[PATH_MAX - 64]; /* "bpfPinDir", default /sys/fs/bpf/loom, absolute */

	/* Not a config key: set in-process by loom-vxlan (the cluster CIDRs).
	 * ipMasq leaves traffic to these alone as well as to the pod's own
	 * subnet.  Zero from loom_br_conf_parse. */
	size_t n_masq_exempt;
	struct loom_prefix masq_exempt[LOOM_BR_MASQ_EXEMPT_MAX];
};

/* Fill `out` from the parsed network config and CNI_ARGS (`args` may be
 * NULL), then verify it.  Codes: LOOM_ERR_INVALID_CONFIG for a bad value or
 * combination, LOOM_ERR_INVALID_ENV for a bad CNI_ARGS MAC.  The message
 * starts with the field's path ("vlanTrunk[1].minID: ..."). */
int loom_br_conf_parse(const struct loom_netconf *nc, const struct loom_cni_args *args,
		       struct loom_br_conf *out, struct loom_err *err);

/* For a struct filled by hand (loom-vxlan): zero and the defaults of a
 * config without keys but "name" (validated), no bridge name yet. */
int loom_br_conf_init(const char *network, struct loom_br_conf *out, struct loom_err *err);
/* "bridge" of root (dflt when absent), checked as an interface name. */
int loom_br_conf_bridge(const json_t *root, const char *dflt, struct loom_br_conf *c,
			struct loom_err *err);

/* Cross-field rules, for a struct filled by hand (parse calls it). */
int loom_br_conf_verify(const struct loom_br_conf *c, struct loom_err *err);

#endif
