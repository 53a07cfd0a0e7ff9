/* loomctl status [--brief] [-o json]: this node's health, the way
 * `calicoctl node status` and `cilium status` show theirs.
 *
 * One JSON document is built (status_doc) and then printed as it is
 * (-o json: the stable form, documented in README "loomctl status"), as
 * text, or as one line (--brief).  Every check that finds something wrong
 * adds a sentence to "problems"; healthy means none.  --brief exits 1
 * when there is a problem, for probes; the other forms exit 0 whenever
 * they could look (1 only for loomctl's own errors).
 *
 * What is checked (node.h says how each place is found):
 *   components  loomd, loom-policyd: /healthz + /readyz when a metrics
 *               address is known, else the process and what it wrote to
 *               the store; BIRD (bgp): its control socket answers;
 *               antiSpoof: the program pinned under the pin dir
 *   lease       /loom/nodes/<node> and its lease's time left; the lease
 *               file <run dir>/<network>.env holds the same subnet
 *   ipam        per node block: reserved addresses in the IPAM store dir
 *               against the block's capacity
 *   overlay     vxlan: every other node of the network has its FDB entry
 *               on loom.<VNI>; bgp: BIRD's sessions (calicoctl's table)
 *   policy      /loom/policystatus/<node>: revision in force, in sync, the
 *               last apply
 *   conflist    the conflist the runtime reads */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent.h"
#include "controller.h"
#include "model/network.h"
#include "vxlan/mode.h"
#include "bgp/bird.h"
#include "ctl.h"
#include "kernel/bpf_antispoof.h"
#include "kernel/nl.h"
#include "node.h"
#include "usage.h"

#define HTTP_TIMEOUT_MS 2000
#define BIRD_TIMEOUT_MS 2000

struct st {
	struct ctl *c;
	struct ctl_node *n;
	json_t *doc, *problems;
	struct loom_kv *nodes; /* /loom/nodes/ */
	size_t n_nodes;
	bool have_net;
	struct loom_network net; /* valid when have_net */
};

static void problem(struct st *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct st *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(s->problems, json_string(buf));
}

static void trim(char *s)
{
	size_t l = strlen(s);

	while (l && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' '))
		s[--l] = '\0';
}

/* The store value at key, parsed; NULL when absent or unreadable. */
static json_t *store_json(struct st *s, const char *key, int64_t *lease)
{
	struct loom_err err = { 0 };
	struct loom_kv kv = { 0 };
	json_t *j;

	if (!ctl_store(s->c) || loom_store_get(s->c->store, key, &kv, &err) != 1)
		return NULL;
	j = json_loadb(kv.value, kv.value_len, 0, NULL);
	if (lease)
		*lease = kv.lease;
	loom_kv_clear(&kv);
	return j;
}

/* The Network's mode is `name` (plugins/<name>/mode.c).  status shows
 * what each mode joins nodes with, so it names the two that do. */
static bool is_mode(const struct st *s, const char *name)
{
	return s->have_net && !strcmp(s->net.mode->name, name);
}

/* ---- components ---- */

/* A daemon: its endpoints when it serves them (/healthz: its loop turns;
 * /readyz: in sync), else its process. */
static json_t *daemon_component(struct st *s, const char *name, pid_t pid, const char *addr)
{
	json_t *o = json_object();
	char *body = NULL;
	int code;

	json_object_set_new(o, "pid", pid ? json_integer(pid) : json_null());
	json_object_set_new(o, "metricsAddress", addr[0] ? json_string(addr) : json_null());
	if (!addr[0]) {
		json_object_set_new(o, "state", json_string(pid ? "running" : "not running"));
		return o;
	}
	code = ctl_http_get(addr, "/healthz", HTTP_TIMEOUT_MS, &body);
	free(body);
	body = NULL;
	json_object_set_new(o, "alive", json_boolean(code == 200));
	if (code > 0 && code != 200)
		code = -EPROTO; /* /healthz answers 200 or not at all */
	if (code > 0)
		code = ctl_http_get(addr, "/readyz", HTTP_TIMEOUT_MS, &body);
	if (code == 200) {
		json_object_set_new(o, "state", json_string("ready"));
	} else if (code > 0) {
		trim(body);
		json_object_set_new(o, "state", json_string("not ready"));
		json_object_set_new(o, "reason", json_string(body));
		problem(s, "%s: %s", name, body);
	} else {
		json_object_set_new(o, "state", json_string(pid ? "unreachable" : "not running"));
		json_object_set_new(o, "reason", json_string(strerror(-code)));
		problem(s, "%s: %s (%s on %s)", name, pid ? "no answer" : "not running",
			strerror(-code), addr);
	}
	free(body);
	return o;
}

