/* The kernel seam: rtnetlink over libnl, and sysctl.
 *
 * A `struct loom_nl` is one NETLINK_ROUTE socket.  A netlink socket belongs
 * to the netns it was created in for its whole life, whatever the thread
 * does afterwards, so a plugin opens one socket per netns it works on
 * (loom_nl_open_netns() for the pod: no setns around each call) and sends
 * every request of an operation over it.  Requests are synchronous: each
 * waits for the kernel's answer.  Not thread-safe: one socket per thread.
 *
 * Every function returns 0 (or a count) on success and -errno on failure,
 * the kernel's own errno (EEXIST, ENODEV, EBUSY, ...), not libnl's codes.
 * When the kernel explained a failure (extended ack), loom_nl_last_msg()
 * returns its sentence for the error message a person will read.
 *
 * Names are at most IFNAMSIZ-1 (15) bytes; a longer one is -EINVAL.  MACs
 * are 6-byte Ethernet addresses.  Files: nl_sock.c (socket, transport),
 * nl_link.c (links, veth, bridge), nl_addr.c, nl_route.c, nl_neigh.c
 * (neighbours, FDB), nl_sysctl.c. */
#ifndef LOOM_NL_H
#define LOOM_NL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ip.h"

#define LOOM_MAC_LEN 6
#define LOOM_KIND_MAX 16

/* The rtm_protocol loom stamps on routes it installs, so it can list and
 * remove exactly its own (/etc/iproute2/rt_protos: unassigned; Calico uses
 * 80, BIRD 12).  Shown by `ip route` as "proto 76". */
#define LOOM_RTPROT 76

/* ---- socket ---- */

struct loom_nl;

/* A socket in the calling thread's current netns. */
int loom_nl_open(struct loom_nl **out);
/* A socket in the netns behind netns_fd; the thread enters it just long
 * enough to create the socket and is back on return (even on error; a
 * failed return is -ENOTRECOVERABLE, as loom_netns_run_fd()). */
int loom_nl_open_netns(int netns_fd, struct loom_nl **out);
void loom_nl_close(struct loom_nl *nl); /* NULL-safe */
static inline void loom_nl_closep(struct loom_nl **nl)
{
	loom_nl_close(*nl);
}
#define _cleanup_nl_ __attribute__((cleanup(loom_nl_closep)))

/* The kernel's extended-ack text for the last failed request on nl ("" if
 * it gave none), valid until the next request. */
const char *loom_nl_last_msg(const struct loom_nl *nl);

/* ---- links ---- */

/* Bridge port flags, as set by loom_bridge_port_set() and reported in
 * struct loom_link.brport_flags when the link is a bridge port. */
#define LOOM_BRPORT_HAIRPIN 0x1u  /* reflect frames back out the port they came in on */
#define LOOM_BRPORT_ISOLATED 0x2u /* no forwarding to other isolated ports */
#define LOOM_BRPORT_LEARNING 0x4u
#define LOOM_BRPORT_FLOOD 0x8u /* unknown unicast flooding */

struct loom_link {
	int ifindex;
	char name[IFNAMSIZ];
	uint8_t mac[LOOM_MAC_LEN];
	uint8_t mac_len; /* 6 for Ethernet-like links, 0 for none */
	uint32_t mtu;
	unsigned flags; /* IFF_* (IFF_UP, IFF_PROMISC, IFF_LOWER_UP, ...) */
	int master;     /* ifindex of the master (bridge), 0 if none */
	int link;       /* IFLA_LINK: a veth's peer ifindex (in the peer's netns), 0 if none */
	char kind[LOOM_KIND_MAX]; /* "veth", "bridge", "vxlan", ...; "" for none (lo) */
	bool is_bridge_port;      /* enslaved to a bridge: brport_flags is valid */
	unsigned brport_flags;    /* LOOM_BRPORT_* */
};

