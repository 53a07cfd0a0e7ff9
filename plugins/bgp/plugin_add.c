/* ADD: IPAM, the veth pair, antiSpoof, the pod's addresses, gateway
 * neighbours and routes, the host routes, the firewall, the endpoint
 * record; then the result.
 *
 * Each step that changes something pushes its undo (loom-bridge's undo
 * stack) before the next runs, so a failure anywhere unwinds to the state
 * before the ADD.  Forwarding stays on: it is the node's, shared by every
 * pod, and idempotent to set.
 *
 * The gateway (169.254.1.1, fe80::1) is answered by a permanent neighbour
 * entry in the pod naming the host veth's MAC, not by proxy ARP/NDP on the
 * host.  Why: proxy_arp only answers when the host has a route towards
 * 169.254.1.1 out of another interface (none on a node without a default
 * route) and delays answers by proxy_delay; proxy_ndp needs a proxy entry
 * per address; both are host sysctls per veth.  A static entry is one
 * request, is gone with the pod's netns, and no ARP or NDP ever crosses the
 * veth for the gateway.  The host side gets the same for the pod's
 * addresses (its MAC is ours to choose), so the host needs no address of
 * its own on the veth to resolve the pod either. */
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include "kernel/bpf_antispoof.h"
#include "firewall.h"
#include "kernel/netns.h"

/* Indices into the result's interfaces. */
#define IFACE_HOST 0
#define IFACE_CONTAINER 1

struct add_job {
	struct loom_cni_ctx *ctx;        /* the delegate's */
	const struct loom_br_conf *conf; /* the delegate's */
	struct loom_nl *host, *pod;
	int netns_fd;
	struct loom_link veth;           /* host end; .link = the pod end's ifindex */
	uint8_t mac[LOOM_MAC_LEN];       /* the pod side's */
	char mac_str[LOOM_MAC_STRLEN];
	struct loom_result ipam;         /* IPAM's answer: addresses with the block's length */
	struct loom_result pod_res;      /* what the pod gets: /32, /128, gateway routes */
	struct loom_prefix ips[LOOM_RESULT_MAX_IPS]; /* the addresses with the block's length */
	size_t n_routes;                 /* host routes installed */
	struct loom_fw_pod fw;
	struct loom_br_record rec;
	struct loom_antispoof *as;
};

static int nl_fail(struct loom_err *err, struct loom_nl *nl, int r, const char *what,
		   const char *obj)
{
	const char *kmsg = loom_nl_last_msg(nl);

	return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot %s %s%s%s", what, obj,
			      kmsg && kmsg[0] ? ": " : "", kmsg ? kmsg : "");
}

static int undo_ipam(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;

	return loom_br_ipam_del(j->ctx, j->conf, why);
}

static int undo_veth(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;
	int r = loom_link_del(j->host, j->veth.ifindex, true);

	if (r < 0)
		return loom_err_errno(why, LOOM_ERR_INTERNAL, -r, "cannot delete %s", j->veth.name);
	return 0;
}

static int undo_antispoof(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;
	int r = loom_antispoof_forget(j->as, j->veth.ifindex);

	if (r < 0)
		return loom_err_errno(why, LOOM_ERR_INTERNAL, -r,
				      "cannot delete the antiSpoof map element of %s", j->veth.name);
	return 0;
}

static int undo_fw(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;

	return loom_fw_del(&j->fw, why);
}

static void host_route(const struct add_job *j, size_t i, struct loom_nl_route *nr)
{
	memset(nr, 0, sizeof(*nr));
	nr->dst.ip = j->ips[i].ip;
	nr->dst.len = (uint8_t)loom_ip_bits(&j->ips[i].ip);
	nr->oif = j->veth.ifindex;
	nr->protocol = LOOM_RTPROT;
	nr->scope = RT_SCOPE_LINK;
}

/* The veth's deletion takes its routes along; this covers a failure after
 * the routes but before the veth's own undo is reached. */
