/* The node's VXLAN device.  Verify before create: an existing loom.<vni>
 * whose wire parameters are right is kept as it is, so restarting loomd
 * never blips pods' traffic; one with wrong vni/local/port/learning is
 * recreated, because the kernel does not change those on a live device. */
#include "vtep.h"

#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

int loom_vtep_dev_name(uint32_t vni, char buf[IFNAMSIZ])
{
	if (vni < 1 || vni > 0xffffff)
		return -EINVAL;
	snprintf(buf, IFNAMSIZ, "loom.%u", vni);
	return 0;
}

void loom_vtep_mac(const char *node, uint8_t mac[LOOM_MAC_LEN])
{
	static const char salt[] = "loom-vtep:";
	uint64_t h = 0xcbf29ce484222325ull;
	const char *p;
	int i;

	for (p = salt; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	for (p = node; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	/* FNV's low bytes barely differ for names that differ in their last
	 * character ("node-1", "node-2"): mix every bit into every byte. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	for (i = 0; i < LOOM_MAC_LEN; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	/* Locally administered (bit 1), unicast (bit 0 clear). */
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

/* The link holding the underlay address, and its MTU. */
static int underlay(struct loom_nl *nl, const struct loom_ip *local, uint32_t *mtu)
{
	struct loom_addr *addrs = NULL;
	struct loom_link link;
	int n, i, ifindex = 0;

	n = loom_addr_list(nl, 0, local->family, &addrs);
	for (i = 0; i < n && !ifindex; i++)
		if (loom_ip_eq(&addrs[i].prefix.ip, local))
			ifindex = addrs[i].ifindex;
	free(addrs);
	if (ifindex && loom_link_get_index(nl, ifindex, &link) == 0 && !*mtu)
		*mtu = link.mtu;
	return ifindex;
}

static bool params_match(const struct loom_vxlan_params *have, const struct loom_vxlan_params *want)
{
	return have->vni == want->vni && have->port == want->port && !have->learning &&
	       loom_ip_eq(&have->local, &want->local);
}

static int nl_fail(struct loom_err *err, struct loom_nl *nl, int r, const char *what,
		   const char *dev)
{
	const char *m = loom_nl_last_msg(nl);

	return loom_err_set(err, LOOM_ERR_INTERNAL, "%s %s: %s%s%s", what, dev, strerror(-r),
			    m[0] ? ": " : "", m);
}

/* Exactly one IPv4 address, the gateway /32. */
static int ensure_addr(struct loom_nl *nl, int ifindex, const char *dev, const struct loom_ip *gw,
		       struct loom_err *err)
{
	struct loom_prefix want = { .ip = *gw, .len = 32 };
	struct loom_addr *addrs = NULL;
	bool have = false;
	char buf[LOOM_PREFIX_STRLEN];
	int n, i, r = 0;

	n = loom_addr_list(nl, ifindex, AF_INET, &addrs);
	if (n < 0)
		return nl_fail(err, nl, n, "cannot list the addresses of", dev);
	for (i = 0; i < n && r == 0; i++) {
		if (addrs[i].prefix.len == 32 && loom_ip_eq(&addrs[i].prefix.ip, gw)) {
			have = true;
			continue;
		}
		loomd_log("removing %s from %s: not this node's block",
			  loom_prefix_fmt(&addrs[i].prefix, buf), dev);
		r = loom_addr_del(nl, ifindex, &addrs[i].prefix);
		if (r == -EADDRNOTAVAIL)
			r = 0;
	}
	free(addrs);
	if (r < 0)
		return nl_fail(err, nl, r, "cannot remove an address from", dev);
	if (have)
		return 0;
	r = loom_addr_add(nl, ifindex, &want, LOOM_ADDR_REPLACE);
	if (r < 0)
		return nl_fail(err, nl, r, "cannot add the gateway address to", dev);
	return 0;
}

int loom_vtep_ensure(struct loom_nl *nl, const struct loom_vtep_conf *c, bool *created,
		     struct loom_err *err)
{
	struct loom_vxlan_params want = { .vni = c->vni, .local = c->local, .port = c->port };
	struct loom_vxlan_params have;
	struct loom_link link;
	char dev[IFNAMSIZ], addr[LOOM_IP_STRLEN];
	uint32_t umtu = c->underlay_mtu, mtu;
	int r, link_ifindex;

	*created = false;
	if (loom_vtep_dev_name(c->vni, dev) < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "vni %u out of range", c->vni);
	link_ifindex = underlay(nl, &c->local, &umtu);
	if (!umtu)
		umtu = 1500;
	/* Outer Ethernet 14 + IP 20/40 + UDP 8 + VXLAN 8. */
	mtu = umtu - (c->local.family == AF_INET6 ? 70 : 50);

	r = loom_vxlan_get(nl, dev, &link, &have);
	if (r == -EMEDIUMTYPE)
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"a %s link named %s exists: loom does not take over other devices "
			"(delete it, or choose another vni)",
			link.kind[0] ? link.kind : "non-vxlan", dev);
	if (r == 0 && !params_match(&have, &want)) {
		loomd_log("%s has vni %u, local %s, port %u%s: recreating it", dev, have.vni,
			  loom_ip_fmt(&have.local, addr), have.port,
			  have.learning ? ", learning" : "");
		r = loom_link_del(nl, link.ifindex, true);
		if (r < 0)
			return nl_fail(err, nl, r, "cannot delete", dev);
		r = -ENODEV;
	}
	if (r == -ENODEV) {
		struct loom_vxlan_req req = {
			.name = dev,
			.p = want,
			.link = link_ifindex,
			.mtu = mtu,
			.mac = c->mac,
			.up = true,
		};

		r = loom_vxlan_create(nl, &req);
		if (r < 0)
			return nl_fail(err, nl, r, "cannot create vxlan", dev);
		r = loom_link_get(nl, dev, &link);
		*created = true;
	}
	if (r < 0)
		return nl_fail(err, nl, r, "cannot read", dev);
	if (link.mtu != mtu || memcmp(link.mac, c->mac, LOOM_MAC_LEN) != 0 ||
	    !(link.flags & IFF_UP)) {
		struct loom_link_change ch = { .set = LOOM_LINK_SET_MTU | LOOM_LINK_SET_MAC |
						      LOOM_LINK_SET_UP,
					       .mtu = mtu,
					       .up = true };

		memcpy(ch.mac, c->mac, LOOM_MAC_LEN);
		r = loom_link_change(nl, link.ifindex, &ch);
		if (r < 0)
			return nl_fail(err, nl, r, "cannot set mtu/mac/up on", dev);
	}
	if (ensure_addr(nl, link.ifindex, dev, &c->gw, err) < 0)
		return -1;
	return link.ifindex;
}
