/* loom-sim up / down / status: the underlay, the nodes, the store and the
 * per-node daemons. */
#include "sim.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ETCD_CLIENT "http://" SIM_UL_ADDR ":2379"

void sim_ul_ns(const struct sim *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s-ul", s->name);
}

void sim_node_ns(const struct sim *s, int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s-n%d", s->name, node);
}

int sim_node_index(const struct sim *s, const char *arg)
{
	char *end;
	long v;

	if (arg[0] == 'n')
		arg++;
	v = strtol(arg, &end, 10);
	if (end == arg || *end || v < 1 || v > s->nodes)
		return -1;
	return (int)v;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* `ip ARGS...` (a NULL-terminated list), its stderr shown on failure. */
static int ip_cmd(const char *first, ...)
{
	char *argv[24], *errtxt = NULL;
	va_list ap;
	int n = 0, r;

	argv[n++] = (char *)"ip";
	argv[n++] = (char *)first;
	va_start(ap, first);
	while (n < 23 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	r = sim_run(NULL, argv, NULL, NULL, 0, NULL, &errtxt);
	if (r != 0) {
		char line[512] = "";

		for (int i = 0; i < n; i++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s",
				 i ? " " : "", argv[i]);
		sim_err("%s: %s", line, errtxt && errtxt[0] ? errtxt : "failed");
	}
	free(errtxt);
	return r == 0 ? 0 : -1;
}

int sim_loomctl(const struct sim *s, char *const args[], const char *in, char **out)
{
	char ctl[320], store[400], *argv[16], *errtxt = NULL;
	int n = 0, r;

	snprintf(ctl, sizeof(ctl), "%s/loomctl", s->bin);
	snprintf(store, sizeof(store), "--store=%s", s->store_url);
	argv[n++] = ctl;
	argv[n++] = store;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r = sim_run(NULL, argv, NULL, in, in ? strlen(in) : 0, out, &errtxt);
	if (r != 0)
		sim_err("loomctl %s: %s", args[0], errtxt && errtxt[0] ? errtxt : "failed");
	free(errtxt);
	return r == 0 ? 0 : -1;
}

int sim_write_state(const struct sim *s)
{
	char path[512];
	char *txt = json_dumps(s->state, JSON_INDENT(2) | JSON_SORT_KEYS);
	int r;

	if (!txt)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/state.json", s->dir);
	r = sim_write_file(path, txt, strlen(txt));
	free(txt);
	return r;
}

int sim_load(struct sim *s)
{
	char path[512];
	json_t *st;
	const char *v;

	snprintf(path, sizeof(path), "%s/state.json", s->dir);
	st = json_load_file(path, 0, NULL);
	if (!st)
		return -ENOENT;
	s->state = st;
	s->nodes = (int)json_integer_value(json_object_get(st, "nodes"));
	s->ttl = (int)json_integer_value(json_object_get(st, "ttl"));
	if ((v = json_string_value(json_object_get(st, "mode"))))
		snprintf(s->mode, sizeof(s->mode), "%s", v);
	if ((v = json_string_value(json_object_get(st, "store"))))
		snprintf(s->store_kind, sizeof(s->store_kind), "%s", v);
	if ((v = json_string_value(json_object_get(st, "storeUrl"))))
		snprintf(s->store_url, sizeof(s->store_url), "%s", v);
	if (s->nodes < 1 || s->nodes > SIM_NODES_MAX || !s->mode[0] || !s->store_url[0]) {
		json_decref(st);
		s->state = NULL;
		return -EINVAL;
	}
	return 0;
}

static int make_underlay(const struct sim *s)
{
	char ul[64];

	sim_ul_ns(s, ul, sizeof(ul));
	if (ip_cmd("netns", "add", ul, NULL) < 0 ||
	    ip_cmd("-n", ul, "link", "set", "lo", "up", NULL) < 0 ||
	    ip_cmd("-n", ul, "link", "add", "br0", "type", "bridge", NULL) < 0 ||
	    ip_cmd("-n", ul, "addr", "add", SIM_UL_ADDR "/24", "dev", "br0", NULL) < 0 ||
	    ip_cmd("-n", ul, "link", "set", "br0", "up", NULL) < 0)
		return -1;
	return 0;
}

int sim_make_node(const struct sim *s, int i)
{
	char ns[64], ul[64], peer[16], addr[32];

	sim_node_ns(s, i, ns, sizeof(ns));
	sim_ul_ns(s, ul, sizeof(ul));
	snprintf(peer, sizeof(peer), "n%d", i);
	snprintf(addr, sizeof(addr), "192.0.2.%d/24", 10 + i);
	if (ip_cmd("netns", "add", ns, NULL) < 0 ||
	    ip_cmd("-n", ns, "link", "set", "lo", "up", NULL) < 0 ||
	    ip_cmd("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns",
		   ul, NULL) < 0 ||
	    ip_cmd("-n", ul, "link", "set", peer, "master", "br0", "up", NULL) < 0 ||
	    ip_cmd("-n", ns, "addr", "add", addr, "dev", "eth0", NULL) < 0 ||
	    ip_cmd("-n", ns, "link", "set", "eth0", "up", NULL) < 0)
		return -1;
	return 0;
}

const struct loom_mode *sim_mode(const struct sim *s)
{
	const struct loom_mode *m = loom_mode_by_name(s->mode);

	return m ? m : loom_mode_default(); /* `up` refused any other */
}

/* The node's network config, as a runtime would keep in /etc/cni/net.d. */
int sim_write_conflist(const struct sim *s, int i)
{
	const struct loom_mode *m = sim_mode(s);
	char nd[400], path[512], sub[32], pin[400];
	json_t *plugin, *list;
	char *txt;
	int r;

	snprintf(nd, sizeof(nd), "%s/nodes/n%d", s->dir, i);
	snprintf(pin, sizeof(pin), "%s/bpf/n%d", s->dir, i);
	if (!m->lease_file) {
		/* The plugin learns the node's block from its config. */
		snprintf(sub, sizeof(sub), "10.244.%d.0/24", i);
		plugin = json_pack(
			"{s:s, s:s, s:b, s:b, s:s, s:s, s:{s:s, s:[[{s:s}]], s:[{s:s}], s:s}}",
			"type", m->cni, "bridge", "loom0", "isGateway", 1, "ipMasq", 1, "stateDir",
			"", "bpfPinDir", pin, "ipam", "type", "loom-ipam", "ranges", "subnet", sub,
			"routes", "dst", "0.0.0.0/0", "dataDir", "");
	} else {
		/* The plugins of lease-file modes read the same keys (the lease
		 * file in runDir). */
		plugin = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "type", m->cni, "runDir", "",
				   "stateDir", "", "dataDir", "", "bpfPinDir", pin, "ipMasq", 1);
	}
	if (!plugin)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/endpoints", nd);
	json_object_set_new(plugin, "stateDir", json_string(path));
	snprintf(path, sizeof(path), "%s/ipam", nd);
	if (!m->lease_file) {
		json_object_set_new(json_object_get(plugin, "ipam"), "dataDir", json_string(path));
	} else {
		json_object_set_new(plugin, "dataDir", json_string(path));
		snprintf(path, sizeof(path), "%s/run", nd);
		json_object_set_new(plugin, "runDir", json_string(path));
	}
	list = json_pack("{s:s, s:s, s:[o]}", "cniVersion", "1.0.0", "name", SIM_NETWORK, "plugins",
			 plugin);
	if (!list)
		return -ENOMEM;
	txt = json_dumps(list, JSON_INDENT(2));
	json_decref(list);
	if (!txt)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/cni/10-loom.conflist", nd);
	r = sim_write_file(path, txt, strlen(txt));
	free(txt);
	return r;
}

int sim_start_node_daemons(const struct sim *s, int i)
{
	char ns[64], node[16], addr[32], run[400], ep[400], ipam[400], log[400], tag[32], exe[320],
		ttl[16];
	pid_t pid;

	sim_node_ns(s, i, ns, sizeof(ns));
	snprintf(node, sizeof(node), "n%d", i);
	snprintf(addr, sizeof(addr), "192.0.2.%d", 10 + i);
	snprintf(run, sizeof(run), "%s/nodes/n%d/run", s->dir, i);
	snprintf(ep, sizeof(ep), "%s/nodes/n%d/endpoints", s->dir, i);
	snprintf(ipam, sizeof(ipam), "%s/nodes/n%d/ipam", s->dir, i);
	snprintf(log, sizeof(log), "%s/logs/loomd-n%d.log", s->dir, i);
	snprintf(tag, sizeof(tag), "loomd-n%d", i);
	snprintf(exe, sizeof(exe), "%s/loomd", s->bin);
	snprintf(ttl, sizeof(ttl), "%d", s->ttl > 0 ? s->ttl : SIM_TTL);
	/* `node start` restarts only what is not running. */
	if (!sim_pid_alive(sim_read_pid(s, tag))) {
		char *argv[] = { exe,
				 (char *)"--node",
				 node,
				 (char *)"--address",
				 addr,
				 (char *)"--network",
				 (char *)SIM_NETWORK,
				 (char *)"--store",
				 (char *)s->store_url,
				 (char *)"--run-dir",
				 run,
				 (char *)"--state-dir",
				 ep,
				 (char *)"--ipam-data-dir",
				 ipam,
				 (char *)"--ttl",
				 ttl,
				 (char *)"--release-on-exit",
				 NULL };

		pid = sim_spawn(s, ns, tag, log, argv);
		if (pid < 0)
			return sim_err("cannot start loomd on %s: %s", node, strerror((int)-pid)),
			       -1;
	}
	/* loom-policyd, when built: it reads pods and endpoints from the store
	 * only (loomd publishes them), so it takes no local directory. */
	snprintf(exe, sizeof(exe), "%s/loom-policyd", s->bin);
	snprintf(tag, sizeof(tag), "policyd-n%d", i);
	if (access(exe, X_OK) == 0 && !sim_pid_alive(sim_read_pid(s, tag))) {
		char *argv[] = {
			exe, (char *)"--node", node, (char *)"--store", (char *)s->store_url, NULL
		};

		snprintf(log, sizeof(log), "%s/logs/policyd-n%d.log", s->dir, i);
		pid = sim_spawn(s, ns, tag, log, argv);
		if (pid < 0)
			return sim_err("cannot start loom-policyd on %s: %s", node,
				       strerror((int)-pid)),
			       -1;
	}
	return 0;
}

static int start_etcd(struct sim *s)
{
	char ul[64], data[400], log[400];
	char *argv[] = { (char *)"etcd",
			 (char *)"--name",
			 (char *)"sim",
			 (char *)"--data-dir",
			 data,
			 (char *)"--listen-client-urls",
			 (char *)ETCD_CLIENT,
			 (char *)"--advertise-client-urls",
			 (char *)ETCD_CLIENT,
			 (char *)"--listen-peer-urls",
			 (char *)"http://" SIM_UL_ADDR ":2380",
			 (char *)"--initial-advertise-peer-urls",
			 (char *)"http://" SIM_UL_ADDR ":2380",
			 (char *)"--initial-cluster",
			 (char *)"sim=http://" SIM_UL_ADDR ":2380",
			 (char *)"--listen-metrics-urls",
			 (char *)"",
			 (char *)"--log-level",
			 (char *)"error",
			 NULL };
	pid_t pid;

	sim_ul_ns(s, ul, sizeof(ul));
	snprintf(data, sizeof(data), "%s/etcd", s->dir);
	snprintf(log, sizeof(log), "%s/logs/etcd.log", s->dir);
	pid = sim_spawn(s, ul, "etcd", log, argv);
	if (pid < 0)
		return sim_err("cannot start etcd: %s", strerror((int)-pid)), -1;
	return 0;
}

/* The Network object through loomctl, retried while etcd is starting. */
static int apply_network(const struct sim *s)
{
	const struct loom_mode *m = sim_mode(s);
	char path[512], *txt;
	json_t *net =
		json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:i, s:{s:s}}}", "apiVersion", "loom.dev/v1",
			  "kind", "Network", "metadata", "name", SIM_NETWORK, "spec", "cidr",
			  SIM_CIDR, "subnetLength", 24, "backend", "type", m->backend);
	char *args[] = { (char *)"apply", (char *)"-f", path, NULL };
	int i, r = -1;

	if (!net)
		return -1;
	/* The mode's settings for a throwaway cluster (short timers). */
	if (m->sim_section)
		json_object_set_new(json_object_get(json_object_get(net, "spec"), "backend"),
				    m->backend, json_loads(m->sim_section, 0, NULL));
	txt = json_dumps(net, JSON_INDENT(2));
	json_decref(net);
	snprintf(path, sizeof(path), "%s/manifests/network.json", s->dir);
	if (!txt || sim_write_file(path, txt, strlen(txt)) < 0) {
		free(txt);
		return -1;
	}
	free(txt);
	for (i = 0; i < 100; i++) {
		char *out = NULL, *errtxt = NULL;
		char ctl[320], store[400];
		char *argv[] = { ctl, store, args[0], args[1], args[2], NULL };

		snprintf(ctl, sizeof(ctl), "%s/loomctl", s->bin);
		snprintf(store, sizeof(store), "--store=%s", s->store_url);
		r = sim_run(NULL, argv, NULL, NULL, 0, &out, &errtxt);
		if (r != 0 && i == 99)
			sim_err("loomctl apply the Network: %s", errtxt);
		free(out);
		free(errtxt);
		if (r == 0)
			return 0;
		sleep_ms(100);
	}
	return -1;
}