static void components(struct st *s)
{
	struct ctl_node *n = s->n;
	json_t *comp = json_object(), *loomd, *pd, *status;
	char path[PATH_MAX + 16], sub[PATH_MAX];
	struct stat st;

	loomd = daemon_component(s, "loomd", n->loomd_pid, n->loomd_metrics);
	if (!n->loomd_pid && !n->loomd_metrics[0])
		problem(s, "loomd: not running in this network namespace");
	json_object_set_new(comp, "loomd", loomd);

	pd = daemon_component(s, "loom-policyd", n->policyd_pid, n->policyd_metrics);
	snprintf(path, sizeof(path), "/loom/policystatus/%s", n->node);
	status = store_json(s, path, NULL);
	if (!n->policyd_metrics[0]) {
		if (!n->policyd_pid && status)
			problem(s, "loom-policyd: not running in this network namespace");
		else if (!n->policyd_pid)
			json_object_set_new(pd, "state", json_string("not deployed"));
		else if (status && json_is_false(json_object_get(status, "inSync")))
			problem(s, "loom-policyd: not in sync: %s",
				json_string_value(json_object_get(status, "reason"))
					?: "(no reason given)");
	}
	json_decref(status);
	json_object_set_new(comp, "loom-policyd", pd);

	if (is_mode(s, "bgp")) {
		json_t *b = json_pack("{s:s}", "socket", n->bird_socket);
		char *reply = NULL;
		int r = loom_bird_cmd(n->bird_socket, "show status", BIRD_TIMEOUT_MS, &reply);

		if (r == 0) {
			json_object_set_new(b, "state", json_string("up"));
		} else {
			json_object_set_new(b, "state", json_string("down"));
			json_object_set_new(b, "reason", json_string(strerror(-r)));
			problem(s, "BIRD: no answer on %s: %s", n->bird_socket, strerror(-r));
		}
		free(reply);
		json_object_set_new(comp, "bird", b);
	}

	if (loom_antispoof_pin_path(n->pin_dir, sub, sizeof(sub)) == 0) {
		json_t *a = json_pack("{s:s}", "pinDir", sub);

		snprintf(path, sizeof(path), "%s/prog", sub);
		if (!n->anti_spoof)
			json_object_set_new(a, "state", json_string("disabled"));
		else if (stat(path, &st) == 0)
			json_object_set_new(a, "state", json_string("pinned"));
		else
			/* loaded by the plugin with the node's first pod */
			json_object_set_new(a, "state", json_string("not loaded"));
		json_object_set_new(comp, "antiSpoof", a);
	}
	json_object_set_new(s->doc, "components", comp);
}

/* ---- lease and IPAM ---- */

static void add_range(struct st *s, json_t *ranges, const struct loom_prefix *p)
{
	char text[LOOM_PREFIX_STRLEN];
	uint64_t used = 0;
	int r = loomd_block_used_ipam(s->n->data_dir, s->n->network, p, &used);
	uint64_t cap = loomd_block_capacity(p);
	json_t *o = json_pack("{s:s, s:I, s:I}", "range", loom_prefix_fmt(p, text), "used",
			      (json_int_t)used, "capacity",
			      (json_int_t)(cap > INT64_MAX ? INT64_MAX : cap));

	if (r < 0) {
		json_object_set_new(o, "error", json_string(strerror(-r)));
		problem(s, "ipam: cannot read %s/%s: %s", s->n->data_dir, s->n->network,
			strerror(-r));
	} else if (used >= cap) {
		problem(s, "ipam: %s is full (%" PRIu64 " of %" PRIu64 ")", text, used, cap);
	}
	json_array_append_new(ranges, o);
}

