// SPDX-License-Identifier: GPL-2.0
/* Anti-spoofing on the host side of a pod's veth (tc clsact ingress, i.e.
 * what the pod sends): a frame passes only when its Ethernet source is the
 * pod's MAC and its IPv4/IPv6/ARP/ND source claims are the pod's own
 * addresses.  The exceptions are what a pod needs before it has addresses:
 * DHCP discovery from 0.0.0.0, IPv6 link-local traffic, and ICMPv6 (DAD,
 * MLD) from ::.  Everything else, VLAN tags included, is dropped and
 * counted by reason.
 *
 * Bounded by construction: no loop runs more than LOOM_ANTISPOOF_MAX_V4/V6 times,
 * and every packet read goes through bpf_skb_load_bytes (so non-linear
 * skbs are read correctly, and a short packet is a failed read, not an
 * out-of-bounds one). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "antispoof.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOOM_ANTISPOOF_MAX_PODS);
	__type(key, __u32);
	__type(value, struct loom_antispoof_allowed);
} allowed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, LOOM_ANTISPOOF_MAX_PODS);
	__type(key, __u32);
	__type(value, struct loom_antispoof_counters);
} counters SEC(".maps");

#define ETH_LEN 14
#define IP6_LEN 40
#define PROTO_ICMPV6 58
#define PROTO_HOPOPTS 0
#define ICMP6_NA 136

static __always_inline int v4_ok(const struct loom_antispoof_allowed *a, __be32 ip)
{
	int i;

	for (i = 0; i < LOOM_ANTISPOOF_MAX_V4; i++)
		if (i < a->n_v4 && a->v4[i] == ip)
			return 1;
	return 0;
}

static __always_inline int v6_eq(const __u8 *x, const __u8 *y)
{
	const __u64 *a = (const __u64 *)x, *b = (const __u64 *)y;

	return a[0] == b[0] && a[1] == b[1];
}

static __always_inline int v6_ok(const struct loom_antispoof_allowed *a, const __u8 *ip)
{
	int i;

	for (i = 0; i < LOOM_ANTISPOOF_MAX_V6; i++)
		if (i < a->n_v6 && v6_eq(a->v6[i], ip))
			return 1;
	return 0;
}

static __always_inline int v6_link_local(const __u8 *ip)
{
	return ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;
}

static __always_inline int v6_unspec(const __u8 *ip)
{
	const __u64 *a = (const __u64 *)ip;

	return a[0] == 0 && a[1] == 0;
}

static __always_inline int mac_eq(const __u8 *x, const __u8 *y)
{
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4] &&
	       x[5] == y[5];
}

/* LOOM_ANTISPOOF_DROP_MAX for "pass", else the reason. */
static __always_inline int check_ip4(struct __sk_buff *skb, const struct loom_antispoof_allowed *a)
{
	struct {
		__u8 vihl, tos;
		__be16 len, id, frag;
		__u8 ttl, proto;
		__be16 csum;
		__be32 saddr, daddr;
	} ip;
	__be16 ports[2];

	if (bpf_skb_load_bytes(skb, ETH_LEN, &ip, sizeof(ip)) < 0)
		return LOOM_ANTISPOOF_DROP_MALFORMED;
	if (v4_ok(a, ip.saddr))
		return LOOM_ANTISPOOF_DROP_MAX;
	/* DHCP discovery/request before the pod has an address. */
	if (ip.saddr == 0 && ip.daddr == 0xffffffff && ip.proto == IPPROTO_UDP &&
	    bpf_skb_load_bytes(skb, ETH_LEN + (ip.vihl & 0x0f) * 4, ports, sizeof(ports)) == 0 &&
	    ports[0] == bpf_htons(68) && ports[1] == bpf_htons(67))
		return LOOM_ANTISPOOF_DROP_MAX;
	return LOOM_ANTISPOOF_DROP_IP4;
}

