/* loom-sim pod add / pod del / exec: a pod is a netns wired by its node's
 * CNI plugin, the way a container runtime on that node would. */
#include "sim.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POD_PORTS_MAX 16

struct pod_req {
	char ns[64], name[64];
	json_t *labels; /* owned */
	json_t *ports;  /* owned: [{name, containerPort, protocol}] */
	bool serve;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Kubernetes names are DNS labels; keep netns names to [a-z0-9-]. */
static void sanitise(const char *in, char *out, size_t len)
{
	size_t i, k = 0;

	for (i = 0; in[i] && k + 1 < len; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[k++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '-';
	}
	out[k] = '\0';
}

static bool k8s_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

static int split_pod(const char *arg, char *ns, char *name)
{
	const char *slash = strchr(arg, '/');
	const char *n = slash ? slash + 1 : arg;

	snprintf(ns, 64, "%.*s", slash ? (int)(slash - arg) : 7, slash ? arg : "default");
	snprintf(name, 64, "%s", n);
	if (!k8s_name_ok(ns) || !k8s_name_ok(name) || strlen(n) > 63 || (slash && slash - arg > 63))
		return sim_err("\"%s\": want NAMESPACE/NAME (lowercase letters, digits, '-', '.')",
			       arg),
		       -1;
	return 0;
}

static void pod_netns(const struct sim *s, const char *ns, const char *name, char *buf, size_t len)
{
	char a[64], b[64];

	sanitise(ns, a, sizeof(a));
	sanitise(name, b, sizeof(b));
	snprintf(buf, len, "%s-p-%s-%s", s->name, a, b);
}

static void pod_record_path(const struct sim *s, const char *ns, const char *name, char *buf,
			    size_t len)
{
	snprintf(buf, len, "%s/pods/%s_%s.json", s->dir, ns, name);
}

static int cmp_pod(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "pod")),
		      json_string_value(json_object_get(*(json_t *const *)b, "pod")));
}

json_t *sim_pods(const struct sim *s)
{
	char path[512];
	json_t *arr = json_array(), *items[1024];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/pods", s->dir);
	if (!arr || !(d = opendir(path)))
		return arr;
	while ((e = readdir(d)) && n < 1024) {
		size_t l = strlen(e->d_name);
		char f[800];
		json_t *p;

		if (l < 6 || strcmp(e->d_name + l - 5, ".json"))
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		p = json_load_file(f, 0, NULL);
		if (p && json_is_string(json_object_get(p, "pod")))
			items[n++] = p;
		else
			json_decref(p);
	}
	closedir(d);
	qsort(items, n, sizeof(items[0]), cmp_pod);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, items[i]);
	return arr;
}

/* The plugin's config as a runtime derives it from the node's conflist. */
static char *plugin_conf(const struct sim *s, int node, char *type, size_t tlen)
{
	char path[512];
	json_t *list, *plugin;
	char *txt;

	snprintf(path, sizeof(path), "%s/nodes/n%d/cni/10-loom.conflist", s->dir, node);
	list = json_load_file(path, 0, NULL);
	plugin = json_array_get(json_object_get(list, "plugins"), 0);
	if (!plugin) {
		json_decref(list);
		return NULL;
	}
	json_object_set(plugin, "cniVersion", json_object_get(list, "cniVersion"));
	json_object_set(plugin, "name", json_object_get(list, "name"));
	snprintf(type, tlen, "%s", json_string_value(json_object_get(plugin, "type")));
	txt = json_dumps(plugin, JSON_COMPACT);
	json_decref(list);
	return txt;
}

