/* VXLAN devices: create one in a single request, and read back the
 * parameters that decide whether an existing one can be kept.
 *
 * The kernel fixes vni, local address and port at creation (changelink
 * answers EOPNOTSUPP or silently keeps the old value depending on the
 * version), so callers compare these and recreate on a mismatch. */
#include "nl_priv.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

static bool params_ok(const struct loom_vxlan_params *p)
{
	return p->vni >= 1 && p->vni <= 0xffffff && p->port != 0 &&
	       (p->local.family == AF_INET || p->local.family == AF_INET6);
}

int loom_vxlan_create(struct loom_nl *nl, const struct loom_vxlan_req *req)
{
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	struct nlattr *info, *data;
	int r = 0;

	if (!req || loom_nl_check_name(req->name) < 0 || !params_ok(&req->p) || req->link < 0)
		return -EINVAL;
	m = loom_nlmsg_newlink(req->up);
	if (!m)
		return -ENOMEM;
	r |= nla_put_string(m, IFLA_IFNAME, req->name);
	if (req->mtu)
		r |= nla_put_u32(m, IFLA_MTU, req->mtu);
	if (req->mac)
		r |= nla_put(m, IFLA_ADDRESS, LOOM_MAC_LEN, req->mac);
	info = nla_nest_start(m, IFLA_LINKINFO);
	if (r < 0 || !info)
		return -EMSGSIZE;
	r |= nla_put_string(m, IFLA_INFO_KIND, "vxlan");
	data = nla_nest_start(m, IFLA_INFO_DATA);
	if (r < 0 || !data)
		return -EMSGSIZE;
	r |= nla_put_u32(m, IFLA_VXLAN_ID, req->p.vni);
	r |= loom_nla_put_ip(m,
			     req->p.local.family == AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6,
			     &req->p.local);
	/* The port travels in network byte order. */
	r |= nla_put_u16(m, IFLA_VXLAN_PORT, htons(req->p.port));
	r |= nla_put_u8(m, IFLA_VXLAN_LEARNING, req->p.learning ? 1 : 0);
	if (req->link)
		r |= nla_put_u32(m, IFLA_VXLAN_LINK, (uint32_t)req->link);
	nla_nest_end(m, data);
	nla_nest_end(m, info);
	if (r < 0)
		return -EMSGSIZE;
	return loom_nl_talk(nl, m, NULL, NULL);
}

struct vxlan_get {
	struct loom_link link;
	struct loom_vxlan_params p;
	bool is_vxlan;
};

static const struct nla_policy vxlan_policy[IFLA_VXLAN_MAX + 1] = {
	[IFLA_VXLAN_ID] = { .type = NLA_U32 },
	[IFLA_VXLAN_PORT] = { .type = NLA_U16 },
	[IFLA_VXLAN_LEARNING] = { .type = NLA_U8 },
};

static int parse_vxlan(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[IFLA_MAX + 1], *ti[IFLA_INFO_MAX + 1], *tv[IFLA_VXLAN_MAX + 1];
	struct vxlan_get *g = arg;

	if (h->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0)
		return -EPROTO;
	if (!tb[IFLA_LINKINFO] ||
	    nla_parse_nested(ti, IFLA_INFO_MAX, tb[IFLA_LINKINFO], loom_nl_linkinfo_policy) < 0)
		return 0;
	if (!ti[IFLA_INFO_KIND] || strcmp(nla_get_string(ti[IFLA_INFO_KIND]), "vxlan") != 0)
		return 0;
	g->is_vxlan = true;
	if (!ti[IFLA_INFO_DATA] ||
	    nla_parse_nested(tv, IFLA_VXLAN_MAX, ti[IFLA_INFO_DATA], vxlan_policy) < 0)
		return -EPROTO;
	if (tv[IFLA_VXLAN_ID])
		g->p.vni = nla_get_u32(tv[IFLA_VXLAN_ID]);
	if (tv[IFLA_VXLAN_PORT])
		g->p.port = ntohs(nla_get_u16(tv[IFLA_VXLAN_PORT]));
	if (tv[IFLA_VXLAN_LEARNING])
		g->p.learning = nla_get_u8(tv[IFLA_VXLAN_LEARNING]) != 0;
	if (tv[IFLA_VXLAN_LOCAL] && loom_nla_get_ip(tv[IFLA_VXLAN_LOCAL], AF_INET, &g->p.local) < 0)
		return -EPROTO;
	if (tv[IFLA_VXLAN_LOCAL6] &&
	    loom_nla_get_ip(tv[IFLA_VXLAN_LOCAL6], AF_INET6, &g->p.local) < 0)
		return -EPROTO;
	return 0;
}

int loom_vxlan_get(struct loom_nl *nl, const char *name, struct loom_link *link,
		   struct loom_vxlan_params *out)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	struct vxlan_get g = { 0 };
	int r;

	if (loom_nl_check_name(name) < 0)
		return -EINVAL;
	/* The common fields through the link module's parser, the vxlan data
	 * through a second look at the same kind of answer. */
	r = loom_link_get(nl, name, &g.link);
	if (r < 0)
		return r;
	if (link)
		*link = g.link;
	m = loom_nlmsg_new(RTM_GETLINK, 0, &ifi, sizeof(ifi));
	if (!m)
		return -ENOMEM;
	if (nla_put_string(m, IFLA_IFNAME, name) < 0 ||
	    nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
		return -EMSGSIZE;
	r = loom_nl_talk(nl, m, parse_vxlan, &g);
	if (r < 0)
		return r;
	if (!g.is_vxlan)
		return -EMEDIUMTYPE;
	if (out)
		*out = g.p;
	return 0;
}
