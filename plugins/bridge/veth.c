/* The pod's veth pair: created in one request with the pod end born in the
 * pod's netns, the host end enslaved and up.  EEXIST is the only slow path:
 * it is either our own leftover (a crashed ADD of this attachment), a name
 * collision with someone else's link, or a pod interface that really is
 * taken. */
#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int fail_nl(struct loom_err *err, struct loom_nl *nl, int r, const char *what,
		   const char *name)
{
	const char *kmsg = loom_nl_last_msg(nl);

	loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot %s %s%s%s", what, name,
		       kmsg && kmsg[0] ? ": " : "", kmsg ? kmsg : "");
	return -1;
}

/* The host link `h` and the pod link `p` are the two ends of one pair. */
static bool paired(const struct loom_link *h, const struct loom_link *p)
{
	return strcmp(h->kind, "veth") == 0 && strcmp(p->kind, "veth") == 0 &&
	       h->link == p->ifindex && p->link == h->ifindex;
}

/* Is the host end of the pod's existing interface one of the names this
 * attachment derives?  Then it is our leftover: delete it (which deletes
 * the pod end too).  1 when deleted, 0 when not ours, -errno. */
static int drop_leftover(struct loom_nl *host, const struct loom_link *pl,
			 const struct loom_br_veth_req *req)
{
	struct loom_link hl;
	char name[IFNAMSIZ];
	unsigned salt;
	int r;

	if (pl->link <= 0 || strcmp(pl->kind, "veth") != 0)
		return 0;
	r = loom_link_get_index(host, pl->link, &hl);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	if (!paired(&hl, pl))
		return 0;
	for (salt = 0; salt < LOOM_BR_NAME_SALTS; salt++) {
		loom_br_host_veth_name_pfx(req->name_prefix, req->container_id, req->ifname, salt,
					   name);
		if (strcmp(name, hl.name) == 0) {
			r = loom_link_del(host, hl.ifindex, true);
			return r < 0 ? r : 1;
		}
	}
	return 0;
}

int loom_br_veth_create(struct loom_nl *host, struct loom_nl *pod,
			const struct loom_br_veth_req *req, struct loom_link *out,
			struct loom_err *err)
{
	struct loom_veth_req vr = {
		.peer_name = req->ifname,
		.peer_netns_fd = req->netns_fd,
		.mtu = req->mtu,
		.peer_mac = req->peer_mac,
		.master = req->master,
		.up = true,
	};
	char name[IFNAMSIZ];
	unsigned salt = 0;
	int tries, r;

	/* Each round either succeeds, removes one leftover or moves to the next
	 * salt; a concurrent creator of the same names can cost a round more. */
	for (tries = 0; tries < 2 * LOOM_BR_NAME_SALTS + 2 && salt < LOOM_BR_NAME_SALTS; tries++) {
		struct loom_link hl, pl;
		bool pod_has, host_has;

		loom_br_host_veth_name_pfx(req->name_prefix, req->container_id, req->ifname, salt,
					   name);
		vr.name = name;
		r = loom_veth_create(host, &vr, out);
		if (r == 0)
			return 0;
		if (r != -EEXIST)
			return fail_nl(err, host, r, "create the veth pair", name);

		r = loom_link_get(pod, req->ifname, &pl);
		if (r < 0 && r != -ENODEV)
			return fail_nl(err, pod, r, "look up in the pod's netns", req->ifname);
		pod_has = r == 0;
		r = loom_link_get(host, name, &hl);
		if (r < 0 && r != -ENODEV)
			return fail_nl(err, host, r, "look up", name);
		host_has = r == 0;

		if (pod_has) {
			if (req->state_dir &&
			    loom_br_record_any(req->state_dir, req->container_id, req->ifname))
				return loom_err_set(err, LOOM_ERR_INTERNAL,
						    "%s already exists in the pod's netns (CNI_NETNS): "
						    "container %s is attached on it already (DEL it first)",
						    req->ifname, req->container_id);
			r = drop_leftover(host, &pl, req);
			if (r < 0)
				return fail_nl(err, host, r, "delete the leftover veth of", req->ifname);
			if (r == 1)
				continue;
			return loom_err_set(err, LOOM_ERR_INTERNAL,
					    "%s already exists in the pod's netns (CNI_NETNS) and is not "
					    "a leftover of this attachment",
					    req->ifname);
		}
		/* Our name is someone else's link (its peer is not our pod
		 * interface, which does not exist): take the next name. */
		if (host_has)
			salt++;
	}
	return loom_err_set(err, LOOM_ERR_INTERNAL,
			    "cannot find a free host-side veth name for %s (tried %u, last %s)",
			    req->ifname, salt, name);
}

int loom_br_port_setup(struct loom_nl *host, const struct loom_br_conf *c,
		       const struct loom_link *port, struct loom_err *err)
{
	unsigned mask = 0, values = 0;
	int r;

	if (c->hairpin) {
		mask |= LOOM_BRPORT_HAIRPIN;
		values |= LOOM_BRPORT_HAIRPIN;
	}
	if (c->port_isolation) {
		mask |= LOOM_BRPORT_ISOLATED;
		values |= LOOM_BRPORT_ISOLATED;
	}
	if (loom_br_vlan_setup(c, port, err) < 0)
		return -1;
	/* A new port starts with both off: nothing to send otherwise. */
	if (!mask)
		return 0;
	r = loom_bridge_port_set(host, port->ifindex, mask, values);
	if (r < 0)
		return fail_nl(err, host, r,
			       c->hairpin && c->port_isolation ? "set hairpinMode and portIsolation on"
			       : c->hairpin			? "set hairpinMode on"
								: "set portIsolation on",
			       port->name);
	return 0;
}
