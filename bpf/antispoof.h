/* The anti-spoofing program's maps, shared by the BPF side (antispoof.bpf.c)
 * and userspace (lib/kernel/bpf_antispoof.c, loom-bpf).  Fixed-size types only: the
 * layout is the kernel map's value layout. */
#ifndef LOOM_BPF_ANTISPOOF_H
#define LOOM_BPF_ANTISPOOF_H

#include <linux/types.h>

/* Bounds that keep the program's loops obviously finite. */
#define LOOM_ANTISPOOF_MAX_V4 4
#define LOOM_ANTISPOOF_MAX_V6 4
#define LOOM_ANTISPOOF_MAX_PODS 65536

/* `allowed` value, keyed by the host-side veth's ifindex (__u32). */
struct loom_antispoof_allowed {
	__u8 mac[6];
	__u8 n_v4;
	__u8 n_v6;
	__be32 v4[LOOM_ANTISPOOF_MAX_V4];
	__u8 v6[LOOM_ANTISPOOF_MAX_V6][16];
};

enum loom_antispoof_drop {
	LOOM_ANTISPOOF_DROP_MAC,       /* Ethernet source is not the pod's MAC */
	LOOM_ANTISPOOF_DROP_IP4,       /* IPv4 source the pod does not own */
	LOOM_ANTISPOOF_DROP_IP6,       /* IPv6 source the pod does not own */
	LOOM_ANTISPOOF_DROP_ARP,       /* ARP sender IP or MAC not the pod's */
	LOOM_ANTISPOOF_DROP_ND,        /* neighbour advertisement for another address */
	LOOM_ANTISPOOF_DROP_PROTO,     /* an EtherType a pod has no business sending */
	LOOM_ANTISPOOF_DROP_MALFORMED, /* too short to check */
	LOOM_ANTISPOOF_DROP_UNKNOWN,   /* no `allowed` entry for this interface */
	LOOM_ANTISPOOF_DROP_MAX
};

/* `counters` value (per CPU), keyed by ifindex like `allowed`. */
struct loom_antispoof_counters {
	__u64 pass_packets;
	__u64 pass_bytes;
	__u64 drop[LOOM_ANTISPOOF_DROP_MAX];
};

#endif
