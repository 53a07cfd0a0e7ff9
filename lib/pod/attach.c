/* ADD's shared steps: the sockets, IPAM beside the veth pair, antiSpoof,
 * the firewall elements, the endpoint record, and the undo of each.
 *
 * Each step that changes something pushes its undo before the next step
 * runs, so a failure anywhere unwinds to the state before the ADD.
 *
 * Cost: one netlink socket per netns (host, pod), no dumps on the common
 * path, no setns, no exec when IPAM is loom-ipam, and one thread: IPAM
 * (ipam_add) and antiSpoof's attach (loom_pod_antispoof) each cost
 * less than a thread overlapping them would. */
#include "pod/pod.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/bpf_antispoof.h"
#include "kernel/netns.h"

struct loom_pod_attach *loom_pod_attach_new(const struct loom_cni_ctx *ctx,
					    const struct loom_pod_conf *c)
{
	struct loom_pod_attach *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->ctx = ctx;
	a->conf = c;
	a->netns_fd = -1;
	loom_result_init(&a->ipam);
	loom_pod_undo_init(&a->undo);
	return a;
}

int loom_pod_attach_end(struct loom_pod_attach *a, int r, struct loom_err *err)
{
	if (r < 0)
		loom_pod_undo_run(&a->undo, err);
	loom_pod_undo_commit(&a->undo);
	loom_antispoof_close(a->as);
	loom_nl_close(a->pod);
	loom_nl_close(a->host);
	if (a->netns_fd >= 0)
		close(a->netns_fd);
	free(a);
	return r;
}

static int undo_ipam(void *arg, struct loom_err *why)
{
	struct loom_pod_attach *a = arg;

	return loom_ipam_client_del(a->conf->ipam, why);
}

static int undo_veth(void *arg, struct loom_err *why)
{
	struct loom_pod_attach *a = arg;
	int r = loom_link_del(a->host, a->veth.ifindex, true);

	if (r < 0)
		return loom_err_errno(why, LOOM_ERR_INTERNAL, -r, "cannot delete %s", a->veth.name);
	return 0;
}

static int undo_fw(void *arg, struct loom_err *why)
{
	struct loom_pod_attach *a = arg;

	return loom_fw_del(&a->fw, why);
}

/* The tc filter goes with the veth (its undo runs next); the map element
 * would outlive it. */
static int undo_antispoof(void *arg, struct loom_err *why)
{
	struct loom_pod_attach *a = arg;
	int r = loom_antispoof_forget(a->as, a->veth.ifindex);

	if (r < 0)
		return loom_err_errno(why, LOOM_ERR_INTERNAL, -r,
				      "cannot delete the antiSpoof map element of %s",
				      a->veth.name);
	return 0;
}

int loom_pod_open(struct loom_pod_attach *a, struct loom_err *err)
{
	const char *ns = a->ctx->env.netns;
	int r;

	if (!ns || !ns[0])
		return loom_err_set(err, LOOM_ERR_INVALID_ENV, "CNI_NETNS is required for ADD");
	a->netns_fd = loom_netns_open(ns);
	if (a->netns_fd < 0)
		return loom_err_errno(err, LOOM_ERR_INVALID_ENV, -a->netns_fd,
				      "CNI_NETNS: cannot open %s as a network namespace", ns);
	r = loom_nl_open(&a->host);
	if (r == 0)
		r = loom_nl_open_netns(a->netns_fd, &a->pod);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot open a netlink socket");
	return 0;
}

struct veth_step {
	struct loom_pod_attach *a;
	int master;
	int (*port)(struct loom_pod_attach *a, void *arg, struct loom_err *err);
	void *arg;
};