static void lease(struct st *s)
{
	struct ctl_node *n = s->n;
	char key[CTL_NAME_MAX + 32], path[PATH_MAX], text[LOOM_PREFIX_STRLEN];
	json_t *l = json_object(), *ranges = json_array(), *node;
	struct loom_prefix file_sub, file_sub6;
	bool have_file = false, have_file6 = false;
	int64_t lease_id = 0;
	char *env = NULL;
	size_t i;

	snprintf(key, sizeof(key), "/loom/nodes/%s", n->node);
	node = store_json(s, key, &lease_id);
	json_object_set_new(l, "subnet", json_null());
	json_object_set_new(l, "expiresInSeconds", json_null());
	if (node) {
		json_object_set(l, "subnet", json_object_get(node, "subnet"));
		json_object_set(l, "address", json_object_get(node, "address"));
		if (json_object_get(node, "subnet6"))
			json_object_set(l, "subnet6", json_object_get(node, "subnet6"));
	}
	if (node && lease_id) {
		struct loom_err err = { 0 };
		int64_t left = 0;

		if (loom_store_lease_ttl(s->c->store, lease_id, &left, &err) == 0)
			json_object_set_new(l, "expiresInSeconds", json_integer(left));
		else
			problem(s, "lease: node %s's lease has expired", n->node);
	} else if (!node) {
		problem(s, "lease: node %s holds no lease in the store (%s)", n->node,
			s->c->url ? s->c->url : "default store");
	}
	if (loomd_leasefile_path(n->run_dir, n->network, path, sizeof(path)) == 0) {
		json_object_set_new(l, "leaseFile", json_string(path));
		if (loomd_leasefile_read(path, &env) == 0) {
			have_file = loomd_leasefile_get_prefix(env, "LOOM_SUBNET", &file_sub) == 0;
			have_file6 = loomd_leasefile_get_prefix(env, "LOOM_IPV6_SUBNET",
								&file_sub6) == 0;
		}
		if (!have_file && s->have_net && s->net.mode->lease_file)
			problem(s, "lease: no subnet in the lease file %s", path);
	}
	if (have_file) {
		const char *sub = json_string_value(json_object_get(l, "subnet"));

		json_object_set_new(l, "leaseFileSubnet",
				    json_string(loom_prefix_fmt(&file_sub, text)));
		if (sub && strcmp(sub, text))
			problem(s, "lease: the lease file says %s, the store %s", text, sub);
		add_range(s, ranges, &file_sub);
	}
	if (have_file6)
		add_range(s, ranges, &file_sub6);
	if (!have_file && !have_file6) {
		/* bridge mode: the ranges of the conflist's ipam section */
		json_t *set, *r;
		size_t k;

		json_array_foreach(json_object_get(json_object_get(n->plugin, "ipam"), "ranges"), i,
				   set)
			json_array_foreach(set, k, r) {
				struct loom_prefix p;
				const char *subnet =
					json_string_value(json_object_get(r, "subnet"));

				if (subnet && loom_prefix_parse(subnet, &p) == 0)
					add_range(s, ranges, &p);
			}
	}
	free(env);
	json_decref(node);
	json_object_set_new(s->doc, "lease", l);
	json_object_set_new(s->doc, "ipam",
			    json_pack("{s:s, s:o}", "dataDir", n->data_dir, "ranges", ranges));
}

/* ---- overlay: vxlan FDB, BGP sessions ---- */

/* The node whose underlay address is `addr`, from /loom/nodes/. */
static const char *node_by_address(struct st *s, const char *addr, json_t **hold)
{
	size_t i;

	for (i = 0; i < s->n_nodes; i++) {
		json_t *o = json_loadb(s->nodes[i].value, s->nodes[i].value_len, 0, NULL);
		const char *a = json_string_value(json_object_get(o, "address"));

		if (a && !strcmp(a, addr)) {
			*hold = o;
			return json_string_value(json_object_get(o, "name"));
		}
		json_decref(o);
	}
	return NULL;
}