void sim_node_dirs(const struct sim *s, int i)
{
	static const char *const nsub[] = { "run", "endpoints", "ipam", "cni" };
	char path[512];

	for (int k = 0; k < 4; k++) {
		snprintf(path, sizeof(path), "%s/nodes/n%d/%s", s->dir, i, nsub[k]);
		sim_mkdirs(path);
	}
}

void sim_state_add_node(struct sim *s, int i)
{
	char ns[64], name[16], addr[32], sub[32];
	json_t *n;

	sim_node_ns(s, i, ns, sizeof(ns));
	snprintf(name, sizeof(name), "n%d", i);
	snprintf(addr, sizeof(addr), "192.0.2.%d", 10 + i);
	snprintf(sub, sizeof(sub), "10.244.%d.0/24", i);
	n = json_pack("{s:s, s:s, s:s}", "name", name, "netns", ns, "address", addr);
	if (n && !sim_mode(s)->lease_file)
		json_object_set_new(n, "subnet", json_string(sub));
	json_array_append_new(json_object_get(s->state, "nodeList"), n);
}

static int up_usage(void)
{
	char modes[128];

	loom_mode_list(false, false, "|", "|", modes, sizeof(modes));
	sim_err("usage: loom-sim up --nodes N --mode %s [--store file|etcd] [--ttl SECONDS] [--tune-host] [--name PREFIX]",
		modes);
	return 2;
}