static __always_inline int check_ip6(struct __sk_buff *skb, const struct loom_antispoof_allowed *a)
{
	struct {
		__be32 vtcfl;
		__be16 plen;
		__u8 nexthdr, hlim;
		__u8 saddr[16], daddr[16];
	} ip;
	struct {
		__u8 type, code;
		__be16 csum;
		__be32 flags;
		__u8 target[16];
	} nd;
	int src_ok;

	if (bpf_skb_load_bytes(skb, ETH_LEN, &ip, sizeof(ip)) < 0)
		return LOOM_ANTISPOOF_DROP_MALFORMED;
	src_ok = v6_ok(a, ip.saddr) || v6_link_local(ip.saddr);
	/* MLD reports (behind a hop-by-hop header) and DAD probes come
	 * from ::, which claims nothing and gets no answer. */
	if (ip.nexthdr == PROTO_HOPOPTS && v6_unspec(ip.saddr))
		return LOOM_ANTISPOOF_DROP_MAX;
	if (ip.nexthdr != PROTO_ICMPV6)
		return src_ok ? LOOM_ANTISPOOF_DROP_MAX : LOOM_ANTISPOOF_DROP_IP6;
	if (!src_ok && !v6_unspec(ip.saddr))
		return LOOM_ANTISPOOF_DROP_IP6;
	if (bpf_skb_load_bytes(skb, ETH_LEN + IP6_LEN, &nd, 2) < 0)
		return LOOM_ANTISPOOF_DROP_MALFORMED;
	if (nd.type != ICMP6_NA)
		return LOOM_ANTISPOOF_DROP_MAX;
	/* An advertisement speaks for its target: only the pod's own. */
	if (bpf_skb_load_bytes(skb, ETH_LEN + IP6_LEN, &nd, sizeof(nd)) < 0)
		return LOOM_ANTISPOOF_DROP_MALFORMED;
	if (v6_ok(a, nd.target) || v6_link_local(nd.target))
		return LOOM_ANTISPOOF_DROP_MAX;
	return LOOM_ANTISPOOF_DROP_ND;
}

static __always_inline int check_arp(struct __sk_buff *skb, const struct loom_antispoof_allowed *a)
{
	struct {
		__be16 htype, ptype;
		__u8 hlen, plen;
		__be16 op;
		__u8 sha[6];
		__u8 spa[4];
	} arp;
	__be32 spa;

	if (bpf_skb_load_bytes(skb, ETH_LEN, &arp, sizeof(arp)) < 0)
		return LOOM_ANTISPOOF_DROP_MALFORMED;
	if (arp.ptype != bpf_htons(ETH_P_IP) || arp.hlen != 6 || arp.plen != 4)
		return LOOM_ANTISPOOF_DROP_ARP;
	__builtin_memcpy(&spa, arp.spa, 4);
	if (!mac_eq(arp.sha, a->mac))
		return LOOM_ANTISPOOF_DROP_ARP;
	/* 0.0.0.0 is an ARP probe (RFC 5227), which claims nothing. */
	if (spa != 0 && !v4_ok(a, spa))
		return LOOM_ANTISPOOF_DROP_ARP;
	return LOOM_ANTISPOOF_DROP_MAX;
}

SEC("tc")
int loom_antispoof(struct __sk_buff *skb)
{
	__u32 key = skb->ifindex;
	const struct loom_antispoof_allowed *a;
	struct loom_antispoof_counters *c;
	struct {
		__u8 dst[6], src[6];
		__be16 proto;
	} eth;
	int why;

	c = bpf_map_lookup_elem(&counters, &key);
	a = bpf_map_lookup_elem(&allowed, &key);
	if (!a)
		why = LOOM_ANTISPOOF_DROP_UNKNOWN;
	else if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0)
		why = LOOM_ANTISPOOF_DROP_MALFORMED;
	else if (!mac_eq(eth.src, a->mac))
		why = LOOM_ANTISPOOF_DROP_MAC;
	else if (eth.proto == bpf_htons(ETH_P_IP))
		why = check_ip4(skb, a);
	else if (eth.proto == bpf_htons(ETH_P_IPV6))
		why = check_ip6(skb, a);
	else if (eth.proto == bpf_htons(ETH_P_ARP))
		why = check_arp(skb, a);
	else
		why = LOOM_ANTISPOOF_DROP_PROTO;

	if (why >= LOOM_ANTISPOOF_DROP_MAX) {
		if (c) {
			c->pass_packets++;
			c->pass_bytes += skb->len;
		}
		return TC_ACT_OK;
	}
	if (c && why >= 0)
		c->drop[why]++;
	return TC_ACT_SHOT;
}