/* Run the node's plugin for CMD; *out = its stdout.  Returns its status. */
static int cni(const struct sim *s, int node, const char *cmd, const char *ns, const char *name,
	       char **out)
{
	char nodens[64], podns[128], type[64], exe[320], cid[160];
	char e_cmd[64], e_cid[200], e_netns[200], e_path[700], e_args[300];
	char *env[] = { e_cmd, e_cid, e_netns, (char *)"CNI_IFNAME=eth0", e_path, e_args, NULL };
	char *conf = plugin_conf(s, node, type, sizeof(type)), *errtxt = NULL;
	int r;

	if (!conf)
		return sim_err("node n%d has no network config", node), -1;
	sim_node_ns(s, node, nodens, sizeof(nodens));
	pod_netns(s, ns, name, podns, sizeof(podns));
	snprintf(cid, sizeof(cid), "sim-%s-%s", ns, name);
	snprintf(exe, sizeof(exe), "%s/%s", s->bin, type);
	snprintf(e_cmd, sizeof(e_cmd), "CNI_COMMAND=%s", cmd);
	snprintf(e_cid, sizeof(e_cid), "CNI_CONTAINERID=%s", cid);
	snprintf(e_netns, sizeof(e_netns), "CNI_NETNS=/var/run/netns/%s", podns);
	snprintf(e_path, sizeof(e_path), "CNI_PATH=%s:/usr/lib/cni:/opt/cni/bin", s->bin);
	snprintf(e_args, sizeof(e_args),
		 "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;"
		 "K8S_POD_INFRA_CONTAINER_ID=%s",
		 ns, name, cid);
	{
		char *argv[] = { exe, NULL };

		r = sim_run(nodens, argv, env, conf, strlen(conf), out, &errtxt);
	}
	if (r != 0)
		sim_err("%s %s on n%d for %s/%s failed (exit %d): %s%s", type, cmd, node, ns, name,
			r, out && *out ? *out : "", errtxt ? errtxt : "");
	free(errtxt);
	free(conf);
	return r;
}

static int wait_lease(const struct sim *s, int node)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/nodes/n%d/run/%s.env", s->dir, node, SIM_NETWORK);
	for (int i = 0; i < 150; i++) {
		if (access(path, R_OK) == 0)
			return 0;
		sleep_ms(100);
	}
	return sim_err("node n%d has no lease file %s after 15 s (see %s/logs/loomd-n%d.log)", node,
		       path, s->dir, node),
	       -1;
}

/* Whether Namespace `name` is in the store already: applying it again would
 * replace it, and with it the labels a user gave it (policies select on them). */
static bool ns_exists(const struct sim *s, const char *name)
{
	char *args[] = { (char *)"get", (char *)"ns", (char *)"-o", (char *)"json", NULL };
	char *out = NULL;
	json_t *doc, *items, *it;
	bool found = false;
	size_t i;

	if (sim_loomctl(s, args, NULL, &out) < 0)
		return false;
	doc = out ? json_loads(out, 0, NULL) : NULL;
	free(out);
	if (!doc)
		return false;
	items = json_object_get(doc, "items");
	if (json_is_array(items)) {
		json_array_foreach(items, i, it) {
			const char *n = json_string_value(
				json_object_get(json_object_get(it, "metadata"), "name"));

			found = found || (n && strcmp(n, name) == 0);
		}
	} else {
		const char *n = json_string_value(
			json_object_get(json_object_get(doc, "metadata"), "name"));

		found = n && strcmp(n, name) == 0;
	}
	json_decref(doc);
	return found;
}

static int apply_pod(const struct sim *s, const struct pod_req *r, int node)
{
	char nodename[16], path[512];
	json_t *nsobj, *pod;
	char *a, *b, *txt;
	char *args[] = { (char *)"apply", (char *)"-f", path, NULL };
	int rc;

	snprintf(nodename, sizeof(nodename), "n%d", node);
	nsobj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
			  "metadata", "name", r->ns);
	pod = json_pack("{s:s, s:s, s:{s:s, s:s, s:O}, s:{s:s, s:[{s:s, s:s, s:O}]}}", "apiVersion",
			"v1", "kind", "Pod", "metadata", "name", r->name, "namespace", r->ns,
			"labels", r->labels, "spec", "nodeName", nodename, "containers", "name",
			"probe", "image", "loom-probe", "ports", r->ports);
	a = nsobj ? json_dumps(nsobj, JSON_INDENT(2)) : NULL;
	b = pod ? json_dumps(pod, JSON_INDENT(2)) : NULL;
	json_decref(nsobj);
	json_decref(pod);
	/* one List: the manifest parser takes JSON documents whole */
	if (a && ns_exists(s, r->ns)) {
		free(a);
		a = strdup("");
	}
	if (!a || !b ||
	    asprintf(&txt,
		     "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n%s%s\n%s]}\n", a,
		     a[0] ? "," : "", b) < 0) {
		free(a);
		free(b);
		return -1;
	}
	free(a);
	free(b);
	snprintf(path, sizeof(path), "%s/manifests/pod-%s-%s.json", s->dir, r->ns, r->name);
	rc = sim_write_file(path, txt, strlen(txt));
	free(txt);
	if (rc < 0)
		return -1;
	return sim_loomctl(s, args, NULL, NULL);
}