int sim_up(struct sim *s, int argc, char **argv)
{
	static const char *const subdirs[] = {
		"store", "bpf", "logs", "pids", "pods", "manifests"
	};
	char path[512], ul[64], exe[320], modes[128];
	const struct loom_mode *m;
	bool tune = false;
	int i;

	snprintf(s->store_kind, sizeof(s->store_kind), "file");
	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--tune-host")) {
			tune = true;
			i--;
			continue;
		}
		if (!v)
			return up_usage();
		if (!strcmp(a, "--nodes"))
			s->nodes = atoi(v);
		else if (!strcmp(a, "--mode"))
			snprintf(s->mode, sizeof(s->mode), "%s", v);
		else if (!strcmp(a, "--store"))
			snprintf(s->store_kind, sizeof(s->store_kind), "%s", v);
		else if (!strcmp(a, "--ttl"))
			s->ttl = atoi(v);
		else
			return up_usage();
	}
	if (s->ttl == 0)
		s->ttl = SIM_TTL;
	if (s->ttl < 1 || s->ttl > 3600)
		return sim_err("--ttl: seconds between 1 and 3600"), 2;
	if (s->nodes < 1 || s->nodes > SIM_NODES_MAX)
		return sim_err("--nodes: between 1 and %d", SIM_NODES_MAX), 2;
	if (!s->mode[0])
		return up_usage();
	m = loom_mode_by_name(s->mode);
	if (!m) {
		loom_mode_list(false, false, ", ", " or ", modes, sizeof(modes));
		return sim_err("--mode: unknown mode \"%s\" (%s)", s->mode, modes), 2;
	}
	if (strcmp(s->store_kind, "file") && strcmp(s->store_kind, "etcd"))
		return up_usage();
	if (sim_host_gate(s->nodes, s->mode, s->store_kind, SIM_PODS_PER_NODE_PLAN * s->nodes,
			  tune) < 0)
		return 2;
	snprintf(exe, sizeof(exe), "%s/%s", s->bin, m->cni);
	if (access(exe, X_OK) != 0)
		return sim_err("%s: not found (build it, or set LOOM_BIN)", exe), 1;
	for (i = 0; i < 3; i++) {
		static const char *const need[] = { "loomd", "loomctl", "loom-probe" };

		snprintf(exe, sizeof(exe), "%s/%s", s->bin, need[i]);
		if (access(exe, X_OK) != 0)
			return sim_err("%s: not found (build it, or set LOOM_BIN)", exe), 1;
	}
	sim_ul_ns(s, ul, sizeof(ul));
	if (sim_netns_exists(ul) || access(s->dir, F_OK) == 0)
		return sim_err("a cluster named \"%s\" exists: loom-sim down --name %s first",
			       s->name, s->name),
		       1;

	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/%s", s->dir, subdirs[i]);
		if (sim_mkdirs(path) < 0)
			return sim_err("cannot create %s: %s", path, strerror(errno)), 1;
	}
	for (i = 1; i <= s->nodes; i++)
		sim_node_dirs(s, i);
	/* One bpffs for the cluster: the plugins pin their maps per node below. */
	snprintf(path, sizeof(path), "%s/bpf", s->dir);
	if (mount("bpf", path, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		sim_log("warning: cannot mount a bpffs on %s: %s", path, strerror(errno));
	for (i = 1; i <= s->nodes; i++) {
		snprintf(path, sizeof(path), "%s/bpf/n%d", s->dir, i);
		mkdir(path, 0700);
	}

	if (!strcmp(s->store_kind, "etcd"))
		snprintf(s->store_url, sizeof(s->store_url), "etcd:%s", ETCD_CLIENT);
	else
		snprintf(s->store_url, sizeof(s->store_url), "file:%s/store", s->dir);
	s->state = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:[]}", "name", s->name,
			     "mode", s->mode, "nodes", s->nodes, "ttl", s->ttl, "store",
			     s->store_kind, "storeUrl", s->store_url, "network", SIM_NETWORK,
			     "cidr", SIM_CIDR, "underlay", ul, "nodeList");
	for (i = 1; s->state && i <= s->nodes; i++)
		sim_state_add_node(s, i);
	if (!s->state || sim_write_state(s) < 0)
		return sim_err("cannot write %s/state.json", s->dir), 1;

	sim_log("underlay %s (192.0.2.0/24 on br0)", ul);
	if (make_underlay(s) < 0)
		return 1;
	/* From here on this process lives in the underlay: etcd's address is
	 * reachable from it and from everything it runs. */
	if (sim_enter_netns(ul) < 0)
		return sim_err("cannot enter %s: %s", ul, strerror(errno)), 1;
	if (!strcmp(s->store_kind, "etcd")) {
		sim_log("etcd on %s in %s", ETCD_CLIENT, ul);
		if (start_etcd(s) < 0)
			return 1;
	}
	if (apply_network(s) < 0)
		return 1;
	for (i = 1; i <= s->nodes; i++) {
		char ns[64];

		sim_node_ns(s, i, ns, sizeof(ns));
		sim_log("node n%d: %s 192.0.2.%d", i, ns, 10 + i);
		if (sim_make_node(s, i) < 0 || sim_write_conflist(s, i) < 0 ||
		    sim_start_node_daemons(s, i) < 0)
			return 1;
	}
	printf("cluster %s up: %d node%s, mode %s, store %s\n", s->name, s->nodes,
	       s->nodes == 1 ? "" : "s", s->mode, s->store_url);
	return 0;
}

