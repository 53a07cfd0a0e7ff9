/* Interface addresses. */
#include "nl_priv.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>

#include "base/cleanup.h"

static int addr_msg(int type, int flags, int ifindex, const struct loom_prefix *p,
		    uint32_t ifa_flags, struct nl_msg **out)
{
	struct ifaddrmsg ifa = {
		.ifa_family = p->ip.family,
		.ifa_prefixlen = p->len,
		.ifa_flags = (uint8_t)ifa_flags,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = (uint32_t)ifindex,
	};
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	int r = 0;

	if (ifindex <= 0 || (p->ip.family != AF_INET && p->ip.family != AF_INET6) ||
	    p->len > loom_ip_bits(&p->ip))
		return -EINVAL;
	m = loom_nlmsg_new(type, flags, &ifa, sizeof(ifa));
	if (!m)
		return -ENOMEM;
	/* IFA_LOCAL is the address; IFA_ADDRESS the peer on point-to-point
	 * links and the same address otherwise. */
	r |= loom_nla_put_ip(m, IFA_LOCAL, &p->ip);
	r |= loom_nla_put_ip(m, IFA_ADDRESS, &p->ip);
	if (type == RTM_NEWADDR && p->ip.family == AF_INET && p->len < 31) {
		struct loom_ip brd = loom_prefix_last(p);

		r |= loom_nla_put_ip(m, IFA_BROADCAST, &brd);
	}
	/* ifa_flags is 8 bits wide; newer flags only fit in IFA_FLAGS. */
	if (ifa_flags)
		r |= nla_put_u32(m, IFA_FLAGS, ifa_flags);
	if (r < 0)
		return -EMSGSIZE;
	*out = LOOM_TAKE_PTR(m);
	return 0;
}

int loom_addr_add(struct loom_nl *nl, int ifindex, const struct loom_prefix *p, unsigned flags)
{
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	uint32_t ifa_flags = 0;
	int r;

	if (!p)
		return -EINVAL;
	if ((flags & LOOM_ADDR_NODAD) && p->ip.family == AF_INET6)
		ifa_flags |= IFA_F_NODAD;
	r = addr_msg(RTM_NEWADDR,
		     NLM_F_CREATE | ((flags & LOOM_ADDR_REPLACE) ? NLM_F_REPLACE : NLM_F_EXCL),
		     ifindex, p, ifa_flags, &m);
	if (r < 0)
		return r;
	return loom_nl_talk(nl, m, NULL, NULL);
}

int loom_addr_del(struct loom_nl *nl, int ifindex, const struct loom_prefix *p)
{
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	int r;

	if (!p)
		return -EINVAL;
	r = addr_msg(RTM_DELADDR, 0, ifindex, p, 0, &m);
	if (r < 0)
		return r;
	return loom_nl_talk(nl, m, NULL, NULL);
}

struct addr_dump {
	struct loom_vec v;
	int ifindex;
	int family;
};

static const struct nla_policy addr_policy[IFA_MAX + 1] = {
	[IFA_FLAGS] = { .type = NLA_U32 },
};

static int parse_addr(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[IFA_MAX + 1], *a;
	struct addr_dump *d = arg;
	struct ifaddrmsg *ifa;
	struct loom_addr *out;
	struct loom_ip ip;

	if (h->nlmsg_type != RTM_NEWADDR ||
	    nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, addr_policy) < 0)
		return -EPROTO;
	ifa = nlmsg_data(h);
	/* Filtered by the kernel already when it has strict checking. */
	if ((d->ifindex && (int)ifa->ifa_index != d->ifindex) ||
	    (d->family != AF_UNSPEC && ifa->ifa_family != d->family))
		return 0;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a)
		return 0;
	if (loom_nla_get_ip(a, ifa->ifa_family, &ip) < 0 || ifa->ifa_prefixlen > loom_ip_bits(&ip))
		return -EPROTO;
	out = loom_vec_push(&d->v);
	if (!out)
		return -ENOMEM;
	out->ifindex = (int)ifa->ifa_index;
	out->prefix.ip = ip;
	out->prefix.len = ifa->ifa_prefixlen;
	out->scope = ifa->ifa_scope;
	out->flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	return 0;
}

int loom_addr_list(struct loom_nl *nl, int ifindex, int family, struct loom_addr **out)
{
	struct ifaddrmsg ifa = { .ifa_family = (uint8_t)family, .ifa_index = (uint32_t)ifindex };
	struct addr_dump d = { .v.elsize = sizeof(struct loom_addr),
			       .ifindex = ifindex,
			       .family = family };
	int r = -EINTR, tries;
	void *items;

	if (!out || ifindex < 0)
		return -EINVAL;
	*out = NULL;
	/* A dump interrupted by a concurrent change is complete but may be
	 * inconsistent: read it again. */
	for (tries = 0; tries < 3 && r == -EINTR; tries++) {
		_cleanup_nlmsg_ struct nl_msg *m =
			loom_nlmsg_new(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));

		if (!m)
			return -ENOMEM;
		d.v.n = 0;
		r = loom_nl_talk(nl, m, parse_addr, &d);
	}
	r = loom_vec_finish(&d.v, r, &items);
	if (r >= 0)
		*out = items;
	return r;
}
