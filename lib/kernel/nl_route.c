/* Routes.  loom tags what it installs with LOOM_RTPROT so that listing and
 * removing can be limited to its own routes. */
#include "nl_priv.h"

#include <linux/rtnetlink.h>
#include <stdlib.h>

#include "base/cleanup.h"

static int route_msg(int type, int flags, const struct loom_nl_route *r, struct nl_msg **out)
{
	int family = r->dst.ip.family;
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;
	struct rtmsg rtm = {
		.rtm_family = (uint8_t)family,
		.rtm_dst_len = r->dst.len,
		.rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC,
		.rtm_protocol = r->protocol,
		.rtm_scope = r->scope,
		.rtm_type = r->type ? r->type : RTN_UNICAST,
		.rtm_flags = r->onlink ? RTNH_F_ONLINK : 0,
	};
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	struct nlattr *mx;
	int e = 0;

	if ((family != AF_INET && family != AF_INET6) || r->dst.len > loom_ip_bits(&r->dst.ip) ||
	    (r->gw.family && r->gw.family != family) ||
	    (r->prefsrc.family && r->prefsrc.family != family) || r->oif < 0)
		return -EINVAL;
	if (type == RTM_NEWROUTE) {
		if (!rtm.rtm_protocol)
			rtm.rtm_protocol = RTPROT_BOOT;
		/* As `ip route add`: a route with neither gateway nor scope is
		 * a connected one. */
		if (rtm.rtm_scope == RT_SCOPE_UNIVERSE && !r->gw.family && family == AF_INET &&
		    rtm.rtm_type == RTN_UNICAST)
			rtm.rtm_scope = RT_SCOPE_LINK;
	} else {
		/* Deleting matches on scope unless it is NOWHERE, and on type
		 * unless it is 0: match the route whatever they are. */
		rtm.rtm_scope = RT_SCOPE_NOWHERE;
		rtm.rtm_type = r->type;
	}
	m = loom_nlmsg_new(type, flags, &rtm, sizeof(rtm));
	if (!m)
		return -ENOMEM;
	if (r->dst.len) {
		struct loom_ip net = loom_prefix_first(&r->dst);

		e |= loom_nla_put_ip(m, RTA_DST, &net);
	}
	if (r->gw.family)
		e |= loom_nla_put_ip(m, RTA_GATEWAY, &r->gw);
	if (r->prefsrc.family)
		e |= loom_nla_put_ip(m, RTA_PREFSRC, &r->prefsrc);
	if (r->oif)
		e |= nla_put_u32(m, RTA_OIF, (uint32_t)r->oif);
	if (r->metric)
		e |= nla_put_u32(m, RTA_PRIORITY, r->metric);
	e |= nla_put_u32(m, RTA_TABLE, table);
	if (r->mtu && type == RTM_NEWROUTE) {
		mx = nla_nest_start(m, RTA_METRICS);
		if (!mx)
			return -EMSGSIZE;
		e |= nla_put_u32(m, RTAX_MTU, r->mtu);
		nla_nest_end(m, mx);
	}
	if (e < 0)
		return -EMSGSIZE;
	*out = LOOM_TAKE_PTR(m);
	return 0;
}

int loom_route_add(struct loom_nl *nl, const struct loom_nl_route *r, unsigned flags)
{
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	int e;

	if (!r)
		return -EINVAL;
	e = route_msg(RTM_NEWROUTE,
		      NLM_F_CREATE | ((flags & LOOM_ROUTE_REPLACE) ? NLM_F_REPLACE : NLM_F_EXCL), r,
		      &m);
	if (e < 0)
		return e;
	return loom_nl_talk(nl, m, NULL, NULL);
}

int loom_route_del(struct loom_nl *nl, const struct loom_nl_route *r, bool missing_ok)
{
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	int e;

	if (!r)
		return -EINVAL;
	e = route_msg(RTM_DELROUTE, 0, r, &m);
	if (e < 0)
		return e;
	e = loom_nl_talk(nl, m, NULL, NULL);
	/* IPv4 says ESRCH for a missing route, IPv6 ESRCH or ENOENT. */
	if (missing_ok && (e == -ESRCH || e == -ENOENT))
		return 0;
	return e;
}

