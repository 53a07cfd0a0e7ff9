/* Neighbour (ARP/NDP) entries and bridge FDB entries: both are RTM_*NEIGH,
 * the FDB in the AF_BRIDGE family. */
#include "nl_priv.h"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

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