static void vxlan_peers(struct st *s)
{
	char dev[IFNAMSIZ];
	json_t *ov, *peers = json_array();
	struct loom_nl *nl = NULL;
	struct loom_link link;
	struct loom_fdb *fdb = NULL;
	struct loom_neigh *neigh = NULL;
	int n_fdb = 0, n_neigh = 0, r;
	size_t i;

	/* the device plugins/vxlan/vtep.c names */
	snprintf(dev, sizeof(dev), "loom.%u", loom_vxlan_section(&s->net)->vni);
	ov = json_pack("{s:s, s:s}", "type", "vxlan", "device", dev);
	r = loom_nl_open(&nl);
	if (r == 0)
		r = loom_link_get(nl, dev, &link);
	if (r == 0) {
		n_fdb = loom_fdb_list(nl, link.ifindex, &fdb);
		r = n_fdb < 0 ? n_fdb : 0;
	}
	if (r == 0) {
		n_neigh = loom_neigh_list(nl, link.ifindex, AF_INET, &neigh);
		r = n_neigh < 0 ? n_neigh : 0;
	}
	if (r < 0)
		problem(s, "overlay: %s: %s", dev, strerror(-r));
	for (i = 0; i < s->n_nodes; i++) {
		json_t *o = json_loadb(s->nodes[i].value, s->nodes[i].value_len, 0, NULL);
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *addr = json_string_value(json_object_get(o, "address"));
		const char *net = json_string_value(json_object_get(o, "network"));
		const char *mac_text = json_string_value(json_object_get(o, "vtepMAC"));
		const char *subnet_text = json_string_value(json_object_get(o, "subnet"));
		struct loom_prefix subnet;
		uint8_t mac[6];
		bool has_mac, has_subnet;
		struct loom_ip ip;
		bool in_fdb = false, in_neigh = false;
		int k;

		if (!name || !addr || !strcmp(name, s->n->node) ||
		    (net && strcmp(net, s->n->network)) || loom_ip_parse(addr, &ip) < 0) {
			json_decref(o);
			continue;
		}
		/* the controller's FDB entry: the node's VTEP MAC to its underlay
		 * address; its neighbour: the node's gateway in its block to that MAC */
		has_mac = mac_text && loomd_mac_parse(mac_text, mac) == 0;
		has_subnet = subnet_text && loom_prefix_parse(subnet_text, &subnet) == 0;
		for (k = 0; k < n_fdb; k++)
			in_fdb = in_fdb || (fdb[k].dst.family && loom_ip_eq(&fdb[k].dst, &ip));
		for (k = 0; has_mac && has_subnet && k < n_neigh; k++)
			in_neigh = in_neigh || (neigh[k].has_mac && !memcmp(neigh[k].mac, mac, 6) &&
						loom_prefix_contains(&subnet, &neigh[k].ip));
		json_array_append_new(peers, json_pack("{s:s, s:s, s:O, s:O, s:b, s:b, s:b}",
						       "node", name, "address", addr, "subnet",
						       json_object_get(o, "subnet") ?: json_null(),
						       "vtepMAC",
						       json_object_get(o, "vtepMAC") ?: json_null(),
						       "fdb", in_fdb, "neighbour", in_neigh,
						       "programmed", in_fdb && in_neigh));
		if (!in_fdb && r == 0)
			problem(s, "overlay: no FDB entry on %s for node %s (%s)", dev, name, addr);
		if (in_fdb && !in_neigh && r == 0)
			problem(s, "overlay: no neighbour entry on %s for node %s's gateway", dev,
				name);
		json_decref(o);
	}
	free(fdb);
	free(neigh);
	loom_nl_close(nl);
	json_object_set_new(ov, "peers", peers);
	json_object_set_new(s->doc, "overlay", ov);
}

/* The protocol lines of `show protocols all`: "name proto table state
 * since info..."; since is one token ("12:00:01.123") or a date and a time. */
static void bgp_line(json_t *sessions, const char *line, const struct loom_bird_proto *p,
		     size_t n_p, struct st *s)
{
	char name[64], proto[16], table[64], state[16], since[64], t2[64], info[256];
	const char *rest;
	int used = 0;
	size_t i;

	if (sscanf(line, "%63s %15s %63s %15s %63s%n", name, proto, table, state, since, &used) <
		    5 ||
	    strcmp(proto, "BGP"))
		return;
	rest = line + used;
	if (strlen(since) == 10 && since[4] == '-' &&
	    sscanf(rest, " %63[0-9:.]%n", t2, &used) == 1) {
		size_t l = strlen(since);

		snprintf(since + l, sizeof(since) - l, " %.40s", t2);
		rest += used;
	}
	while (*rest == ' ' || *rest == '\t')
		rest++;
	snprintf(info, sizeof(info), "%s", rest);
	trim(info);
	for (i = 0; i < n_p; i++) {
		char addr[LOOM_IP_STRLEN];
		json_t *hold = NULL;
		const char *who;
		json_t *e;

		if (strcmp(p[i].name, name))
			continue;
		loom_ip_fmt(&p[i].neighbor, addr);
		who = p[i].has_neighbor ? node_by_address(s, addr, &hold) : NULL;
		e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "protocol", name, "peerAddress",
			      p[i].has_neighbor ? addr : "", "peerType",
			      who ? "node-to-node mesh" : "external", "state", state, "since",
			      since, "info", info);
		if (who)
			json_object_set_new(e, "node", json_string(who));
		json_object_set_new(e, "asNumber", json_integer(p[i].neighbor_as));
		json_array_append_new(sessions, e);
		if (strcmp(p[i].bgp_state, "Established"))
			problem(s, "bgp: session to %s%s%s%s is %s",
				p[i].has_neighbor ? addr : name, who ? " (node " : "",
				who ? who : "", who ? ")" : "",
				p[i].bgp_state[0] ? p[i].bgp_state : state);
		json_decref(hold);
	}
}