/* Look up one link (a single RTM_GETLINK, no dump).  -ENODEV if missing. */
int loom_link_get(struct loom_nl *nl, const char *name, struct loom_link *out);
int loom_link_get_index(struct loom_nl *nl, int ifindex, struct loom_link *out);

/* A combined change: only the fields named in `set` are sent, all in one
 * request.  Renaming an up link is -EBUSY before Linux 6.2. */
#define LOOM_LINK_SET_MTU 0x01u
#define LOOM_LINK_SET_MAC 0x02u
#define LOOM_LINK_SET_MASTER 0x04u /* master 0 = release from its master */
#define LOOM_LINK_SET_UP 0x08u     /* up true/false */
#define LOOM_LINK_SET_PROMISC 0x10u
#define LOOM_LINK_SET_NAME 0x20u
struct loom_link_change {
	unsigned set;
	uint32_t mtu;
	uint8_t mac[LOOM_MAC_LEN];
	int master;
	bool up;
	bool promisc;
	const char *name;
};
int loom_link_change(struct loom_nl *nl, int ifindex, const struct loom_link_change *c);

/* Shorthands for loom_link_change(). */
int loom_link_set_up(struct loom_nl *nl, int ifindex, bool up);
int loom_link_set_mtu(struct loom_nl *nl, int ifindex, uint32_t mtu);
int loom_link_set_mac(struct loom_nl *nl, int ifindex, const uint8_t mac[LOOM_MAC_LEN]);
int loom_link_set_master(struct loom_nl *nl, int ifindex, int master_ifindex);
int loom_link_set_promisc(struct loom_nl *nl, int ifindex, bool on);
int loom_link_rename(struct loom_nl *nl, int ifindex, const char *name);

/* Delete a link.  With missing_ok a link that is already gone is success;
 * without, it is -ENODEV.  Deleting one end of a veth deletes both. */
int loom_link_del(struct loom_nl *nl, int ifindex, bool missing_ok);
int loom_link_del_name(struct loom_nl *nl, const char *name, bool missing_ok);

/* Make sure a bridge `name` exists and is up; fill *out (may be NULL).
 * Creates it when missing (with mtu when not 0, vlan filtering when asked)
 * and tolerates a concurrent creator winning the race.  An existing bridge
 * is used as is (its MTU is not changed).  A link of that name that is not
 * a bridge is -EEXIST: loom never takes over another device. */
struct loom_bridge_conf {
	uint32_t mtu; /* 0: kernel default */
	bool vlan_filtering;
};
int loom_bridge_ensure(struct loom_nl *nl, const char *name, const struct loom_bridge_conf *conf,
		       struct loom_link *out);

/* Set or clear bridge port flags on an enslaved link (AF_BRIDGE setlink,
 * IFLA_PROTINFO): flags in `mask` take their value from `values`.
 * -EOPNOTSUPP when the link is not a bridge port. */
int loom_bridge_port_set(struct loom_nl *nl, int ifindex, unsigned mask, unsigned values);

/* Create a veth pair in one request: `name` in nl's netns, `peer_name` in
 * the netns behind peer_netns_fd (-1: nl's netns too).  Both ends get mtu
 * (0: default); macs are optional; with master the host end is enslaved
 * and with up brought up, in the same request.  -EEXIST when either name is
 * taken in its netns.  *out (may be NULL) receives the host end.
 * The peer cannot be brought up in the same request (the kernel configures
 * it before the pair is joined and refuses with ENOTCONN): bring it up with
 * a socket in its netns, together with its addresses. */
struct loom_veth_req {
	const char *name;
	const char *peer_name;
	int peer_netns_fd;
	uint32_t mtu;
	const uint8_t *mac;      /* NULL: random */
	const uint8_t *peer_mac; /* NULL: random */
	int master;              /* 0: none */
	bool up;                 /* host end up */
};
int loom_veth_create(struct loom_nl *nl, const struct loom_veth_req *req, struct loom_link *out);

/* ---- addresses ---- */