/* Namespaces of this cluster, whether or not state.json survived:
 * NAME-ul, NAME-nDIGITS, NAME-p-*.  Pods first, the underlay last. */
static int cluster_netns(const struct sim *s, char names[][128], int max)
{
	size_t nl = strlen(s->name);
	DIR *d = opendir("/var/run/netns");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		const char *r = e->d_name + nl + 1;

		if (strncmp(e->d_name, s->name, nl) || e->d_name[nl] != '-')
			continue;
		if (strcmp(r, "ul") && strncmp(r, "p-", 2) &&
		    !(r[0] == 'n' && r[1] && strspn(r + 1, "0123456789") == strlen(r + 1)))
			continue;
		snprintf(names[n++], 128, "%.127s", e->d_name);
	}
	closedir(d);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i + 1 < n; i++) {
			int ka = names[i][nl + 1] == 'p' ? 0 : names[i][nl + 1] == 'n' ? 1 : 2;
			int kb = names[i + 1][nl + 1] == 'p'   ? 0
				 : names[i + 1][nl + 1] == 'n' ? 1
							       : 2;

			if (ka > kb) {
				char t[128];

				memcpy(t, names[i], 128);
				memcpy(names[i], names[i + 1], 128);
				memcpy(names[i + 1], t, 128);
				i = -1;
			}
		}
	return n;
}