static void bgp_sessions(struct st *s)
{
	json_t *ov = json_pack("{s:s, s:s}", "type", "bgp", "socket", s->n->bird_socket);
	json_t *sessions = json_array();
	struct loom_bird_proto *p = NULL;
	size_t n_p = 0;
	char *reply = NULL, *line, *save = NULL;

	if (loom_bird_cmd(s->n->bird_socket, "show protocols all", BIRD_TIMEOUT_MS, &reply) == 0 &&
	    loom_bird_status_parse(reply, &p, &n_p) == 0) {
		for (line = strtok_r(reply, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (line[0] != ' ' && line[0] != '\t')
				bgp_line(sessions, line, p, n_p, s);
	}
	free(p);
	free(reply);
	json_object_set_new(ov, "sessions", sessions);
	json_object_set_new(s->doc, "overlay", ov);
}

/* ---- policy ---- */

static void policy(struct st *s)
{
	char key[CTL_NAME_MAX + 32], when[32];
	json_t *j, *o;
	time_t at;
	struct tm tm;

	snprintf(key, sizeof(key), "/loom/policystatus/%s", s->n->node);
	j = store_json(s, key, NULL);
	if (!j) {
		json_object_set_new(s->doc, "policy", json_null());
		return;
	}
	at = (time_t)json_integer_value(json_object_get(j, "syncedAt"));
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&at, &tm));
	o = json_pack("{s:O, s:b, s:s, s:O, s:O, s:O, s:O, s:O}", "revision",
		      json_object_get(j, "revision") ?: json_null(), "inSync",
		      json_is_true(json_object_get(j, "inSync")), "lastApply", when, "lastApplyMs",
		      json_object_get(j, "lastSyncMs") ?: json_null(), "policies",
		      json_object_get(j, "policies") ?: json_null(), "rules",
		      json_object_get(j, "rules") ?: json_null(), "setElements",
		      json_object_get(j, "elements") ?: json_null(), "pods",
		      json_object_get(j, "pods") ?: json_null());
	if (json_object_get(j, "reason"))
		json_object_set(o, "reason", json_object_get(j, "reason"));
	json_object_set_new(s->doc, "policy", o);
	json_decref(j);
}

/* ---- the document ---- */

static json_t *status_doc(struct ctl *c, struct ctl_node *n)
{
	struct st s = { .c = c, .n = n };
	struct loom_err err = { 0 };
	char key[CTL_NAME_MAX + 32];
	json_t *net;

	s.doc = json_object();
	s.problems = json_array();
	json_object_set_new(s.doc, "node", json_string(n->node));
	json_object_set_new(s.doc, "network", json_string(n->network));
	if (ctl_store(c)) {
		json_object_set_new(s.doc, "store", json_string(c->url));
		if (loom_store_list(c->store, "/loom/nodes/", &s.nodes, &s.n_nodes, NULL, &err) < 0)
			problem(&s, "store: %s", err.msg);
	} else {
		problem(&s, "store: cannot open %s", c->url);
	}
	snprintf(key, sizeof(key), "/loom/config/%s", n->network);
	net = store_json(&s, key, NULL);
	if (net) {
		char *text = json_dumps(net, JSON_COMPACT);

		s.have_net = text && loom_network_parse(text, strlen(text), &s.net, &err) == 0 &&
			     s.net.mode;
		free(text);
	}
	json_decref(net);
	json_object_set_new(s.doc, "backend",
			    s.have_net ? json_string(s.net.mode->backend) : json_null());
	if (!s.have_net)
		problem(&s, "network: no Network %s in the store", n->network);
	components(&s);
	lease(&s);
	/* how nodes are joined is each mode's own: its peers' table */
	if (is_mode(&s, "vxlan"))
		vxlan_peers(&s);
	else if (is_mode(&s, "bgp"))
		bgp_sessions(&s);
	else
		json_object_set_new(s.doc, "overlay", json_null());
	policy(&s);
	json_object_set_new(s.doc, "conflist",
			    n->conflist[0] ? json_string(n->conflist) : json_null());
	if (!n->conflist[0])
		problem(&s, "conflist: no conflist with a loom plugin in %s", n->cni_dir);
	json_object_set_new(s.doc, "healthy", json_boolean(json_array_size(s.problems) == 0));
	json_object_set_new(s.doc, "problems", s.problems);
	loom_kvs_free(s.nodes, s.n_nodes);
	return s.doc;
}