static int veth_setup(const struct veth_step *v, struct loom_err *err)
{
	struct loom_pod_attach *a = v->a;
	const struct loom_pod_conf *c = a->conf;
	struct loom_pod_veth_req req = {
		.container_id = a->ctx->env.container_id,
		.ifname = a->ctx->env.ifname,
		.netns_fd = a->netns_fd,
		.mtu = c->mtu,
		.peer_mac = a->mac,
		.master = v->master,
		.state_dir = c->state_dir,
		.name_prefix = c->topo->veth_prefix,
	};

	if (c->mac)
		memcpy(a->mac, c->mac, LOOM_MAC_LEN);
	else if (loom_mac_random(a->mac, err) < 0)
		return -1;
	loom_mac_fmt(a->mac, a->mac_str);
	if (loom_pod_veth_create(a->host, a->pod, &req, &a->veth, err) < 0)
		return -1;
	if (loom_pod_undo_push(&a->undo, undo_veth, a, "delete the veth pair", err) < 0) {
		undo_veth(a, NULL);
		return -1;
	}
	/* A routed pod's gateway neighbour names the host end's MAC. */
	if (!c->topo->bridge && (a->veth.link <= 0 || a->veth.mac_len != LOOM_MAC_LEN))
		return loom_err_set(err, LOOM_ERR_INTERNAL,
				    "%s: the kernel did not report its peer or its MAC",
				    a->veth.name);
	if (a->veth.link <= 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL,
				    "%s: the kernel did not report its peer", a->veth.name);
	return v->port ? v->port(a, v->arg, err) : 0;
}

/* IPAM's address, its undo pushed once it exists.  Before the veth, on
 * this thread: without fsync, loom-ipam's reservation is ~50 us here, less
 * than starting and joining a thread to overlap it with the veth (~80 us
 * wall, measured in bench/README.md), and a second runnable thread only
 * competes for the CPUs when pods start in parallel. */
static int ipam_add(struct loom_pod_attach *a, struct loom_err *err)
{
	const struct loom_pod_conf *c = a->conf;
	bool reclaimed;
	size_t i;

	if (loom_ipam_client_add_reclaim(c->ipam, c->state_dir, c->network, &a->ipam, &reclaimed,
					 err) < 0)
		return -1;
	if (loom_pod_undo_push(&a->undo, undo_ipam, a, "release the address", err) < 0) {
		undo_ipam(a, NULL);
		return -1;
	}
	if (a->ipam.n_ips == 0)
		return loom_err_set(err, LOOM_ERR_DELEGATE, "IPAM plugin %s returned no IP address",
				    c->ipam->type);
	for (i = 0; i < a->ipam.n_ips; i++)
		a->ips[i] = a->ipam.ips[i].address;
	/* An ADD of this attachment died after reserving its address: what
	 * else it made goes before ours is made, so that this ADD's record
	 * describes all there is.  Its veth pair first: antiSpoof's leftover
	 * element is found by its interface being gone. */
	if (reclaimed && (loom_pod_veth_del_derived(a->host, c->topo, a->ctx->env.container_id,
						    a->ctx->env.ifname, err) < 0 ||
			  loom_pod_del_orphans(a->ctx, c, err) < 0))
		return -1;
	return 0;
}

int loom_pod_ipam_and_veth(struct loom_pod_attach *a, int master,
			   int (*port)(struct loom_pod_attach *a, void *arg, struct loom_err *err),
			   void *arg, struct loom_err *err)
{
	const struct veth_step v = { .a = a, .master = master, .port = port, .arg = arg };

	if (a->conf->layer3 && ipam_add(a, err) < 0)
		return -1;
	return veth_setup(&v, err);
}

/* The pod's addresses and MAC into the node's pinned map, and the program
 * on the host end's ingress: from then on the pod can only send as itself.
 * A layer-2-only attachment has no addresses to hold it to.
 *
 * On this thread: attaching waits for an RCU grace period in the kernel
 * (the new clsact's first filter swaps its RCU-protected list), a sleep
 * that a second thread could overlap with the pod's configuration, but
 * measured while other work loaded the two CPUs the threaded ADD was the
 * slower one: the thread queues for a CPU like everything else, and the
 * join waits for it (bench/README.md). */
