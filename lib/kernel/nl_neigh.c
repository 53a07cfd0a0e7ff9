/* Neighbour (ARP/NDP) entries and bridge FDB entries: both are RTM_*NEIGH,
 * the FDB in the AF_BRIDGE family. */
#include "nl_priv.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>

static int neigh_talk(struct loom_nl *nl, int type, int flags, const struct ndmsg *ndm,
		      const struct loom_ip *dst, const uint8_t *mac)
{
	_cleanup_nlmsg_ struct nl_msg *m = NULL;
	int r = 0;

	m = loom_nlmsg_new(type, flags, ndm, sizeof(*ndm));
	if (!m)
		return -ENOMEM;
	if (dst)
		r |= loom_nla_put_ip(m, NDA_DST, dst);
	if (mac)
		r |= nla_put(m, NDA_LLADDR, LOOM_MAC_LEN, mac);
	if (r < 0)
		return -EMSGSIZE;
	return loom_nl_talk(nl, m, NULL, NULL);
}

static bool ip_ok(const struct loom_ip *ip)
{
	return ip && (ip->family == AF_INET || ip->family == AF_INET6);
}

int loom_neigh_add(struct loom_nl *nl, int ifindex, const struct loom_ip *ip,
		   const uint8_t mac[LOOM_MAC_LEN])
{
	struct ndmsg ndm = { .ndm_ifindex = ifindex, .ndm_state = NUD_PERMANENT };

	if (ifindex <= 0 || !ip_ok(ip) || !mac)
		return -EINVAL;
	ndm.ndm_family = ip->family;
	return neigh_talk(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &ndm, ip, mac);
}

int loom_neigh_del(struct loom_nl *nl, int ifindex, const struct loom_ip *ip, bool missing_ok)
{
	struct ndmsg ndm = { .ndm_ifindex = ifindex };
	int r;

	if (ifindex <= 0 || !ip_ok(ip))
		return -EINVAL;
	ndm.ndm_family = ip->family;
	r = neigh_talk(nl, RTM_DELNEIGH, 0, &ndm, ip, NULL);
	return (r == -ENOENT && missing_ok) ? 0 : r;
}

/* A vxlan device keeps its own table (NTF_SELF) and accepts only permanent
 * or reachable entries.  In a bridge's table (NTF_MASTER) NUD_PERMANENT
 * means "this mac is the host itself"; a static entry towards a port is
 * NUD_NOARP alone. */