/* ---- printing ---- */

static const char *str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static void print_brief(const json_t *doc)
{
	const json_t *p, *comp = json_object_get(doc, "components"),
			 *l = json_object_get(doc, "lease");
	const char *k;
	json_t *v;
	size_t i;

	printf("%s %s:", str(doc, "node"),
	       json_is_true(json_object_get(doc, "healthy")) ? "healthy" : "unhealthy");
	if (json_array_size(json_object_get(doc, "problems"))) {
		json_array_foreach(json_object_get(doc, "problems"), i, p)
			printf("%s %s", i ? ";" : "", json_string_value(p));
		putchar('\n');
		return;
	}
	json_object_foreach((json_t *)comp, k, v)
		printf(" %s %s,", k, str(v, "state"));
	printf(" lease %s", str(l, "subnet"));
	if (json_is_integer(json_object_get(l, "expiresInSeconds")))
		printf(" (%llds)",
		       (long long)json_integer_value(json_object_get(l, "expiresInSeconds")));
	putchar('\n');
}

static void print_text(const json_t *doc)
{
	const json_t *comp = json_object_get(doc, "components"), *l = json_object_get(doc, "lease");
	const json_t *ov = json_object_get(doc, "overlay"), *pol = json_object_get(doc, "policy");
	const json_t *e;
	const char *k;
	json_t *v;
	size_t i;

	printf("Node %s, network %s, backend %s, store %s\n\n", str(doc, "node"),
	       str(doc, "network"), str(doc, "backend"), str(doc, "store"));
	printf("Components:\n");
	json_object_foreach((json_t *)comp, k, v) {
		printf("  %-14s %-12s", k, str(v, "state"));
		if (json_is_integer(json_object_get(v, "pid")))
			printf(" pid %lld",
			       (long long)json_integer_value(json_object_get(v, "pid")));
		if (json_is_string(json_object_get(v, "metricsAddress")))
			printf(" http://%s", str(v, "metricsAddress"));
		if (json_is_string(json_object_get(v, "socket")))
			printf(" %s", str(v, "socket"));
		if (json_is_string(json_object_get(v, "pinDir")))
			printf(" %s", str(v, "pinDir"));
		if (json_is_string(json_object_get(v, "reason")))
			printf(" (%s)", str(v, "reason"));
		putchar('\n');
	}
	printf("\nLease:     %s", str(l, "subnet"));
	if (json_is_integer(json_object_get(l, "expiresInSeconds")))
		printf(", expires in %llds",
		       (long long)json_integer_value(json_object_get(l, "expiresInSeconds")));
	printf(" (lease file %s: %s)\n", str(l, "leaseFile"), str(l, "leaseFileSubnet"));
	printf("IPAM:      %s\n", str(json_object_get(doc, "ipam"), "dataDir"));
	json_array_foreach(json_object_get(json_object_get(doc, "ipam"), "ranges"), i, e)
		printf("  %-20s %lld/%lld in use\n", str(e, "range"),
		       (long long)json_integer_value(json_object_get(e, "used")),
		       (long long)json_integer_value(json_object_get(e, "capacity")));
	if (ov && !strcmp(str(ov, "type"), "vxlan")) {
		printf("\nOverlay peers (%s):\n", str(ov, "device"));
		printf("+-----------------+-----------------+--------------------+-------------------+------------+\n");
		printf("| %-15s | %-15s | %-18s | %-17s | %-10s |\n", "NODE", "ADDRESS", "SUBNET",
		       "VTEP MAC", "FDB+NEIGH");
		printf("+-----------------+-----------------+--------------------+-------------------+------------+\n");
		json_array_foreach(json_object_get(ov, "peers"), i, e)
			printf("| %-15s | %-15s | %-18s | %-17s | %-10s |\n", str(e, "node"),
			       str(e, "address"), str(e, "subnet"), str(e, "vtepMAC"),
			       json_is_true(json_object_get(e, "programmed")) ? "programmed"
			       : json_is_true(json_object_get(e, "fdb"))      ? "no neigh"
									      : "missing");
		printf("+-----------------+-----------------+--------------------+-------------------+------------+\n");
	} else if (ov) {
		printf("\nIPv4 BGP status (BIRD on %s):\n", str(ov, "socket"));
		printf("+-----------------+-------------------+-------+---------------------+-------------+\n");
		printf("|  %-14s |  %-16s | %-5s | %-19s | %-11s |\n", "PEER ADDRESS", "PEER TYPE",
		       "STATE", "SINCE", "INFO");
		printf("+-----------------+-------------------+-------+---------------------+-------------+\n");
		json_array_foreach(json_object_get(ov, "sessions"), i, e)
			printf("| %-15s | %-17s | %-5s | %-19s | %-11s |\n", str(e, "peerAddress"),
			       str(e, "peerType"), str(e, "state"), str(e, "since"),
			       str(e, "info"));
		printf("+-----------------+-------------------+-------+---------------------+-------------+\n");
	}
	if (json_is_object(pol))
		printf("\nPolicy:    revision %lld %s, last apply %s (%.2f ms); %lld policies, %lld rules, %lld set elements\n",
		       (long long)json_integer_value(json_object_get(pol, "revision")),
		       json_is_true(json_object_get(pol, "inSync")) ? "in force" : "(not in sync)",
		       str(pol, "lastApply"),
		       json_number_value(json_object_get(pol, "lastApplyMs")),
		       (long long)json_integer_value(json_object_get(pol, "policies")),
		       (long long)json_integer_value(json_object_get(pol, "rules")),
		       (long long)json_integer_value(json_object_get(pol, "setElements")));
	else
		printf("\nPolicy:    no status from loom-policyd\n");
	printf("Conflist:  %s\n\n", str(doc, "conflist"));
	if (json_is_true(json_object_get(doc, "healthy"))) {
		printf("Healthy\n");
		return;
	}
	printf("Unhealthy:\n");
	json_array_foreach(json_object_get(doc, "problems"), i, e)
		printf("  - %s\n", json_string_value(e));
}