static int start_probe(const struct sim *s, const struct pod_req *r, const char *podns,
		       const char *tag)
{
	char exe[320], log[700], ready[700];
	char *argv[2 * POD_PORTS_MAX + 16];
	char nums[POD_PORTS_MAX][16];
	int n = 0, k = 0;
	size_t i;
	json_t *p;

	snprintf(exe, sizeof(exe), "%s/loom-probe", s->bin);
	snprintf(log, sizeof(log), "%s/logs/%s.log", s->dir, tag);
	snprintf(ready, sizeof(ready), "%s/pids/%s.ready", s->dir, tag);
	unlink(ready);
	argv[n++] = exe;
	argv[n++] = (char *)"serve";
	argv[n++] = (char *)"--ready-file";
	argv[n++] = ready;
	argv[n++] = (char *)"--tcp";
	argv[n++] = (char *)"80";
	argv[n++] = (char *)"--tcp";
	argv[n++] = (char *)"81";
	argv[n++] = (char *)"--udp";
	argv[n++] = (char *)"80";
	argv[n++] = (char *)"--udp";
	argv[n++] = (char *)"81";
	json_array_foreach(r->ports, i, p) {
		int num = (int)json_integer_value(json_object_get(p, "containerPort"));

		if (num == 80 || num == 81)
			continue;
		snprintf(nums[k], sizeof(nums[k]), "%d", num);
		argv[n++] = !strcmp(json_string_value(json_object_get(p, "protocol")), "UDP")
				    ? (char *)"--udp"
				    : (char *)"--tcp";
		argv[n++] = nums[k++];
	}
	argv[n] = NULL;
	if (sim_spawn(s, podns, tag, log, argv) < 0)
		return sim_err("cannot start loom-probe in %s", podns), -1;
	for (int t = 0; t < 50; t++) {
		if (access(ready, F_OK) == 0)
			return unlink(ready), 0;
		sleep_ms(100);
	}
	return sim_err("loom-probe in %s did not come up (see %s)", podns, log), -1;
}

static int parse_port(const char *v, json_t *ports)
{
	char name[64], proto[8];
	int num;
	char *copy = strdup(v), *c1, *c2, *end;

	if (!copy)
		return -1;
	c1 = strchr(copy, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2)
		goto bad;
	*c1 = *c2 = '\0';
	snprintf(name, sizeof(name), "%s", copy);
	sanitise(c1 + 1, proto, sizeof(proto));
	num = (int)strtol(c2 + 1, &end, 10);
	if (*end || num < 1 || num > 65535 || (strcmp(proto, "tcp") && strcmp(proto, "udp")) ||
	    !name[0] || json_array_size(ports) >= POD_PORTS_MAX)
		goto bad;
	free(copy);
	return json_array_append_new(ports, json_pack("{s:s, s:i, s:s}", "name", name,
						      "containerPort", num, "protocol",
						      !strcmp(proto, "tcp") ? "TCP" : "UDP"));
bad:
	free(copy);
	return sim_err("--port %s: want NAME:tcp|udp:NUMBER (at most %d)", v, POD_PORTS_MAX), -1;
}

static int pod_del(struct sim *s, int argc, char **argv, bool quiet);

