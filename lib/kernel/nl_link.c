/* Links: look up, change, delete; bridges, bridge ports and veth pairs.
 *
 * Creation requests carry everything the kernel accepts at creation time
 * (MTU, MAC, master, IFF_UP, the peer's netns) so that a pod's veth costs
 * one round trip.  What it does not accept there (bridge port flags) is a
 * second request. */
#include "nl_priv.h"

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

static const struct nla_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
	[IFLA_MTU] = { .type = NLA_U32 },
	[IFLA_MASTER] = { .type = NLA_U32 },
	[IFLA_LINK] = { .type = NLA_U32 },
	[IFLA_LINKINFO] = { .type = NLA_NESTED },
};

const struct nla_policy loom_nl_linkinfo_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = { .type = NLA_STRING },
	[IFLA_INFO_DATA] = { .type = NLA_NESTED },
	[IFLA_INFO_SLAVE_KIND] = { .type = NLA_STRING },
	[IFLA_INFO_SLAVE_DATA] = { .type = NLA_NESTED },
};

static const struct nla_policy brport_policy[IFLA_BRPORT_MAX + 1] = {
	[IFLA_BRPORT_MODE] = { .type = NLA_U8 },
	[IFLA_BRPORT_ISOLATED] = { .type = NLA_U8 },
	[IFLA_BRPORT_LEARNING] = { .type = NLA_U8 },
	[IFLA_BRPORT_UNICAST_FLOOD] = { .type = NLA_U8 },
};

static const struct {
	int attr;
	unsigned flag;
} brport_flags[] = {
	{ IFLA_BRPORT_MODE, LOOM_BRPORT_HAIRPIN },
	{ IFLA_BRPORT_ISOLATED, LOOM_BRPORT_ISOLATED },
	{ IFLA_BRPORT_LEARNING, LOOM_BRPORT_LEARNING },
	{ IFLA_BRPORT_UNICAST_FLOOD, LOOM_BRPORT_FLOOD },
};

static int parse_linkinfo(struct nlattr *info, struct loom_link *l)
{
	struct nlattr *ti[IFLA_INFO_MAX + 1], *tp[IFLA_BRPORT_MAX + 1];
	size_t i;

	if (nla_parse_nested(ti, IFLA_INFO_MAX, info, loom_nl_linkinfo_policy) < 0)
		return -EPROTO;
	if (ti[IFLA_INFO_KIND])
		nla_strlcpy(l->kind, ti[IFLA_INFO_KIND], sizeof(l->kind));
	if (!ti[IFLA_INFO_SLAVE_KIND] ||
	    strcmp(nla_get_string(ti[IFLA_INFO_SLAVE_KIND]), "bridge") != 0)
		return 0;
	l->is_bridge_port = true;
	if (!ti[IFLA_INFO_SLAVE_DATA])
		return 0;
	if (nla_parse_nested(tp, IFLA_BRPORT_MAX, ti[IFLA_INFO_SLAVE_DATA], brport_policy) < 0)
		return -EPROTO;
	for (i = 0; i < sizeof(brport_flags) / sizeof(brport_flags[0]); i++)
		if (tp[brport_flags[i].attr] && nla_get_u8(tp[brport_flags[i].attr]))
			l->brport_flags |= brport_flags[i].flag;
	return 0;
}

static int parse_link(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[IFLA_MAX + 1];
	struct loom_link *l = arg;
	struct ifinfomsg *ifi;

	if (h->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, link_policy) < 0)
		return -EPROTO;
	ifi = nlmsg_data(h);
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		nla_strlcpy(l->name, tb[IFLA_IFNAME], sizeof(l->name));
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == LOOM_MAC_LEN) {
		memcpy(l->mac, nla_data(tb[IFLA_ADDRESS]), LOOM_MAC_LEN);
		l->mac_len = LOOM_MAC_LEN;
	}
	if (tb[IFLA_MTU])
		l->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		l->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINK])
		l->link = (int)nla_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINKINFO])
		return parse_linkinfo(tb[IFLA_LINKINFO], l);
	return 0;
}

static int link_get(struct loom_nl *nl, int ifindex, const char *name, struct loom_link *out)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	struct loom_link tmp;
	int r = 0;

	m = loom_nlmsg_new(RTM_GETLINK, 0, &ifi, sizeof(ifi));
	if (!m)
		return -ENOMEM;
	if (name)
		r |= nla_put_string(m, IFLA_IFNAME, name);
	/* Counters are a third of the answer and nobody here reads them. */
	r |= nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (r < 0)
		return -EMSGSIZE;
	return loom_nl_talk(nl, m, parse_link, out ? out : &tmp);
}

int loom_link_get(struct loom_nl *nl, const char *name, struct loom_link *out)
{
	if (loom_nl_check_name(name) < 0)
		return -EINVAL;
	return link_get(nl, 0, name, out);
}

int loom_link_get_index(struct loom_nl *nl, int ifindex, struct loom_link *out)
{
	if (ifindex <= 0)
		return -EINVAL;
	return link_get(nl, ifindex, NULL, out);
}