struct route_dump {
	struct loom_vec v;
	struct loom_route_filter f;
};

static const struct nla_policy route_policy[RTA_MAX + 1] = {
	[RTA_OIF] = { .type = NLA_U32 },
	[RTA_PRIORITY] = { .type = NLA_U32 },
	[RTA_TABLE] = { .type = NLA_U32 },
	[RTA_METRICS] = { .type = NLA_NESTED },
};

static const struct nla_policy metrics_policy[RTAX_MAX + 1] = {
	[RTAX_MTU] = { .type = NLA_U32 },
};

static int parse_route(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[RTA_MAX + 1], *mx[RTAX_MAX + 1];
	struct route_dump *d = arg;
	struct loom_nl_route rt = { 0 };
	struct loom_nl_route *out;
	struct rtmsg *rtm;
	int family;

	if (h->nlmsg_type != RTM_NEWROUTE ||
	    nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, route_policy) < 0)
		return -EPROTO;
	rtm = nlmsg_data(h);
	family = rtm->rtm_family;
	if ((family != AF_INET && family != AF_INET6) || (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	rt.table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	rt.oif = tb[RTA_OIF] ? (int)nla_get_u32(tb[RTA_OIF]) : 0;
	if ((d->f.family != AF_UNSPEC && family != d->f.family) ||
	    (d->f.table != LOOM_TABLE_ANY && rt.table != d->f.table) ||
	    (d->f.oif && rt.oif != d->f.oif) ||
	    (d->f.protocol && rtm->rtm_protocol != d->f.protocol))
		return 0;
	rt.dst.ip.family = (uint8_t)family;
	rt.dst.len = rtm->rtm_dst_len;
	if (rt.dst.len > loom_ip_bits(&rt.dst.ip))
		return -EPROTO;
	if (tb[RTA_DST] && loom_nla_get_ip(tb[RTA_DST], family, &rt.dst.ip) < 0)
		return -EPROTO;
	if (tb[RTA_GATEWAY] && loom_nla_get_ip(tb[RTA_GATEWAY], family, &rt.gw) < 0)
		return -EPROTO;
	if (tb[RTA_PREFSRC] && loom_nla_get_ip(tb[RTA_PREFSRC], family, &rt.prefsrc) < 0)
		return -EPROTO;
	rt.protocol = rtm->rtm_protocol;
	rt.scope = rtm->rtm_scope;
	rt.type = rtm->rtm_type;
	rt.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
	rt.metric = tb[RTA_PRIORITY] ? nla_get_u32(tb[RTA_PRIORITY]) : 0;
	if (tb[RTA_METRICS]) {
		if (nla_parse_nested(mx, RTAX_MAX, tb[RTA_METRICS], metrics_policy) < 0)
			return -EPROTO;
		rt.mtu = mx[RTAX_MTU] ? nla_get_u32(mx[RTAX_MTU]) : 0;
	}
	out = loom_vec_push(&d->v);
	if (!out)
		return -ENOMEM;
	*out = rt;
	return 0;
}

int loom_route_list(struct loom_nl *nl, const struct loom_route_filter *f,
		    struct loom_nl_route **out)
{
	struct route_dump d = { .v.elsize = sizeof(struct loom_nl_route) };
	struct rtmsg rtm = { 0 };
	int r = -EINTR, tries;
	void *items;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (f)
		d.f = *f;
	if (!d.f.table)
		d.f.table = RT_TABLE_MAIN;
	rtm.rtm_family = (uint8_t)d.f.family;
	for (tries = 0; tries < 3 && r == -EINTR; tries++) {
		_cleanup_nlmsg_ struct nl_msg *m =
			loom_nlmsg_new(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));

		if (!m)
			return -ENOMEM;
		/* With strict checking the kernel skips other tables itself. */
		if (d.f.table != LOOM_TABLE_ANY && nla_put_u32(m, RTA_TABLE, d.f.table) < 0)
			return -EMSGSIZE;
		d.v.n = 0;
		r = loom_nl_talk(nl, m, parse_route, &d);
	}
	r = loom_vec_finish(&d.v, r, &items);
	if (r >= 0)
		*out = items;
	return r;
}
