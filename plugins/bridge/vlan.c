/* VLANs of a pod's bridge port (vlan, vlanTrunk, preserveDefaultVlan), as
 * the reference sets them: an access port gets its VLAN as PVID and
 * untagged, a trunk port each listed VLAN tagged, and the default VLAN 1
 * is removed unless preserveDefaultVlan.
 *
 * Bridge VLAN messages (AF_BRIDGE setlink/dellink with IFLA_AF_SPEC) are
 * not in lib/kernel/nl.h; they are only sent when a config asks for VLANs, on a
 * socket of their own in the calling thread's (the host's) netns.  A kernel
 * built without CONFIG_BRIDGE_VLAN_FILTERING answers EOPNOTSUPP, which
 * becomes an error naming the feature: a VLAN asked for and not applied
 * would be a pod on the wrong network. */
#include "bridge.h"

#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdio.h>

/* How many VLAN entries go in one message: far below the 64 KiB a netlink
 * message may hold (8 bytes each), so a full trunk is a handful of sends. */
#define VLANS_PER_MSG 512

static int send_vlans(struct nl_sock *sk, int type, int ifindex, const uint16_t *vids, size_t n,
		      uint16_t flags)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
	struct nl_msg *m = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK);
	struct nlattr *spec;
	size_t i;
	int r = 0;

	if (!m)
		return -ENOMEM;
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    !(spec = nla_nest_start(m, IFLA_AF_SPEC))) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	for (i = 0; i < n && r == 0; i++) {
		struct bridge_vlan_info vi = { .flags = flags, .vid = vids[i] };

		r = nla_put(m, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi);
	}
	nla_nest_end(m, spec);
	if (r < 0) {
		nlmsg_free(m);
		return -EMSGSIZE;
	}
	r = nl_send_auto(sk, m);
	nlmsg_free(m);
	if (r < 0)
		return -EIO;
	/* libnl maps the kernel's errno to its own codes; the ack's errno is
	 * what a person needs, so read it raw. */
	r = nl_wait_for_ack(sk);
	if (r == -NLE_OPNOTSUPP)
		return -EOPNOTSUPP;
	return r < 0 ? -EINVAL : 0;
}

static int apply(struct nl_sock *sk, const struct loom_br_conf *c, int ifindex)
{
	static const uint16_t default_vlan = 1;
	size_t i;
	int r;

	if (!c->preserve_default_vlan) {
		r = send_vlans(sk, RTM_DELLINK, ifindex, &default_vlan, 1, 0);
		if (r < 0)
			return r;
	}
	if (c->vlan) {
		uint16_t vid = (uint16_t)c->vlan;

		return send_vlans(sk, RTM_SETLINK, ifindex, &vid, 1,
				  BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
	}
	for (i = 0; i < c->n_trunk; i += VLANS_PER_MSG) {
		size_t n = c->n_trunk - i < VLANS_PER_MSG ? c->n_trunk - i : VLANS_PER_MSG;

		r = send_vlans(sk, RTM_SETLINK, ifindex, c->trunk + i, n, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int loom_br_vlan_setup(const struct loom_br_conf *c, const struct loom_link *port,
		       struct loom_err *err)
{
	const char *what = c->vlan ? "vlan" : "vlanTrunk";
	struct nl_sock *sk;
	int r;

	if (!c->vlan && !c->n_trunk)
		return 0;
	sk = nl_socket_alloc();
	if (!sk)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	r = nl_connect(sk, NETLINK_ROUTE) < 0 ? -EIO : apply(sk, c, port->ifindex);
	nl_socket_free(sk);
	if (r == -EOPNOTSUPP)
		return loom_err_set(err, LOOM_ERR_UNSUPPORTED_FIELD,
				    "%s: this kernel's bridge has no VLAN filtering "
				    "(CONFIG_BRIDGE_VLAN_FILTERING), which %s needs",
				    what, what);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "%s: cannot set the VLANs of %s",
				      what, port->name);
	return 0;
}
