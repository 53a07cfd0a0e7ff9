/* ADD: bridge, IPAM, veth, anti-spoofing, pod addresses and routes,
 * gateway, port flags, firewall, endpoint record; then the result.
 *
 * Each step that changes something pushes its undo before the next step
 * runs, so a failure anywhere unwinds to the state before the ADD (the
 * bridge, its gateway address and forwarding stay: they are shared by every
 * pod of the network and were idempotent to make).
 *
 * Cost: one netlink socket per netns (host, pod), no dumps on the common
 * path, no setns, no exec when IPAM is loom-ipam.  IPAM (waiting on its
 * store's fsyncs, or on a delegate) runs on a second thread while this one
 * has the kernel build the veth pair: neither needs the other's answer. */
#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "kernel/bpf_antispoof.h"
#include "base/cleanup.h"
#include "firewall.h"
#include "kernel/netns.h"

/* The container interface's index in the result's interfaces. */
#define IFACE_BRIDGE 0
#define IFACE_HOST 1
#define IFACE_CONTAINER 2

struct add_job {
	struct loom_cni_ctx *ctx;
	struct loom_br_conf conf;
	struct loom_nl *host, *pod;
	int netns_fd;
	struct loom_link br, veth;
	uint8_t mac[LOOM_MAC_LEN];       /* the pod side's */
	char mac_str[LOOM_MAC_STRLEN];
	struct loom_result ipam;         /* IPAM's answer, then ours minus interfaces */
	struct loom_prefix ips[LOOM_RESULT_MAX_IPS];
	struct loom_fw_pod fw;
	struct loom_br_record rec;
	struct loom_antispoof *as;              /* antiSpoof's pinned program and maps */
	pthread_t as_thread;             /* attaching the tc filter */
	bool as_threaded;
	int as_rc;
	struct loom_err as_err;
	int ipam_rc;                     /* the IPAM thread's outcome */
	struct loom_err ipam_err;
};

static void job_free(struct add_job *j)
{
	if (!j)
		return;
	loom_antispoof_close(j->as);
	loom_nl_close(j->pod);
	loom_nl_close(j->host);
	if (j->netns_fd >= 0)
		close(j->netns_fd);
	free(j);
}

static int undo_ipam(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;

	return loom_br_ipam_del(j->ctx, &j->conf, why);
}

static int undo_veth(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;
	int r = loom_link_del(j->host, j->veth.ifindex, true);

	if (r < 0)
		return loom_err_errno(why, LOOM_ERR_INTERNAL, -r, "cannot delete %s", j->veth.name);
	return 0;
}

static int undo_fw(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;

	return loom_fw_del(&j->fw, why);
}

/* The tc filter goes with the veth (its undo runs next); the map element
 * would outlive it. */
static int undo_antispoof(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;
	int r = loom_antispoof_forget(j->as, j->veth.ifindex);

	if (r < 0)
		return loom_err_errno(why, LOOM_ERR_INTERNAL, -r,
				      "cannot delete the antiSpoof map element of %s", j->veth.name);
	return 0;
}

static void *attach_thread(void *arg)
{
	struct add_job *j = arg;

	j->as_rc = loom_antispoof_attach(j->as, j->veth.ifindex, &j->as_err);
	return NULL;
}

/* The pod's addresses and MAC into the node's pinned map, and the program
 * on the host end's ingress: from then on the pod can only send as itself.
 *
 * Attaching waits for an RCU grace period in the kernel (the new clsact's
 * first filter swaps its RCU-protected list), about a millisecond of
 * sleep: a second thread does it while this one configures the pod, and
 * antispoof_join waits for it before the record is written.  The pod's
 * workload starts only after ADD returns, so nothing it sends escapes the
 * filter.  A layer-2-only attachment has no addresses to hold it to. */