#define LOOM_ADDR_NODAD 0x1u   /* IPv6: usable at once, no duplicate detection */
#define LOOM_ADDR_REPLACE 0x2u /* an existing equal address is success */

struct loom_addr {
	int ifindex;
	struct loom_prefix prefix; /* the local address with its prefix length */
	uint8_t scope;             /* RT_SCOPE_* */
	uint32_t flags;            /* IFA_F_* (IFA_F_TENTATIVE, IFA_F_NODAD, ...) */
};

/* Add an address: IPv4 gets its broadcast (the prefix's last address, for
 * prefixes shorter than /31).  -EEXIST if present unless LOOM_ADDR_REPLACE. */
int loom_addr_add(struct loom_nl *nl, int ifindex, const struct loom_prefix *p, unsigned flags);
/* Remove one.  -EADDRNOTAVAIL when not present. */
int loom_addr_del(struct loom_nl *nl, int ifindex, const struct loom_prefix *p);
/* List addresses of ifindex (0: every link), family AF_INET, AF_INET6 or
 * AF_UNSPEC.  *out is a malloc()ed array the caller frees (NULL when 0);
 * returns the count. */
int loom_addr_list(struct loom_nl *nl, int ifindex, int family, struct loom_addr **out);

/* ---- routes ---- */

struct loom_nl_route {
	struct loom_prefix dst; /* len 0: default route; dst.ip.family is the route's family */
	struct loom_ip gw;      /* family 0: no gateway */
	struct loom_ip prefsrc; /* family 0: none */
	int oif;                /* 0: none */
	uint32_t table;         /* 0: main */
	uint8_t protocol;       /* 0: RTPROT_BOOT, as `ip route add`; loom's own: LOOM_RTPROT */
	uint8_t scope;   /* RT_SCOPE_UNIVERSE (0) means: link for an IPv4 route without gateway */
	uint8_t type;    /* 0: RTN_UNICAST */
	bool onlink;     /* gateway reachable on oif without a covering route */
	uint32_t metric; /* RTA_PRIORITY */
	uint32_t mtu;    /* RTAX_MTU, 0: none */
};

#define LOOM_ROUTE_REPLACE 0x1u /* add: replace a route with the same key */

/* -EEXIST when present unless LOOM_ROUTE_REPLACE; -ENETUNREACH when the
 * gateway is not reachable (use onlink). */
int loom_route_add(struct loom_nl *nl, const struct loom_nl_route *r, unsigned flags);
/* The kernel matches dst/len, table and every other field that is set.
 * -ESRCH when no such route, or 0 with missing_ok. */
int loom_route_del(struct loom_nl *nl, const struct loom_nl_route *r, bool missing_ok);

struct loom_route_filter {
	int family;       /* AF_INET, AF_INET6 or AF_UNSPEC */
	uint32_t table;   /* 0: main; LOOM_TABLE_ANY: all */
	int oif;          /* 0: any */
	uint8_t protocol; /* 0: any */
};
#define LOOM_TABLE_ANY UINT32_MAX
/* List routes (cache clones excluded) as loom_addr_list() does. */
int loom_route_list(struct loom_nl *nl, const struct loom_route_filter *f,
		    struct loom_nl_route **out);

/* ---- neighbours and FDB ---- */

/* A permanent ARP/NDP entry ip -> mac on ifindex; an existing one is
 * replaced.  del: -ENOENT when missing, or 0 with missing_ok. */
int loom_neigh_add(struct loom_nl *nl, int ifindex, const struct loom_ip *ip,
		   const uint8_t mac[LOOM_MAC_LEN]);
int loom_neigh_del(struct loom_nl *nl, int ifindex, const struct loom_ip *ip, bool missing_ok);