static int undo_routes(void *arg, struct loom_err *why)
{
	struct add_job *j = arg;
	struct loom_nl_route nr;
	size_t i;
	int r;

	for (i = 0; i < j->n_routes; i++) {
		host_route(j, i, &nr);
		r = loom_route_del(j->host, &nr, true);
		if (r < 0 && r != -ENODEV)
			return loom_err_errno(why, LOOM_ERR_INTERNAL, -r, "cannot delete the route to %s",
					      "the pod");
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

static int ipam(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	const struct loom_br_conf *c = j->conf;
	size_t i;

	if (loom_br_ipam_add_reclaim(j->ctx, c, &j->ipam, err) < 0)
		return -1;
	if (loom_br_undo_push(undo, undo_ipam, j, "release the address", err) < 0) {
		undo_ipam(j, NULL);
		return -1;
	}
	if (j->ipam.n_ips == 0)
		return loom_err_set(err, LOOM_ERR_DELEGATE, "loom-ipam returned no IP address");
	for (i = 0; i < j->ipam.n_ips; i++)
		j->ips[i] = j->ipam.ips[i].address;
	return 0;
}

static int veth(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	struct loom_br_veth_req req = {
		.container_id = j->ctx->env.container_id,
		.ifname = j->ctx->env.ifname,
		.netns_fd = j->netns_fd,
		.mtu = j->conf->mtu,
		.peer_mac = j->mac,
		.state_dir = j->conf->state_dir,
		.name_prefix = LOOM_BGP_VETH_PREFIX,
	};

	if (j->conf->has_mac)
		memcpy(j->mac, j->conf->mac, LOOM_MAC_LEN);
	else if (loom_br_random_mac(j->mac, err) < 0)
		return -1;
	loom_br_mac_fmt(j->mac, j->mac_str);
	if (loom_br_veth_create(j->host, j->pod, &req, &j->veth, err) < 0)
		return -1;
	if (loom_br_undo_push(undo, undo_veth, j, "delete the veth pair", err) < 0) {
		undo_veth(j, NULL);
		return -1;
	}
	if (j->veth.link <= 0 || j->veth.mac_len != LOOM_MAC_LEN)
		return loom_err_set(err, LOOM_ERR_INTERNAL,
				    "%s: the kernel did not report its peer or its MAC", j->veth.name);
	/* Routes to pods are ours to set, not a router's to advertise. */
	loom_sysctl_write_if(AF_INET6, j->veth.name, "accept_ra", "0");
	return 0;
}

/* The pod's addresses and MAC into the node's pinned map, and the program
 * on the host end's ingress: the pod can only send as itself. */
static int antispoof(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	struct loom_antispoof_pod p = {
		.ifindex = j->veth.ifindex,
		.n_ips = j->ipam.n_ips,
		.ips = j->ips,
	};

	if (!j->conf->anti_spoof)
		return 0;
	memcpy(p.mac, j->mac, sizeof(p.mac));
	if (loom_antispoof_open(j->conf->bpf_pin_dir, &j->as, err) < 0 ||
	    loom_br_undo_push(undo, undo_antispoof, j, "remove the antiSpoof map element", err) < 0 ||
	    loom_antispoof_set(j->as, &p, err) < 0 || loom_antispoof_attach(j->as, j->veth.ifindex, err) < 0)
		return -1;
	j->rec.antispoof_ifindex = j->veth.ifindex;
	snprintf(j->rec.antispoof_pin_dir, sizeof(j->rec.antispoof_pin_dir), "%s", j->conf->bpf_pin_dir);
	return 0;
}

static void add_route(struct loom_result *r, const char *dst, const char *gw, int scope)
{
	struct loom_route *rt = &r->routes[r->n_routes++];

	memset(rt, 0, sizeof(*rt));
	loom_prefix_parse(dst, &rt->dst);
	rt->scope = scope;
	if (gw) {
		rt->has_gw = loom_ip_parse(gw, &rt->gw) == 0;
	}
}

/* IPAM's addresses as host addresses, the on-link route to the IPv4
 * gateway and a default route per family. */
static void shape_pod_result(struct add_job *j)
{
	struct loom_result *r = &j->pod_res;
	bool fam[2] = { false, false };
	size_t i;

	loom_result_init(r);
	r->n_ips = j->ipam.n_ips;
	for (i = 0; i < r->n_ips; i++) {
		r->ips[i].address = j->ips[i];
		r->ips[i].address.len = (uint8_t)loom_ip_bits(&j->ips[i].ip);
		r->ips[i].iface = IFACE_CONTAINER;
		fam[j->ips[i].ip.family == AF_INET6] = true;
	}
	if (fam[0]) {
		add_route(r, LOOM_BGP_GW4 "/32", NULL, RT_SCOPE_LINK);
		add_route(r, "0.0.0.0/0", LOOM_BGP_GW4, -1);
	}
	if (fam[1])
		add_route(r, "::/0", LOOM_BGP_GW6, -1);
	r->dns = j->conf->has_dns ? j->conf->dns : j->ipam.dns;
}

/* See the top of the file for why these are static entries. */
static int neighbours(struct add_job *j, struct loom_err *err)
{
	char buf[LOOM_PREFIX_STRLEN];
	struct loom_ip gw;
	size_t i;
	int r;

	for (i = 0; i < j->ipam.n_ips; i++) {
		bool v6 = j->ips[i].ip.family == AF_INET6;

		loom_ip_parse(v6 ? LOOM_BGP_GW6 : LOOM_BGP_GW4, &gw);
		r = loom_neigh_add(j->pod, j->veth.link, &gw, j->veth.mac);
		if (r < 0)
			return nl_fail(err, j->pod, r, "add the gateway neighbour in the pod for",
				       v6 ? LOOM_BGP_GW6 : LOOM_BGP_GW4);
		r = loom_neigh_add(j->host, j->veth.ifindex, &j->ips[i].ip, j->mac);
		if (r < 0)
			return nl_fail(err, j->host, r, "add the pod's neighbour entry for",
				       loom_prefix_fmt(&j->ips[i], buf));
	}
	return 0;
}

static int host_routes(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	bool fwd[2] = { false, false };
	struct loom_nl_route nr;
	char buf[LOOM_PREFIX_STRLEN];
	size_t i;
	int r;

	if (loom_br_undo_push(undo, undo_routes, j, "delete the host routes", err) < 0)
		return -1;
	for (i = 0; i < j->ipam.n_ips; i++) {
		host_route(j, i, &nr);
		/* IPAM just gave us the address: a route to it is a stale one. */
		r = loom_route_add(j->host, &nr, LOOM_ROUTE_REPLACE);
		if (r < 0)
			return nl_fail(err, j->host, r, "add the host route to",
				       loom_prefix_fmt(&nr.dst, buf));
		j->n_routes = i + 1;
		fwd[nr.dst.ip.family == AF_INET6] = true;
	}
	if (fwd[0] && loom_br_forwarding_enable(AF_INET, err) < 0)
		return -1;
	if (fwd[1] && loom_br_forwarding_enable(AF_INET6, err) < 0)
		return -1;
	return 0;
}

static int firewall(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	const struct loom_br_conf *c = j->conf;

	j->fw = (struct loom_fw_pod){
		.network = c->network,
		.container_id = j->ctx->env.container_id,
		.ifname = j->ctx->env.ifname,
		.host_veth = j->veth.name,
		.mac = j->mac_str,
		.n_ips = j->ipam.n_ips,
		.ips = j->ips,
		.masq = c->ip_masq,
		.n_exempt = c->n_masq_exempt,
		.exempt = c->masq_exempt,
	};
	if (!j->fw.masq)
		return 0;
	if (loom_fw_add(&j->fw, err) < 0)
		return -1;
	return loom_br_undo_push(undo, undo_fw, j, "remove the firewall elements", err);
}

static int record(struct add_job *j, struct loom_err *err)
{
	const struct loom_cni_args *a = &j->ctx->args;
	struct loom_br_record *r = &j->rec;

	snprintf(r->network, sizeof(r->network), "%s", j->conf->network);
	snprintf(r->container_id, sizeof(r->container_id), "%s", j->ctx->env.container_id);
	snprintf(r->ifname, sizeof(r->ifname), "%s", j->ctx->env.ifname);
	snprintf(r->host_veth, sizeof(r->host_veth), "%s", j->veth.name);
	snprintf(r->mac, sizeof(r->mac), "%s", j->mac_str);
	snprintf(r->netns, sizeof(r->netns), "%s", j->ctx->env.netns);
	snprintf(r->pod_namespace, sizeof(r->pod_namespace), "%s",
		 a->k8s_pod_namespace ? a->k8s_pod_namespace : "");
	snprintf(r->pod_name, sizeof(r->pod_name), "%s", a->k8s_pod_name ? a->k8s_pod_name : "");
	/* With the block's length: DEL rebuilds the lease's blocks from them. */
	r->n_ips = j->ipam.n_ips;
	memcpy(r->ips, j->ips, sizeof(r->ips[0]) * r->n_ips);
	r->masq = j->fw.masq;
	r->n_masq_exempt = r->masq ? j->conf->n_masq_exempt : 0;
	memcpy(r->masq_exempt, j->conf->masq_exempt, sizeof(r->masq_exempt[0]) * r->n_masq_exempt);
	return loom_br_record_write(j->conf->state_dir, r, err);
}

static void fill_result(struct add_job *j, struct loom_result *res)
{
	struct loom_result_iface *f;

	*res = j->pod_res;
	res->n_ifaces = 2;
	f = &res->ifaces[IFACE_HOST];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", j->veth.name);
	loom_br_mac_fmt(j->veth.mac, f->mac);
	f = &res->ifaces[IFACE_CONTAINER];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", j->ctx->env.ifname);
	snprintf(f->mac, sizeof(f->mac), "%s", j->mac_str);
	snprintf(f->sandbox, sizeof(f->sandbox), "%s", j->ctx->env.netns);
}

static int run(struct add_job *j, struct loom_br_undo *undo, struct loom_err *err)
{
	if (open_all(j, err) < 0 || ipam(j, undo, err) < 0 || veth(j, undo, err) < 0 ||
	    antispoof(j, undo, err) < 0)
		return -1;
	shape_pod_result(j);
	if (loom_br_pod_configure(j->pod, j->netns_fd, j->conf, j->ctx->env.ifname, j->veth.link,
				  &j->pod_res, IFACE_CONTAINER, err) < 0 ||
	    neighbours(j, err) < 0 || host_routes(j, undo, err) < 0 || firewall(j, undo, err) < 0)
		return -1;
	return record(j, err);
}

int loom_bgp_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err)
{
	struct loom_bgp_delegate *d;
	struct loom_br_undo undo;
	struct add_job *j;
	int r;

	if (loom_bgp_delegate_make(ctx, false, &d, err) < 0)
		return -1;
	/* Three result-sized tables: heap, not stack. */
	j = calloc(1, sizeof(*j));
	if (!j) {
		loom_bgp_delegate_free(d);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	j->ctx = &d->ctx;
	j->conf = &d->br;
	j->netns_fd = -1;
	loom_result_init(&j->ipam);
	loom_br_undo_init(&undo);
	r = run(j, &undo, err);
	if (r < 0)
		loom_br_undo_run(&undo, err);
	else
		fill_result(j, res);
	loom_br_undo_commit(&undo);
	loom_antispoof_close(j->as);
	loom_nl_close(j->pod);
	loom_nl_close(j->host);
	if (j->netns_fd >= 0)
		close(j->netns_fd);
	free(j);
	loom_bgp_delegate_free(d);
	return r;
}
