/* The floor of one bridge ADD: the kernel and filesystem work loom-bridge +
 * loom-ipam cannot avoid, done by the cheapest possible program, exec'd by
 * cni_bench exactly as the plugins are (same netns, same environment, the
 * config on stdin, a result on stdout).  loom's ADD over this is what loom
 * itself costs; cni_bench reports the ratio (goal: <= 1.3).
 *
 * One ADD here is: read the config to EOF; open the pod's netns and one
 * netlink socket in each netns; look the bridge up (create it with its
 * gateway address the first time); one request making the veth pair with
 * the pod end born in the pod's netns as CNI_IFNAME and the host end
 * enslaved and up; the pod's address, its link up and a default route via
 * the gateway; one reservation file (O_TMPFILE written, then linkat'd under
 * the address's name, as loom-ipam does); print the result.
 *
 * Not done, because loom's ADD need not do them either or does them once:
 * no config parsing beyond what it needs (the bridge and subnet are fixed,
 * as cni_bench writes them), no IPAM index, no endpoint record, no
 * firewall, no antiSpoof (cni_bench turns it off), no DEL (cni_bench
 * removes the pods' namespaces).  The address is chosen from a hash of
 * the container ID, the next one when taken: create-or-fail like loom-ipam,
 * without its round-robin cursor.
 *
 * Usage (as a CNI plugin, ADD only): CNI_COMMAND=ADD CNI_CONTAINERID=...
 * CNI_NETNS=... CNI_IFNAME=... cni_floor < conf, with CNI_FLOOR_DIR the
 * reservation directory (default /var/lib/cni/networks/loom-floor). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/netns.h"
#include "kernel/nl.h"

#define FLOOR_BRIDGE "lbfloor0"
#define FLOOR_NET 0x0a820000u /* 10.130.0.0/16 */
#define FLOOR_GW (FLOOR_NET | 1u)
#define FLOOR_HOSTS 65533u /* .0.2 .. .255.254 */
#define DEFAULT_DIR "/var/lib/cni/networks/loom-floor"

static int fail(const char *what, int r)
{
	/* A CNI error object, so cni_bench prints it like a plugin's. */
	printf("{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"cni_floor: %s: %s\"}\n", what,
	       strerror(r < 0 ? -r : r));
	return 1;
}

static struct loom_prefix v4(uint32_t a, uint8_t len)
{
	struct loom_prefix p;

	memset(&p, 0, sizeof(p));
	p.ip.family = AF_INET;
	p.ip.addr[0] = (uint8_t)(a >> 24);
	p.ip.addr[1] = (uint8_t)(a >> 16);
	p.ip.addr[2] = (uint8_t)(a >> 8);
	p.ip.addr[3] = (uint8_t)a;
	p.len = len;
	return p;
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 16777619u;
	}
	return h;
}

/* Reserve an address for cid: 0 with *addr set, or -errno. */
static int reserve(const char *dir, const char *cid, const char *ifname, uint32_t *addr)
{
	char content[512], proc[64], name[LOOM_PREFIX_STRLEN], *slash;
	struct loom_prefix p;
	uint32_t i, start = fnv1a(cid) % FLOOR_HOSTS;
	int dfd, fd, len, r = -EEXIST;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT && mkdir(dir, 0755) == 0)
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	len = snprintf(content, sizeof(content), "%s\r\n%s", cid, ifname);
	fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, content, (size_t)len) != len) {
		r = -errno;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (i = 0; i < FLOOR_HOSTS && r == -EEXIST; i++) {
		*addr = FLOOR_NET + 2 + (start + i) % FLOOR_HOSTS;
		p = v4(*addr, 32);
		loom_prefix_fmt(&p, name);
		slash = strchr(name, '/');
		if (slash)
			*slash = '\0';
		r = linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno;
	}
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r;
}

int main(void)
{
	const char *cmd = getenv("CNI_COMMAND"), *cid = getenv("CNI_CONTAINERID");
	const char *netns = getenv("CNI_NETNS"), *ifname = getenv("CNI_IFNAME");
	const char *dir = getenv("CNI_FLOOR_DIR");
	char buf[4096], host_name[IFNAMSIZ], abuf[LOOM_PREFIX_STRLEN];
	struct loom_nl *host = NULL, *pod = NULL;
	struct loom_link br, veth;
	struct loom_prefix addr, gw = v4(FLOOR_GW, 16);
	struct loom_nl_route rt;
	uint32_t a = 0;
	int nsfd, r;

	if (!cmd || strcmp(cmd, "ADD") != 0 || !cid || !netns || !ifname)
		return fail("ADD only, with CNI_CONTAINERID, CNI_NETNS and CNI_IFNAME", EINVAL);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	nsfd = loom_netns_open(netns);
	if (nsfd < 0)
		return fail("open the netns", nsfd);
	r = loom_nl_open(&host);
	if (r == 0)
		r = loom_nl_open_netns(nsfd, &pod);
	if (r < 0)
		return fail("netlink", r);

	r = loom_link_get(host, FLOOR_BRIDGE, &br);
	if (r == -ENODEV) {
		r = loom_bridge_ensure(host, FLOOR_BRIDGE, &(struct loom_bridge_conf){ 0 }, &br);
		if (r == 0)
			r = loom_addr_add(host, br.ifindex, &gw, LOOM_ADDR_REPLACE);
		if (r == 0)
			r = loom_link_set_up(host, br.ifindex, true);
	}
	if (r < 0)
		return fail("bridge", r);

	r = reserve(dir ? dir : DEFAULT_DIR, cid, ifname, &a);
	if (r < 0)
		return fail("reservation", r);

	snprintf(host_name, sizeof(host_name), "vf%08x", fnv1a(cid) ^ fnv1a(ifname));
	r = loom_veth_create(host,
			     &(struct loom_veth_req){ .name = host_name,
						      .peer_name = ifname,
						      .peer_netns_fd = nsfd,
						      .master = br.ifindex,
						      .up = true },
			     &veth);
	if (r == 0 && veth.link <= 0)
		r = -ENODEV;
	if (r < 0)
		return fail("veth", r);
	/* The host end's IFLA_LINK is the pod end's ifindex in the pod's
	 * netns, as loom-bridge uses it. */
	addr = v4(a, 16);
	r = loom_addr_add(pod, veth.link, &addr, 0);
	if (r == 0)
		r = loom_link_set_up(pod, veth.link, true);
	if (r < 0)
		return fail("pod interface", r);
	memset(&rt, 0, sizeof(rt));
	rt.dst.ip.family = AF_INET;
	rt.gw = gw.ip;
	rt.oif = veth.link;
	r = loom_route_add(pod, &rt, 0);
	if (r < 0)
		return fail("default route", r);

	printf("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"%s\",\"gateway\":\"10.130.0.1\"}]}\n",
	       loom_prefix_fmt(&addr, abuf));
	loom_nl_close(pod);
	loom_nl_close(host);
	close(nsfd);
	return 0;
}