/* A static bridge FDB entry mac on ifindex.  For a vxlan device (SELF,
 * the default) dst is the remote VTEP (may be NULL); for a bridge port
 * pass LOOM_FDB_MASTER to program the bridge's table instead.  With
 * LOOM_FDB_APPEND the entry is added alongside others for the same mac
 * (vxlan flooding to several VTEPs with the all-zero mac); otherwise an
 * existing one is replaced.  del: -ENOENT for an unknown mac (0 with
 * missing_ok); the kernel's vxlan says 0 for an unknown dst of a known mac. */
#define LOOM_FDB_MASTER 0x1u
#define LOOM_FDB_APPEND 0x2u
int loom_fdb_add(struct loom_nl *nl, int ifindex, const uint8_t mac[LOOM_MAC_LEN],
		 const struct loom_ip *dst, unsigned flags);
int loom_fdb_del(struct loom_nl *nl, int ifindex, const uint8_t mac[LOOM_MAC_LEN],
		 const struct loom_ip *dst, unsigned flags, bool missing_ok);

/* ---- sysctl (the calling thread's netns) ----
 *
 * key is relative to /proc/sys: "net/ipv4/ip_forward",
 * "net/ipv6/conf/eth0/accept_dad".  Run these inside loom_netns_run() for
 * a pod: /proc/sys/net resolves against the thread's netns at open time. */
int loom_sysctl_write(const char *key, const char *value);
/* Reads the value without the trailing newline; -ENOBUFS if it does not fit. */
int loom_sysctl_read(const char *key, char *buf, size_t len);
/* "net/ipv{4,6}/conf/IFNAME/KEY" for family AF_INET or AF_INET6. */
int loom_sysctl_write_if(int family, const char *ifname, const char *key, const char *value);

/* ---- neighbour and FDB dumps (nl_neigh.c) ---- */

struct loom_neigh {
	int ifindex;
	struct loom_ip ip;
	uint8_t mac[LOOM_MAC_LEN];
	bool has_mac;
	uint16_t state; /* NUD_* */
	uint8_t flags;  /* NTF_* */
};
/* The ARP/NDP entries of ifindex (0: every link), family AF_INET, AF_INET6
 * or AF_UNSPEC, as loom_addr_list(): a malloc()ed array, the count. */
int loom_neigh_list(struct loom_nl *nl, int ifindex, int family, struct loom_neigh **out);

struct loom_fdb {
	int ifindex;
	uint8_t mac[LOOM_MAC_LEN];
	struct loom_ip dst; /* family 0: none (a bridge port entry) */
	uint16_t state;     /* NUD_* */
	uint8_t flags;      /* NTF_SELF, NTF_MASTER, ... */
};
/* The FDB entries the device ifindex holds in its own table (NTF_SELF: a
 * vxlan device's remote VTEPs), as loom_neigh_list(). */
int loom_fdb_list(struct loom_nl *nl, int ifindex, struct loom_fdb **out);

/* ---- vxlan (nl_vxlan.c) ---- */

/* The parameters the kernel fixes at creation: a vxlan device whose vni,
 * local address, port or learning differ must be deleted and created again
 * (changelink refuses most of them, and the rest change the wire). */
struct loom_vxlan_params {
	uint32_t vni;         /* 1..2^24-1 */
	struct loom_ip local; /* the underlay source address */
	uint16_t port;        /* UDP destination port, host order */
	bool learning;
};
struct loom_vxlan_req {
	const char *name;
	struct loom_vxlan_params p;
	int link;           /* underlay ifindex, 0: none */
	uint32_t mtu;       /* 0: kernel default */
	const uint8_t *mac; /* NULL: random */
	bool up;
};
/* Create it in one request.  -EEXIST when the name (or, in the kernel's
 * words, the vni/port pair) is taken. */
int loom_vxlan_create(struct loom_nl *nl, const struct loom_vxlan_req *req);
/* Read an existing link and, when it is a vxlan device, its parameters.
 * -ENODEV missing; -EMEDIUMTYPE: the link exists (*link filled) but is not
 * vxlan. */
int loom_vxlan_get(struct loom_nl *nl, const char *name, struct loom_link *link,
		   struct loom_vxlan_params *out);

#endif