static int antispoof_start(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	struct loom_antispoof_pod p = {
		.ifindex = j->veth.ifindex,
		.n_ips = j->ipam.n_ips,
		.ips = j->ips,
	};

	if (!j->conf.anti_spoof || !j->conf.layer3)
		return 0;
	memcpy(p.mac, j->mac, sizeof(p.mac));
	if (loom_antispoof_open(j->conf.bpf_pin_dir, &j->as, err) < 0 ||
	    loom_br_undo_push(undo, undo_antispoof, j, "remove the antiSpoof map element", err) < 0 ||
	    loom_antispoof_set(j->as, &p, err) < 0)
		return -1;
	loom_err_clear(&j->as_err);
	j->as_threaded = pthread_create(&j->as_thread, NULL, attach_thread, j) == 0;
	if (!j->as_threaded)
		attach_thread(j);
	j->rec.antispoof_ifindex = j->veth.ifindex;
	snprintf(j->rec.antispoof_pin_dir, sizeof(j->rec.antispoof_pin_dir), "%s", j->conf.bpf_pin_dir);
	return 0;
}

/* Also on every failure path, before the undo steps touch the veth. */
static int antispoof_join(struct add_job *j, struct loom_err *err)
{
	if (j->as_threaded) {
		pthread_join(j->as_thread, NULL);
		j->as_threaded = false;
	}
	if (j->as && j->as_rc < 0) {
		if (err)
			*err = j->as_err;
		return -1;
	}
	return 0;
}

static int open_all(struct add_job *j, struct loom_err *err)
{
	const char *ns = j->ctx->env.netns;
	int r;

	if (!ns || !ns[0])
		return loom_err_set(err, LOOM_ERR_INVALID_ENV, "CNI_NETNS is required for ADD");
	j->netns_fd = loom_netns_open(ns);
	if (j->netns_fd < 0)
		return loom_err_errno(err, LOOM_ERR_INVALID_ENV, -j->netns_fd,
				      "CNI_NETNS: cannot open %s as a network namespace", ns);
	r = loom_nl_open(&j->host);
	if (r == 0)
		r = loom_nl_open_netns(j->netns_fd, &j->pod);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot open a netlink socket");
	return 0;
}

static int bridge_setup(struct add_job *j, struct loom_err *err)
{
	const struct loom_br_conf *c = &j->conf;
	struct loom_bridge_conf bc = { .mtu = c->mtu, .vlan_filtering = c->vlan || c->n_trunk };
	int r;

	r = loom_bridge_ensure(j->host, c->bridge, &bc, &j->br);
	if (r == -EOPNOTSUPP && bc.vlan_filtering)
		return loom_err_set(err, LOOM_ERR_UNSUPPORTED_FIELD,
				    "%s: this kernel's bridge has no VLAN filtering "
				    "(CONFIG_BRIDGE_VLAN_FILTERING), which %s needs",
				    c->vlan ? "vlan" : "vlanTrunk", c->vlan ? "vlan" : "vlanTrunk");
	if (r == -EEXIST)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "bridge: %s already exists and is not a bridge", c->bridge);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "bridge: cannot create %s%s%s",
				      c->bridge, loom_nl_last_msg(j->host)[0] ? ": " : "",
				      loom_nl_last_msg(j->host));
	if (c->promisc && !(j->br.flags & IFF_PROMISC)) {
		r = loom_link_set_promisc(j->host, j->br.ifindex, true);
		if (r < 0)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
					      "promiscMode: cannot set %s promiscuous", c->bridge);
	}
	/* The bridge's IPv6 routes are ours to set, not a router's to
	 * advertise (as the reference); a kernel without IPv6 has no key. */
	loom_sysctl_write_if(AF_INET6, c->bridge, "accept_ra", "0");
	return 0;
}

/* The reference's calcGateways: every address belongs to the container
 * interface; with isGateway an address without a gateway gets its subnet's
 * first host; with isDefaultGateway each family gets a default route via
 * its gateway unless IPAM already gave one. */