int loom_pod_antispoof(struct loom_pod_attach *a, struct loom_err *err)
{
	const struct loom_pod_conf *c = a->conf;
	struct loom_antispoof_pod p = {
		.ifindex = a->veth.ifindex,
		.n_ips = a->ipam.n_ips,
		.ips = a->ips,
	};

	if (!c->anti_spoof || !c->layer3)
		return 0;
	memcpy(p.mac, a->mac, sizeof(p.mac));
	if (loom_antispoof_open(c->bpf_pin_dir, &a->as, err) < 0 ||
	    loom_pod_undo_push(&a->undo, undo_antispoof, a, "remove the antiSpoof map element",
			       err) < 0 ||
	    loom_antispoof_set(a->as, &p, err) < 0 ||
	    loom_antispoof_attach(a->as, a->veth.ifindex, err) < 0)
		return -1;
	a->rec.antispoof_ifindex = a->veth.ifindex;
	snprintf(a->rec.antispoof_pin_dir, sizeof(a->rec.antispoof_pin_dir), "%s", c->bpf_pin_dir);
	return 0;
}

int loom_pod_firewall(struct loom_pod_attach *a, struct loom_err *err)
{
	const struct loom_pod_conf *c = a->conf;

	a->fw = (struct loom_fw_pod){
		.network = c->network,
		.container_id = a->ctx->env.container_id,
		.ifname = a->ctx->env.ifname,
		.host_veth = a->veth.name,
		.mac = a->mac_str,
		.n_ips = a->ipam.n_ips,
		.ips = a->ips,
		/* As the reference: masquerading needs addresses to act on. */
		.masq = c->ip_masq && c->layer3,
		.n_exempt = c->n_masq_exempt,
		.exempt = c->masq_exempt,
		.spoofchk = c->spoofchk,
	};
	if (!a->fw.masq && !a->fw.spoofchk)
		return 0;
	if (loom_fw_add(&a->fw, err) < 0)
		return -1;
	return loom_pod_undo_push(&a->undo, undo_fw, a, "remove the firewall elements", err);
}

int loom_pod_record(struct loom_pod_attach *a, const char *bridge, struct loom_err *err)
{
	const struct loom_cni_args *args = &a->ctx->args;
	const struct loom_pod_conf *c = a->conf;
	struct loom_endpoint_record *r = &a->rec;

	snprintf(r->network, sizeof(r->network), "%s", c->network);
	snprintf(r->container_id, sizeof(r->container_id), "%s", a->ctx->env.container_id);
	snprintf(r->ifname, sizeof(r->ifname), "%s", a->ctx->env.ifname);
	snprintf(r->host_veth, sizeof(r->host_veth), "%s", a->veth.name);
	snprintf(r->bridge, sizeof(r->bridge), "%s", bridge ? bridge : "");
	snprintf(r->mac, sizeof(r->mac), "%s", a->mac_str);
	snprintf(r->netns, sizeof(r->netns), "%s", a->ctx->env.netns);
	snprintf(r->pod_namespace, sizeof(r->pod_namespace), "%s",
		 args->k8s_pod_namespace ? args->k8s_pod_namespace : "");
	snprintf(r->pod_name, sizeof(r->pod_name), "%s",
		 args->k8s_pod_name ? args->k8s_pod_name : "");
	/* With the subnet's (the block's) length: a DEL without its lease
	 * file rebuilds the lease from them. */
	r->n_ips = a->ipam.n_ips;
	memcpy(r->ips, a->ips, sizeof(r->ips[0]) * r->n_ips);
	r->masq = a->fw.masq;
	r->spoofchk = a->fw.spoofchk;
	r->n_masq_exempt = r->masq ? c->n_masq_exempt : 0;
	memcpy(r->masq_exempt, c->masq_exempt, sizeof(r->masq_exempt[0]) * r->n_masq_exempt);
	return loom_endpoint_record_write(c->state_dir, r, err);
}