int loom_link_change(struct loom_nl *nl, int ifindex, const struct loom_link_change *c)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	int r = 0;

	if (ifindex <= 0 || !c)
		return -EINVAL;
	if ((c->set & LOOM_LINK_SET_NAME) && loom_nl_check_name(c->name) < 0)
		return -EINVAL;
	if (c->set & LOOM_LINK_SET_UP) {
		ifi.ifi_change |= IFF_UP;
		ifi.ifi_flags |= c->up ? IFF_UP : 0;
	}
	if (c->set & LOOM_LINK_SET_PROMISC) {
		ifi.ifi_change |= IFF_PROMISC;
		ifi.ifi_flags |= c->promisc ? IFF_PROMISC : 0;
	}
	m = loom_nlmsg_new(RTM_SETLINK, 0, &ifi, sizeof(ifi));
	if (!m)
		return -ENOMEM;
	if (c->set & LOOM_LINK_SET_MTU)
		r |= nla_put_u32(m, IFLA_MTU, c->mtu);
	if (c->set & LOOM_LINK_SET_MAC)
		r |= nla_put(m, IFLA_ADDRESS, LOOM_MAC_LEN, c->mac);
	if (c->set & LOOM_LINK_SET_MASTER)
		r |= nla_put_u32(m, IFLA_MASTER, (uint32_t)c->master);
	if (c->set & LOOM_LINK_SET_NAME)
		r |= nla_put_string(m, IFLA_IFNAME, c->name);
	if (r < 0)
		return -EMSGSIZE;
	return loom_nl_talk(nl, m, NULL, NULL);
}

int loom_link_set_up(struct loom_nl *nl, int ifindex, bool up)
{
	struct loom_link_change c = { .set = LOOM_LINK_SET_UP, .up = up };

	return loom_link_change(nl, ifindex, &c);
}

int loom_link_set_mtu(struct loom_nl *nl, int ifindex, uint32_t mtu)
{
	struct loom_link_change c = { .set = LOOM_LINK_SET_MTU, .mtu = mtu };

	return loom_link_change(nl, ifindex, &c);
}

int loom_link_set_mac(struct loom_nl *nl, int ifindex, const uint8_t mac[LOOM_MAC_LEN])
{
	struct loom_link_change c = { .set = LOOM_LINK_SET_MAC };

	memcpy(c.mac, mac, LOOM_MAC_LEN);
	return loom_link_change(nl, ifindex, &c);
}

int loom_link_set_master(struct loom_nl *nl, int ifindex, int master_ifindex)
{
	struct loom_link_change c = { .set = LOOM_LINK_SET_MASTER, .master = master_ifindex };

	return loom_link_change(nl, ifindex, &c);
}

int loom_link_set_promisc(struct loom_nl *nl, int ifindex, bool on)
{
	struct loom_link_change c = { .set = LOOM_LINK_SET_PROMISC, .promisc = on };

	return loom_link_change(nl, ifindex, &c);
}

int loom_link_rename(struct loom_nl *nl, int ifindex, const char *name)
{
	struct loom_link_change c = { .set = LOOM_LINK_SET_NAME, .name = name };

	return loom_link_change(nl, ifindex, &c);
}

static int link_del(struct loom_nl *nl, int ifindex, const char *name, bool missing_ok)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	int r;

	m = loom_nlmsg_new(RTM_DELLINK, 0, &ifi, sizeof(ifi));
	if (!m)
		return -ENOMEM;
	if (name && nla_put_string(m, IFLA_IFNAME, name) < 0)
		return -EMSGSIZE;
	r = loom_nl_talk(nl, m, NULL, NULL);
	if (r == -ENODEV && missing_ok)
		return 0;
	return r;
}

int loom_link_del(struct loom_nl *nl, int ifindex, bool missing_ok)
{
	if (ifindex <= 0)
		return -EINVAL;
	return link_del(nl, ifindex, NULL, missing_ok);
}

int loom_link_del_name(struct loom_nl *nl, const char *name, bool missing_ok)
{
	if (loom_nl_check_name(name) < 0)
		return -EINVAL;
	return link_del(nl, 0, name, missing_ok);
}

static int bridge_create(struct loom_nl *nl, const char *name, const struct loom_bridge_conf *conf)
{
	/* Up in the same request: a bridge nobody brought up is no use. */
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	struct nlattr *info, *data;
	int r = 0;

	m = loom_nlmsg_newlink(true);
	if (!m)
		return -ENOMEM;
	r |= nla_put_string(m, IFLA_IFNAME, name);
	if (conf && conf->mtu)
		r |= nla_put_u32(m, IFLA_MTU, conf->mtu);
	info = nla_nest_start(m, IFLA_LINKINFO);
	if (r < 0 || !info)
		return -EMSGSIZE;
	r |= nla_put_string(m, IFLA_INFO_KIND, "bridge");
	if (conf && conf->vlan_filtering) {
		data = nla_nest_start(m, IFLA_INFO_DATA);
		if (!data)
			return -EMSGSIZE;
		r |= nla_put_u8(m, IFLA_BR_VLAN_FILTERING, 1);
		nla_nest_end(m, data);
	}
	nla_nest_end(m, info);
	if (r < 0)
		return -EMSGSIZE;
	return loom_nl_talk(nl, m, NULL, NULL);
}