static int shape_ipam(struct add_job *j, struct loom_err *err)
{
	struct loom_result *r = &j->ipam;
	const struct loom_br_conf *c = &j->conf;
	bool have_default[2] = { false, false };
	size_t i, k;

	if (r->n_ips == 0)
		return loom_err_set(err, LOOM_ERR_DELEGATE, "IPAM plugin %s returned no IP address",
				    c->ipam_type);
	for (i = 0; i < r->n_ips; i++) {
		struct loom_result_ip *ip = &r->ips[i];
		int fam = ip->address.ip.family == AF_INET6;

		ip->iface = IFACE_CONTAINER;
		j->ips[i] = ip->address;
		if (!ip->has_gateway && c->is_gw) {
			ip->gateway = loom_prefix_first(&ip->address);
			loom_ip_next(&ip->gateway);
			ip->has_gateway = true;
		}
		if (!c->is_default_gw || have_default[fam])
			continue;
		for (k = 0; k < r->n_routes; k++)
			if (r->routes[k].dst.len == 0 && r->routes[k].has_gw &&
			    r->routes[k].dst.ip.family == ip->address.ip.family)
				have_default[fam] = true;
		if (have_default[fam])
			continue;
		if (r->n_routes >= LOOM_RESULT_MAX_ROUTES)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "isDefaultGateway: IPAM returned %d routes, no room for the "
					    "default route",
					    LOOM_RESULT_MAX_ROUTES);
		memset(&r->routes[r->n_routes], 0, sizeof(r->routes[0]));
		r->routes[r->n_routes].dst.ip.family = ip->address.ip.family;
		r->routes[r->n_routes].has_gw = true;
		r->routes[r->n_routes].gw = ip->gateway;
		r->routes[r->n_routes].scope = -1;
		r->n_routes++;
		have_default[fam] = true;
	}
	return 0;
}

static int veth_setup(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	struct loom_br_veth_req req = {
		.container_id = j->ctx->env.container_id,
		.ifname = j->ctx->env.ifname,
		.netns_fd = j->netns_fd,
		.mtu = j->conf.mtu,
		.peer_mac = j->mac,
		.master = j->br.ifindex,
		.state_dir = j->conf.state_dir,
	};

	if (j->conf.has_mac)
		memcpy(j->mac, j->conf.mac, LOOM_MAC_LEN);
	else if (loom_br_random_mac(j->mac, err) < 0)
		return -1;
	loom_br_mac_fmt(j->mac, j->mac_str);
	if (loom_br_veth_create(j->host, j->pod, &req, &j->veth, err) < 0)
		return -1;
	if (loom_br_undo_push(undo, undo_veth, j, "delete the veth pair", err) < 0) {
		undo_veth(j, NULL);
		return -1;
	}
	if (j->veth.link <= 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "%s: the kernel did not report its peer",
				    j->veth.name);
	return loom_br_port_setup(j->host, &j->conf, &j->veth, err);
}

static void *ipam_thread(void *arg)
{
	struct add_job *j = arg;

	j->ipam_rc = loom_br_ipam_add_reclaim(j->ctx, &j->conf, &j->ipam, &j->ipam_err);
	return NULL;
}

/* Allocate while `veth_setup` runs; the allocation's undo is pushed once
 * it is known to exist, whatever the veth's fate. */
static int ipam_and_veth(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	pthread_t t;
	bool threaded;
	int rv;

	loom_err_clear(&j->ipam_err);
	threaded = pthread_create(&t, NULL, ipam_thread, j) == 0;
	if (!threaded)
		ipam_thread(j);
	rv = veth_setup(j, undo, err);
	if (threaded)
		pthread_join(t, NULL);
	if (j->ipam_rc == 0 &&
	    loom_br_undo_push(undo, undo_ipam, j, "release the address", rv < 0 ? NULL : err) < 0) {
		undo_ipam(j, NULL);
		return -1;
	}
	if (rv < 0)
		return -1;
	if (j->ipam_rc < 0) {
		if (err)
			*err = j->ipam_err;
		return -1;
	}
	return 0;
}