static int pod_add(struct sim *s, int argc, char **argv)
{
	struct pod_req r = { .serve = true };
	char podns[160], tag[160], path[512], addr[64] = "";
	char *out = NULL;
	json_t *res, *rec = NULL;
	int node, i, rc = 1;

	if (argc < 3)
		return sim_err("usage: loom-sim pod add NODE NS/NAME [--label K=V]... "
			       "[--port NAME:PROTO:NUM]... [--no-serve]"),
		       2;
	node = sim_node_index(s, argv[1]);
	if (node < 0)
		return sim_err("no node \"%s\" (n1..n%d)", argv[1], s->nodes), 2;
	if (split_pod(argv[2], r.ns, r.name) < 0)
		return 2;
	r.labels = json_object();
	r.ports = json_array();
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--no-serve")) {
			r.serve = false;
		} else if (!strcmp(argv[i], "--label") && i + 1 < argc) {
			char *eq = strchr(argv[++i], '=');

			if (!eq || eq == argv[i]) {
				sim_err("--label %s: want KEY=VALUE", argv[i]);
				goto out;
			}
			*eq = '\0';
			json_object_set_new(r.labels, argv[i], json_string(eq + 1));
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			if (parse_port(argv[++i], r.ports) < 0)
				goto out;
		} else {
			sim_err("pod add: unexpected \"%s\"", argv[i]);
			goto out;
		}
	}
	pod_netns(s, r.ns, r.name, podns, sizeof(podns));
	pod_record_path(s, r.ns, r.name, path, sizeof(path));
	if (access(path, F_OK) == 0 || sim_netns_exists(podns)) {
		sim_err("pod %s/%s exists", r.ns, r.name);
		goto out;
	}
	{
		char *a1[] = { (char *)"ip", (char *)"netns", (char *)"add", podns, NULL };
		char *a2[] = { (char *)"ip",  (char *)"-n", podns,        (char *)"link",
			       (char *)"set", (char *)"lo", (char *)"up", NULL };

		if (sim_run(NULL, a1, NULL, NULL, 0, NULL, NULL) != 0 ||
		    sim_run(NULL, a2, NULL, NULL, 0, NULL, NULL) != 0) {
			sim_err("cannot create netns %s", podns);
			goto out;
		}
	}
	/* The record first: a failure below still leaves what `pod del` needs. */
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "pod", "", "namespace", r.ns,
			"name", r.name, "node", "", "netns", podns, "address", "", "labels",
			r.labels, "ports", r.ports);
	{
		char pod[160], nn[16];

		snprintf(pod, sizeof(pod), "%s/%s", r.ns, r.name);
		snprintf(nn, sizeof(nn), "n%d", node);
		json_object_set_new(rec, "pod", json_string(pod));
		json_object_set_new(rec, "node", json_string(nn));
	}
	{
		char *txt = json_dumps(rec, JSON_INDENT(2));

		sim_write_file(path, txt, strlen(txt));
		free(txt);
	}
	if (apply_pod(s, &r, node) < 0)
		goto out_rec;
	if (sim_mode(s)->lease_file && wait_lease(s, node) < 0)
		goto out_rec;
	if (cni(s, node, "ADD", r.ns, r.name, &out) != 0)
		goto out_rec;
	res = json_loads(out, 0, NULL);
	{
		json_t *ip0 = json_array_get(json_object_get(res, "ips"), 0);
		const char *a = json_string_value(json_object_get(ip0, "address"));

		if (a)
			snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(a, "/"), a);
	}
	json_decref(res);
	if (!addr[0]) {
		sim_err("the plugin's result has no address: %s", out);
		goto out_rec;
	}
	json_object_set_new(rec, "address", json_string(addr));
	{
		char *txt = json_dumps(rec, JSON_INDENT(2));

		sim_write_file(path, txt, strlen(txt));
		free(txt);
	}
	snprintf(tag, sizeof(tag), "probe-%s_%s", r.ns, r.name);
	if (r.serve && start_probe(s, &r, podns, tag) < 0)
		goto out_rec;
	printf("%s\n", addr);
	rc = 0;
out_rec:
	if (rc != 0) {
		/* undo the half-made pod: CNI DEL, netns, record, object */
		char which[140];
		char *dargs[] = { (char *)"del", which, NULL };

		snprintf(which, sizeof(which), "%s/%s", r.ns, r.name);
		pod_del(s, 2, dargs, true);
	}
	json_decref(rec);
