/* The pod's veth pair: created in one request with the pod end born in the
 * pod's netns, the host end enslaved and up.  EEXIST is the only slow path:
 * it is either our own leftover (a crashed ADD of this attachment), a name
 * collision with someone else's link, or a pod interface that really is
 * taken.
 *
 * Host-side names: the reference picks random ones; loom derives the name
 * from the attachment so that an ADD retried after a crash finds the pair
 * its predecessor left (and DEL can name it without a record). */
#include "pod/pod.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* FNV-1a: stable across versions and machines, which is all that matters
 * here; collisions are handled by the salts, not prevented by the hash. */
static uint32_t fnv1a(uint32_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

void loom_pod_veth_name(const char *prefix, const char *container_id, const char *ifname,
			unsigned salt, char out[IFNAMSIZ])
{
	uint32_t h = 2166136261u;
	char tail[16];

	h = fnv1a(h, container_id ? container_id : "");
	h = fnv1a(h, "/");
	h = fnv1a(h, ifname ? ifname : "");
	if (salt) {
		snprintf(tail, sizeof(tail), "#%u", salt);
		h = fnv1a(h, tail);
	}
	snprintf(out, IFNAMSIZ, "%.6s%08x", prefix ? prefix : "veth", h);
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
			 const struct loom_pod_veth_req *req)
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
	for (salt = 0; salt < LOOM_POD_NAME_SALTS; salt++) {
		loom_pod_veth_name(req->name_prefix, req->container_id, req->ifname, salt, name);
		if (strcmp(name, hl.name) == 0) {
			r = loom_link_del(host, hl.ifindex, true);
			return r < 0 ? r : 1;
		}
	}
	return 0;
}

int loom_pod_veth_create(struct loom_nl *host, struct loom_nl *pod,
			 const struct loom_pod_veth_req *req, struct loom_link *out,
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
	for (tries = 0; tries < 2 * LOOM_POD_NAME_SALTS + 2 && salt < LOOM_POD_NAME_SALTS;
	     tries++) {
		struct loom_link hl, pl;
		bool pod_has, host_has;

		loom_pod_veth_name(req->name_prefix, req->container_id, req->ifname, salt, name);
		vr.name = name;
		r = loom_veth_create(host, &vr, out);
		if (r == 0)
			return 0;
		if (r != -EEXIST)
			return loom_pod_nl_err(err, host, r, "cannot create the veth pair %s",
					       name);

		r = loom_link_get(pod, req->ifname, &pl);
		if (r < 0 && r != -ENODEV)
			return loom_pod_nl_err(err, pod, r, "cannot look up in the pod's netns %s",
					       req->ifname);
		pod_has = r == 0;
		r = loom_link_get(host, name, &hl);
		if (r < 0 && r != -ENODEV)
			return loom_pod_nl_err(err, host, r, "cannot look up %s", name);
		host_has = r == 0;

		if (pod_has) {
			if (req->state_dir &&
			    loom_endpoint_record_any(req->state_dir, req->container_id,
						     req->ifname))
				return loom_err_set(
					err, LOOM_ERR_DUPLICATE,
					"%s already exists in the pod's netns (CNI_NETNS): "
					"container %s is attached on it already (DEL it first)",
					req->ifname, req->container_id);
			r = drop_leftover(host, &pl, req);
			if (r < 0)
				return loom_pod_nl_err(err, host, r,
						       "cannot delete the leftover veth of %s",
						       req->ifname);
			if (r == 1)
				continue;
			return loom_err_set(
				err, LOOM_ERR_INTERNAL,
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

int loom_pod_veth_del_derived(struct loom_nl *host, const struct loom_pod_topology *topo,
			      const char *container_id, const char *ifname, struct loom_err *err)
{
	struct loom_link br = { .ifindex = 0 }, l;
	char name[IFNAMSIZ];
	unsigned salt;
	int r;

	if (topo->bridge && loom_link_get(host, topo->bridge, &br) < 0)
		return 0;
	for (salt = 0; salt < LOOM_POD_NAME_SALTS; salt++) {
		loom_pod_veth_name(topo->veth_prefix, container_id, ifname, salt, name);
		r = loom_link_get(host, name, &l);
		if (r == -ENODEV)
			continue;
		if (r < 0)
			return loom_pod_nl_err(err, host, r, "cannot look up %s", name);
		if (strcmp(l.kind, "veth") != 0 || l.master != br.ifindex)
			continue;
		r = loom_link_del(host, l.ifindex, true);
		if (r < 0)
			return loom_pod_nl_err(err, host, r, "cannot delete %s", name);
	}
	return 0;
}