static int gateways(struct add_job *j, struct loom_err *err)
{
	bool fwd[2] = { false, false };
	size_t i;

	for (i = 0; i < j->ipam.n_ips; i++) {
		const struct loom_result_ip *ip = &j->ipam.ips[i];
		struct loom_prefix gw;

		if (!ip->has_gateway)
			continue;
		gw.ip = ip->gateway;
		gw.len = ip->address.len;
		if (loom_br_gateway_ensure(j->host, &j->br, &gw, j->conf.force_address, err) < 0)
			return -1;
		fwd[ip->address.ip.family == AF_INET6] = true;
	}
	if (fwd[0] && loom_br_forwarding_enable(AF_INET, err) < 0)
		return -1;
	if (fwd[1] && loom_br_forwarding_enable(AF_INET6, err) < 0)
		return -1;
	return 0;
}

static int firewall(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	const struct loom_br_conf *c = &j->conf;

	j->fw = (struct loom_fw_pod){
		.network = c->network,
		.container_id = j->ctx->env.container_id,
		.ifname = j->ctx->env.ifname,
		.host_veth = j->veth.name,
		.mac = j->mac_str,
		.n_ips = j->ipam.n_ips,
		.ips = j->ips,
		/* As the reference: masquerading needs addresses to act on. */
		.masq = c->ip_masq && c->layer3,
		.n_exempt = c->n_masq_exempt,
		.exempt = c->masq_exempt,
		.spoofchk = c->spoofchk,
	};
	if (!j->fw.masq && !j->fw.spoofchk)
		return 0;
	if (loom_fw_add(&j->fw, err) < 0)
		return -1;
	return loom_br_undo_push(undo, undo_fw, j, "remove the firewall elements", err);
}

static int record(struct add_job *j, struct loom_err *err)
{
	const struct loom_cni_args *a = &j->ctx->args;
	struct loom_br_record *r = &j->rec;
	size_t i;

	snprintf(r->network, sizeof(r->network), "%s", j->conf.network);
	snprintf(r->container_id, sizeof(r->container_id), "%s", j->ctx->env.container_id);
	snprintf(r->ifname, sizeof(r->ifname), "%s", j->ctx->env.ifname);
	snprintf(r->host_veth, sizeof(r->host_veth), "%s", j->veth.name);
	snprintf(r->bridge, sizeof(r->bridge), "%s", j->conf.bridge);
	snprintf(r->mac, sizeof(r->mac), "%s", j->mac_str);
	snprintf(r->netns, sizeof(r->netns), "%s", j->ctx->env.netns);
	snprintf(r->pod_namespace, sizeof(r->pod_namespace), "%s",
		 a->k8s_pod_namespace ? a->k8s_pod_namespace : "");
	snprintf(r->pod_name, sizeof(r->pod_name), "%s", a->k8s_pod_name ? a->k8s_pod_name : "");
	r->n_ips = j->ipam.n_ips;
	for (i = 0; i < r->n_ips; i++)
		r->ips[i] = j->ips[i];
	r->masq = j->fw.masq;
	r->spoofchk = j->fw.spoofchk;
	r->n_masq_exempt = r->masq ? j->conf.n_masq_exempt : 0;
	memcpy(r->masq_exempt, j->conf.masq_exempt, sizeof(r->masq_exempt[0]) * r->n_masq_exempt);
	return loom_br_record_write(j->conf.state_dir, r, err);
}