/* Every process still in netns ns: ours, since we made the netns. */
static void kill_netns_pids(const char *ns)
{
	char *argv[] = { (char *)"ip", (char *)"netns", (char *)"pids", (char *)ns, NULL };
	char *out = NULL, *p, *save = NULL;

	if (sim_run(NULL, argv, NULL, NULL, 0, &out, NULL) == 0 && out)
		for (p = strtok_r(out, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
			sim_stop_pid((pid_t)atoi(p));
	free(out);
}

int sim_down(struct sim *s)
{
	static char names[1024][128];
	char path[512];
	DIR *d;
	struct dirent *e;
	int n, i, bad = 0;

	/* Recorded pids first: loomd gets its TERM and releases its lease. */
	snprintf(path, sizeof(path), "%s/pids", s->dir);
	if ((d = opendir(path))) {
		char tags[256][64];
		int nt = 0;

		while ((e = readdir(d)) && nt < 256) {
			size_t l = strlen(e->d_name);

			if (l > 4 && l < 64 && !strcmp(e->d_name + l - 4, ".pid")) {
				memcpy(tags[nt], e->d_name, l - 4);
				tags[nt++][l - 4] = '\0';
			}
		}
		closedir(d);
		/* etcd last, so loomd can still release its lease */
		for (i = 0; i < nt; i++)
			if (strcmp(tags[i], "etcd"))
				sim_stop_tag(s, tags[i]);
		for (i = 0; i < nt; i++)
			if (!strcmp(tags[i], "etcd"))
				sim_stop_tag(s, tags[i]);
	}
	n = cluster_netns(s, names, 1024);
	for (i = 0; i < n; i++)
		kill_netns_pids(names[i]);
	for (i = 0; i < n; i++)
		if (ip_cmd("netns", "del", names[i], NULL) < 0)
			bad = 1;
	snprintf(path, sizeof(path), "%s/bpf", s->dir);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		sim_err("cannot unmount %s: %s", path, strerror(errno)), bad = 1;
	if (access(s->dir, F_OK) == 0)
		sim_rm_rf(s->dir);
	if (access(s->dir, F_OK) == 0)
		sim_err("cannot remove %s", s->dir), bad = 1;
	if (!bad)
		printf("cluster %s down\n", s->name);
	return bad;
}

static void lease_subnet(const struct sim *s, int i, char *buf, size_t len)
{
	char path[512], *txt, *p;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/nodes/n%d/run/%s.env", s->dir, i, SIM_NETWORK);
	txt = sim_read_file(path, NULL);
	if (txt && (p = strstr(txt, "LOOM_SUBNET="))) {
		p += strlen("LOOM_SUBNET=");
		snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	}
	free(txt);
}

int sim_status(struct sim *s)
{
	json_t *pods = sim_pods(s), *p;
	size_t k;

	printf("cluster %s: mode %s, store %s, network %s %s\n", s->name, s->mode, s->store_url,
	       SIM_NETWORK, SIM_CIDR);
	printf("%-5s %-16s %-12s %-8s %-16s %s\n", "NODE", "NETNS", "ADDRESS", "LOOMD", "LEASE",
	       "CNI SUBNET");
	for (int i = 1; i <= s->nodes; i++) {
		char ns[64], tag[32], lease[64], addr[32], cni[32];

		sim_node_ns(s, i, ns, sizeof(ns));
		snprintf(tag, sizeof(tag), "loomd-n%d", i);
		snprintf(addr, sizeof(addr), "192.0.2.%d", 10 + i);
		lease_subnet(s, i, lease, sizeof(lease));
		if (!sim_mode(s)->lease_file) /* the conflist's subnet */
			snprintf(cni, sizeof(cni), "10.244.%d.0/24", i);
		else
			snprintf(cni, sizeof(cni), "%s", lease[0] ? lease : "-");
		printf("n%-4d %-16s %-12s %-8s %-16s %s\n", i, ns, addr,
		       sim_pid_alive(sim_read_pid(s, tag)) ? "running" : "stopped",
		       lease[0] ? lease : "none yet", cni);
	}
	printf("\n%-24s %-5s %-16s %s\n", "POD", "NODE", "ADDRESS", "NETNS");
	json_array_foreach(pods, k, p)
		printf("%-24s %-5s %-16s %s\n", json_string_value(json_object_get(p, "pod")),
		       json_string_value(json_object_get(p, "node")),
		       json_string_value(json_object_get(p, "address")),
		       json_string_value(json_object_get(p, "netns")));
	if (json_array_size(pods) == 0)
		printf("(no pods)\n");
	json_decref(pods);
	return 0;
}