static void fdb_ndmsg(struct ndmsg *ndm, int ifindex, unsigned flags)
{
	memset(ndm, 0, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = ifindex;
	if (flags & LOOM_FDB_MASTER) {
		ndm->ndm_flags = NTF_MASTER;
		ndm->ndm_state = NUD_NOARP;
	} else {
		ndm->ndm_flags = NTF_SELF;
		ndm->ndm_state = NUD_PERMANENT | NUD_NOARP;
	}
}

int loom_fdb_add(struct loom_nl *nl, int ifindex, const uint8_t mac[LOOM_MAC_LEN],
		 const struct loom_ip *dst, unsigned flags)
{
	struct ndmsg ndm;

	if (ifindex <= 0 || !mac || (dst && !ip_ok(dst)))
		return -EINVAL;
	fdb_ndmsg(&ndm, ifindex, flags);
	return neigh_talk(nl, RTM_NEWNEIGH,
			  NLM_F_CREATE | ((flags & LOOM_FDB_APPEND) ? NLM_F_APPEND : NLM_F_REPLACE),
			  &ndm, dst, mac);
}

int loom_fdb_del(struct loom_nl *nl, int ifindex, const uint8_t mac[LOOM_MAC_LEN],
		 const struct loom_ip *dst, unsigned flags, bool missing_ok)
{
	struct ndmsg ndm;
	int r;

	if (ifindex <= 0 || !mac || (dst && !ip_ok(dst)))
		return -EINVAL;
	fdb_ndmsg(&ndm, ifindex, flags);
	r = neigh_talk(nl, RTM_DELNEIGH, 0, &ndm, dst, mac);
	return (r == -ENOENT && missing_ok) ? 0 : r;
}

/* ---- dumps ---- */

struct neigh_dump {
	struct loom_vec v;
	int ifindex;
	bool fdb;
};

static const struct nla_policy neigh_policy[NDA_MAX + 1] = {
	[NDA_DST] = { .type = NLA_UNSPEC },
	[NDA_LLADDR] = { .type = NLA_UNSPEC },
};

static int parse_neigh(struct nlmsghdr *h, void *arg)
{
	struct nlattr *tb[NDA_MAX + 1];
	struct neigh_dump *d = arg;
	struct ndmsg *ndm;
	const struct nlattr *mac;
	struct loom_ip dst = { 0 };

	if (h->nlmsg_type != RTM_NEWNEIGH ||
	    nlmsg_parse(h, sizeof(*ndm), tb, NDA_MAX, neigh_policy) < 0)
		return -EPROTO;
	ndm = nlmsg_data(h);
	if (d->ifindex && ndm->ndm_ifindex != d->ifindex)
		return 0;
	mac = tb[NDA_LLADDR] && nla_len(tb[NDA_LLADDR]) == LOOM_MAC_LEN ? tb[NDA_LLADDR] : NULL;
	if (tb[NDA_DST]) {
		/* An FDB entry's NDA_DST is the remote VTEP of either family. */
		int fam = nla_len(tb[NDA_DST]) == 4    ? AF_INET
			  : nla_len(tb[NDA_DST]) == 16 ? AF_INET6
						       : 0;

		if (!d->fdb)
			fam = ndm->ndm_family;
		if (loom_nla_get_ip(tb[NDA_DST], fam, &dst) < 0)
			return -EPROTO;
	}
	if (d->fdb) {
		struct loom_fdb *e;

		if (!mac || !(ndm->ndm_flags & NTF_SELF))
			return 0;
		e = loom_vec_push(&d->v);
		if (!e)
			return -ENOMEM;
		e->ifindex = ndm->ndm_ifindex;
		memcpy(e->mac, nla_data(mac), LOOM_MAC_LEN);
		e->dst = dst;
		e->state = ndm->ndm_state;
		e->flags = ndm->ndm_flags;
	} else {
		struct loom_neigh *e;

		if (!tb[NDA_DST])
			return 0;
		e = loom_vec_push(&d->v);
		if (!e)
			return -ENOMEM;
		e->ifindex = ndm->ndm_ifindex;
		e->ip = dst;
		if (mac) {
			memcpy(e->mac, nla_data(mac), LOOM_MAC_LEN);
			e->has_mac = true;
		}
		e->state = ndm->ndm_state;
		e->flags = ndm->ndm_flags;
	}
	return 0;
}

static int neigh_dump(struct loom_nl *nl, struct neigh_dump *d, int family, void **out)
{
	/* With strict checking the kernel filters by link itself: for
	 * AF_BRIDGE through ndm_ifindex (the port whose table is dumped), for
	 * neighbours through NDA_IFINDEX (it refuses a header ifindex). */
	struct ndmsg ndm = { .ndm_family = (uint8_t)family,
			     .ndm_ifindex = d->fdb ? d->ifindex : 0 };
	int r = -EINTR, tries;

	*out = NULL;
	/* A dump racing a change ends with EINTR: start it over. */
	for (tries = 0; tries < 3 && r == -EINTR; tries++) {
		_cleanup_nlmsg_ struct nl_msg *m =
			loom_nlmsg_new(RTM_GETNEIGH, NLM_F_DUMP, &ndm, sizeof(ndm));

		if (!m)
			return -ENOMEM;
		if (!d->fdb && d->ifindex && nla_put_u32(m, NDA_IFINDEX, (uint32_t)d->ifindex) < 0)
			return -EMSGSIZE;
		d->v.n = 0;
		r = loom_nl_talk(nl, m, parse_neigh, d);
	}
	return loom_vec_finish(&d->v, r, out);
}

int loom_neigh_list(struct loom_nl *nl, int ifindex, int family, struct loom_neigh **out)
{
	struct neigh_dump d = { .v.elsize = sizeof(struct loom_neigh), .ifindex = ifindex };

	if (!out || ifindex < 0 || (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC))
		return -EINVAL;
	return neigh_dump(nl, &d, family, (void **)out);
}

int loom_fdb_list(struct loom_nl *nl, int ifindex, struct loom_fdb **out)
{
	struct neigh_dump d = { .v.elsize = sizeof(struct loom_fdb),
				.ifindex = ifindex,
				.fdb = true };

	if (!out || ifindex <= 0)
		return -EINVAL;
	return neigh_dump(nl, &d, AF_BRIDGE, (void **)out);
}