static void fill_result(struct add_job *j, struct loom_result *res)
{
	struct loom_result_iface *f;
	char buf[LOOM_MAC_STRLEN];

	loom_result_init(res);
	res->n_ips = j->ipam.n_ips;
	memcpy(res->ips, j->ipam.ips, sizeof(res->ips[0]) * res->n_ips);
	res->n_routes = j->ipam.n_routes;
	memcpy(res->routes, j->ipam.routes, sizeof(res->routes[0]) * res->n_routes);
	res->dns = j->conf.has_dns ? j->conf.dns : j->ipam.dns;

	res->n_ifaces = 3;
	f = &res->ifaces[IFACE_BRIDGE];
	snprintf(f->name, sizeof(f->name), "%s", j->br.name);
	if (j->br.mac_len == LOOM_MAC_LEN)
		snprintf(f->mac, sizeof(f->mac), "%s", loom_br_mac_fmt(j->br.mac, buf));
	f = &res->ifaces[IFACE_HOST];
	snprintf(f->name, sizeof(f->name), "%s", j->veth.name);
	if (j->veth.mac_len == LOOM_MAC_LEN)
		snprintf(f->mac, sizeof(f->mac), "%s", loom_br_mac_fmt(j->veth.mac, buf));
	f = &res->ifaces[IFACE_CONTAINER];
	snprintf(f->name, sizeof(f->name), "%s", j->ctx->env.ifname);
	snprintf(f->mac, sizeof(f->mac), "%s", j->mac_str);
	snprintf(f->sandbox, sizeof(f->sandbox), "%s", j->ctx->env.netns);
}

static int run(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	const struct loom_br_conf *c = &j->conf;
	int r;

	/* The reference gives a VLAN's gateway an interface of its own (a
	 * veth named "<bridge>.<vlan>"); loom does not make one. */
	if (c->vlan && c->is_gw)
		return loom_err_set(err, LOOM_ERR_UNSUPPORTED_FIELD,
				    "vlan: a gateway on a VLAN (vlan with isGateway) is not "
				    "available in loom-bridge");
	if (open_all(j, err) < 0 || bridge_setup(j, err) < 0)
		return -1;
	if (c->layer3) {
		if (ipam_and_veth(j, undo, err) < 0 || shape_ipam(j, err) < 0 ||
		    antispoof_start(j, undo, err) < 0)
			return -1;
	} else if (veth_setup(j, undo, err) < 0) {
		return -1;
	}
	if (loom_br_pod_configure(j->pod, j->netns_fd, c, j->ctx->env.ifname, j->veth.link, &j->ipam,
				  IFACE_CONTAINER, err) < 0)
		return -1;
	if (c->is_gw && gateways(j, err) < 0)
		return -1;
	if (firewall(j, undo, err) < 0)
		return -1;
	/* The bridge's MAC may have changed as the port joined or the gateway
	 * was set: report the one it has now. */
	r = loom_link_get_index(j->host, j->br.ifindex, &j->br);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "bridge: cannot look up %s", c->bridge);
	if (antispoof_join(j, err) < 0)
		return -1;
	return record(j, err);
}

/* conf NULL: parse it from ctx. */
static int add(struct loom_cni_ctx *ctx, const struct loom_br_conf *conf, struct loom_result *res,
	       struct loom_err *err)
{
	struct loom_br_undo undo;
	struct add_job *j;
	int r;

	/* The job holds two result-sized tables: heap, not stack. */
	j = calloc(1, sizeof(*j));
	if (!j)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	j->ctx = ctx;
	j->netns_fd = -1;
	loom_result_init(&j->ipam);
	loom_br_undo_init(&undo);
	if (conf)
		j->conf = *conf;
	else if (loom_br_conf_parse(&ctx->conf, &ctx->args, &j->conf, err) < 0) {
		job_free(j);
		return -1;
	}
	r = run(j, &undo, err);
	if (r < 0) {
		antispoof_join(j, NULL);
		loom_br_undo_run(&undo, err);
	}
	else
		fill_result(j, res);
	loom_br_undo_commit(&undo);
	job_free(j);
	return r;
}

int loom_br_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err)
{
	return add(ctx, NULL, res, err);
}

int loom_br_add_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		     struct loom_result *res, struct loom_err *err)
{
	return add(ctx, c, res, err);
}