int loom_bridge_ensure(struct loom_nl *nl, const char *name, const struct loom_bridge_conf *conf,
		       struct loom_link *out)
{
	struct loom_link l;
	int r, tries;

	if (loom_nl_check_name(name) < 0)
		return -EINVAL;
	/* Get first: the bridge almost always exists already, and a get is
	 * cheaper than a create that fails.  Between two creators one gets
	 * EEXIST and must look again; a bridge deleted between our create and
	 * our look is a third try, then we give up. */
	for (tries = 0; tries < 3; tries++) {
		r = loom_link_get(nl, name, &l);
		if (r == -ENODEV) {
			r = bridge_create(nl, name, conf);
			if (r == -EEXIST)
				continue;
			if (r < 0)
				return r;
			r = loom_link_get(nl, name, &l);
			if (r == -ENODEV)
				continue;
		}
		if (r < 0)
			return r;
		if (strcmp(l.kind, "bridge") != 0)
			return -EEXIST;
		if (!(l.flags & IFF_UP)) {
			r = loom_link_set_up(nl, l.ifindex, true);
			if (r < 0)
				return r;
			l.flags |= IFF_UP;
		}
		if (out)
			*out = l;
		return 0;
	}
	return -EAGAIN;
}

int loom_bridge_port_set(struct loom_nl *nl, int ifindex, unsigned mask, unsigned values)
{
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	struct nlattr *prot;
	size_t i;
	int r = 0;

	if (ifindex <= 0)
		return -EINVAL;
	m = loom_nlmsg_new(RTM_SETLINK, 0, &ifi, sizeof(ifi));
	if (!m)
		return -ENOMEM;
	/* The bridge reads IFLA_PROTINFO as port attributes only when it is
	 * flagged nested; unflagged it is the old single-byte port state. */
	prot = nla_nest_start(m, IFLA_PROTINFO | NLA_F_NESTED);
	if (!prot)
		return -EMSGSIZE;
	for (i = 0; i < sizeof(brport_flags) / sizeof(brport_flags[0]); i++)
		if (mask & brport_flags[i].flag)
			r |= nla_put_u8(m, brport_flags[i].attr,
					(values & brport_flags[i].flag) ? 1 : 0);
	nla_nest_end(m, prot);
	if (r < 0)
		return -EMSGSIZE;
	return loom_nl_talk(nl, m, NULL, NULL);
}

/* The attributes both ends of a veth share. */
static int put_veth_end(struct nl_msg *m, const char *name, uint32_t mtu, const uint8_t *mac)
{
	int r = nla_put_string(m, IFLA_IFNAME, name);

	if (mtu)
		r |= nla_put_u32(m, IFLA_MTU, mtu);
	if (mac)
		r |= nla_put(m, IFLA_ADDRESS, LOOM_MAC_LEN, mac);
	return r;
}

int loom_veth_create(struct loom_nl *nl, const struct loom_veth_req *req, struct loom_link *out)
{
	struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	struct nlattr *info, *data, *pa;
	int r = 0;

	if (!req || loom_nl_check_name(req->name) < 0 || loom_nl_check_name(req->peer_name) < 0)
		return -EINVAL;
	m = loom_nlmsg_newlink(req->up);
	if (!m)
		return -ENOMEM;
	r |= put_veth_end(m, req->name, req->mtu, req->mac);
	if (req->master > 0)
		r |= nla_put_u32(m, IFLA_MASTER, (uint32_t)req->master);
	if (r < 0)
		return -EMSGSIZE;
	if (!(info = nla_nest_start(m, IFLA_LINKINFO)))
		return -EMSGSIZE;
	if (nla_put_string(m, IFLA_INFO_KIND, "veth") < 0 ||
	    !(data = nla_nest_start(m, IFLA_INFO_DATA)))
		return -EMSGSIZE;
	/* VETH_INFO_PEER holds a whole ifinfomsg, then the peer's attributes. */
	if (!(pa = nla_nest_start(m, VETH_INFO_PEER)))
		return -EMSGSIZE;
	if (nlmsg_append(m, &peer, sizeof(peer), NLMSG_ALIGNTO) < 0)
		return -EMSGSIZE;
	r |= put_veth_end(m, req->peer_name, req->mtu, req->peer_mac);
	if (req->peer_netns_fd >= 0)
		r |= nla_put_u32(m, IFLA_NET_NS_FD, (uint32_t)req->peer_netns_fd);
	if (r < 0)
		return -EMSGSIZE;
	nla_nest_end(m, pa);
	nla_nest_end(m, data);
	nla_nest_end(m, info);

	r = loom_nl_talk(nl, m, NULL, NULL);
	if (r < 0 || !out)
		return r;
	return loom_link_get(nl, req->name, out);
}