out:
	free(out);
	json_decref(r.labels);
	json_decref(r.ports);
	return rc;
}

static int pod_del(struct sim *s, int argc, char **argv, bool quiet)
{
	char ns[64], name[64], path[512], podns[160], tag[160];
	const char *which = argc == 3 ? argv[2] : argc == 2 ? argv[1] : NULL;
	json_t *rec;
	int node = -1, bad = 0;

	if (!which)
		return sim_err("usage: loom-sim pod del [NODE] NS/NAME"), 2;
	if (split_pod(which, ns, name) < 0)
		return 2;
	pod_record_path(s, ns, name, path, sizeof(path));
	pod_netns(s, ns, name, podns, sizeof(podns));
	rec = json_load_file(path, 0, NULL);
	if (!rec && !sim_netns_exists(podns))
		return sim_err("no pod %s/%s", ns, name), 1;
	if (rec)
		node = sim_node_index(s, json_string_value(json_object_get(rec, "node")) ?: "");
	if (argc == 3 && node > 0 && sim_node_index(s, argv[1]) != node)
		return sim_err("pod %s/%s is on n%d, not %s", ns, name, node, argv[1]), 1;
	snprintf(tag, sizeof(tag), "probe-%s_%s", ns, name);
	sim_stop_tag(s, tag);
	if (node > 0 && cni(s, node, "DEL", ns, name, NULL) != 0)
		bad = 1;
	{
		char *a[] = { (char *)"ip", (char *)"netns", (char *)"del", podns, NULL };

		if (sim_netns_exists(podns) && sim_run(NULL, a, NULL, NULL, 0, NULL, NULL) != 0)
			bad = 1;
	}
	{
		char ctl[320], store[400], *errtxt = NULL;
		char *args[] = { ctl, store, (char *)"delete", (char *)"pod", name, (char *)"-n",
				 ns,  NULL };

		/* an object already gone (an add that failed early) is no error */
		snprintf(ctl, sizeof(ctl), "%s/loomctl", s->bin);
		snprintf(store, sizeof(store), "--store=%s", s->store_url);
		if (sim_run(NULL, args, NULL, NULL, 0, NULL, &errtxt) != 0 &&
		    !(errtxt && strstr(errtxt, "not found"))) {
			sim_err("loomctl delete pod %s -n %s: %s", name, ns, errtxt ? errtxt : "");
			bad = 1;
		}
		free(errtxt);
	}
	unlink(path);
	json_decref(rec);
	if (!bad && !quiet)
		printf("pod %s/%s deleted\n", ns, name);
	return bad;
}

int sim_pod(struct sim *s, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "add"))
		return pod_add(s, argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "del") || !strcmp(argv[1], "delete")))
		return pod_del(s, argc - 1, argv + 1, false);
	return sim_err("usage: loom-sim pod add|del ..."), 2;
}

int sim_exec(struct sim *s, int argc, char **argv)
{
	char ns[64], name[64], podns[160];
	char **v;
	int i = 2;

	if (argc < 3 || split_pod(argv[1], ns, name) < 0)
		return sim_err("usage: loom-sim exec NS/NAME -- CMD..."), 2;
	if (!strcmp(argv[2], "--"))
		i = 3;
	if (i >= argc)
		return sim_err("usage: loom-sim exec NS/NAME -- CMD..."), 2;
	pod_netns(s, ns, name, podns, sizeof(podns));
	if (!sim_netns_exists(podns))
		return sim_err("no pod %s/%s", ns, name), 1;
	v = calloc((size_t)(argc - i) + 5, sizeof(*v));
	if (!v)
		return 1;
	v[0] = (char *)"ip";
	v[1] = (char *)"netns";
	v[2] = (char *)"exec";
	v[3] = podns;
	for (int k = 0; i + k < argc; k++)
		v[4 + k] = argv[i + k];
	execvp("ip", v);
	sim_err("cannot run ip netns exec: %s", strerror(errno));
	free(v);
	return 127;
}