/* The status document, for diags (NULL on a discovery error). */
json_t *ctl_status_doc(struct ctl *c, struct ctl_node *n);
json_t *ctl_status_doc(struct ctl *c, struct ctl_node *n)
{
	return status_doc(c, n);
}

int ctl_status(struct ctl *c, int argc, char **argv)
{
	struct ctl_node n;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	bool brief = false, json = false;
	int n_rest = 0, i, rc = 1;
	json_t *doc;

	if (!rest || ctl_node_flags(&n, argc, argv, 1, rest, &n_rest) < 0)
		goto out;
	for (i = 0; i < n_rest; i++) {
		if (!strcmp(rest[i], "--brief"))
			brief = true;
		else if ((!strcmp(rest[i], "-o") || !strcmp(rest[i], "--output")) &&
			 i + 1 < n_rest && !strcmp(rest[i + 1], "json"))
			json = true, i++;
		else if (!strcmp(rest[i], "-ojson") || !strcmp(rest[i], "-o=json") ||
			 !strcmp(rest[i], "--output=json"))
			json = true;
		else {
			ctl_error(
				"status: unknown argument \"%s\" (--brief, -o json, or a discovery flag)",
				rest[i]);
			goto out;
		}
	}
	if (ctl_node_discover(c, &n) < 0)
		goto out;
	doc = status_doc(c, &n);
	if (json) {
		char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (text)
			puts(text);
		free(text);
		rc = brief && !json_is_true(json_object_get(doc, "healthy"));
	} else if (brief) {
		print_brief(doc);
		rc = !json_is_true(json_object_get(doc, "healthy"));
	} else {
		print_text(doc);
		rc = 0;
	}
	json_decref(doc);
	ctl_node_free(&n);
out:
	free(rest);
	return rc;
}
