/* ipMasq and macspoofchk as set elements in loom's own nftables tables
 * (layout in firewall.h).
 *
 * Hot path: ADD and DEL send only element commands, one batch, and never
 * read the ruleset.  Only when that batch fails (first pod in this netns:
 * the tables do not exist yet) is it sent again behind the idempotent
 * table setup (only the missing table's when the other exists: see
 * setups_needed()), as one transaction too.  The setup ends with "flush chain"
 * + "add rule" inside that transaction, so however many ADDs race to
 * create the tables, each chain ends up holding its rule exactly once.
 *
 * Idempotence without reading the kernel first: "add element" of an
 * existing element succeeds (the kernel refuses only a clash in data), and
 * "delete element" of a missing one fails the whole batch, so DEL writes
 * "add X; delete X": gone whether it was there or not.
 *
 * ADD deletes nothing on purpose.  Closing a netfilter socket whose
 * transaction deleted anything waits for the kernel's deferred cleanup
 * (nft_rcv_nl_event -> nf_tables_trans_destroy_flush_work -> an RCU grace
 * period): measured here 5-20 ms against 0.2 ms for the batch itself.  So a
 * retried ADD keeps the comment already on an element (a stale one from an
 * earlier pod with the same address stays until that pod's DEL or purge),
 * and DEL offers loom_fw_del_deferred() to overlap that wait with the veth
 * deletion, which waits for grace periods of its own. */
#include "pod/firewall.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "kernel/nft.h"

#define TABLE "loom_bridge"
#define INET "inet " TABLE
#define BRIDGE "bridge " TABLE

/* NFTNL_UDATA_COMMENT_MAXLEN: nft refuses longer comments */
#define TAG_MAX 128
#define IFNAME_MAX 15

static const char SETUP_INET[] =
	"add table " INET "\n"
	"add set " INET " masq4 { type ipv4_addr; }\n"
	"add set " INET " masq6 { type ipv6_addr; }\n"
	"add set " INET " local4 { type ipv4_addr . ipv4_addr; flags interval; }\n"
	"add set " INET " local6 { type ipv6_addr . ipv6_addr; flags interval; }\n"
	"add chain " INET
	" postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	"flush chain " INET " postrouting\n"
	/* the reference: no masquerade inside the pod's subnet nor to multicast */
	"add rule " INET " postrouting ip saddr @masq4 ip daddr != 224.0.0.0/4 "
	"ip saddr . ip daddr != @local4 masquerade\n"
	"add rule " INET " postrouting ip6 saddr @masq6 ip6 daddr != ff00::/8 "
	"ip6 saddr . ip6 daddr != @local6 masquerade\n";

/* Priority -300 (the reference's nat PREROUTING slot): before any
 * bridge filter of the user's sees the frame. */
static const char SETUP_BRIDGE[] =
	"add table " BRIDGE "\n"
	"add set " BRIDGE " spoof_ifaces { type ifname; }\n"
	"add set " BRIDGE " allowed { type ifname . ether_addr; }\n"
	"add chain " BRIDGE
	" prerouting { type filter hook prerouting priority -300; policy accept; }\n"
	"flush chain " BRIDGE " prerouting\n"
	"add rule " BRIDGE
	" prerouting iifname @spoof_ifaces iifname . ether saddr != @allowed counter drop\n";

/* The sets purge looks through, per table. */
static const struct {
	const char *family, *name;
} OUR_SETS[] = {
	{ "inet", "masq4" },  { "inet", "masq6" },          { "inet", "local4" },
	{ "inet", "local6" }, { "bridge", "spoof_ifaces" }, { "bridge", "allowed" },
};

/* Names go into nft's text syntax between double quotes, which cannot
 * escape a quote: accept printable ASCII without quotes, backslashes and
 * blanks (CNI names are far narrower than that anyway). */
static int check_name(const char *field, const char *s, size_t max, struct loom_err *err)
{
	size_t i, len;

	if (!s || !*s)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: missing", field);
	len = strlen(s);
	if (len > max)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s \"%.64s\": longer than %zu bytes", field, s, max);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"%s \"%.64s\": character 0x%02x cannot go into an nftables rule",
				field, s, c);
	}
	return 0;
}

/* "<network>/<container_id>/<ifname>"; when that is too long for a
 * comment, its head plus a hash of the whole (same input, same tag). */
static int make_tag(const char *network, const char *cid, const char *ifname, char tag[TAG_MAX + 1],
		    struct loom_err *err)
{
	char full[1024];
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	int n;

	if (check_name("network name", network, 256, err) < 0 ||
	    check_name("container ID", cid, 512, err) < 0 ||
	    check_name("ifname", ifname, IFNAME_MAX, err) < 0)
		return -1;
	n = snprintf(full, sizeof(full), "%s/%s/%s", network, cid, ifname);
	if (n <= TAG_MAX) {
		memcpy(tag, full, (size_t)n + 1);
		return 0;
	}
	for (const char *c = full; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 0x100000001b3ULL;
	}
	snprintf(tag, TAG_MAX + 1, "%.*s~%016llx", TAG_MAX - 17, full, (unsigned long long)h);
	return 0;
}

/* "aa:bb:cc:dd:ee:ff" in any case -> lower case, as nft prints it. */
static int norm_mac(const char *s, char out[18], struct loom_err *err)
{
	size_t i;

	if (!s || strlen(s) != 17)
		goto bad;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			goto bad;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[17] = '\0';
	return 0;
bad:
	return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
			    "mac \"%.32s\": not an Ethernet address aa:bb:cc:dd:ee:ff",
			    s ? s : "(none)");
}

/* What one pod is in nft terms, checked and formatted once. */
struct pod_keys {
	char tag[TAG_MAX + 1];
	char mac[18];
	bool has_mac;
};

static int check_pod(const struct loom_fw_pod *p, bool need_mac, struct pod_keys *k,
		     struct loom_err *err)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	if (!p)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "firewall: no pod");
	if (make_tag(p->network, p->container_id, p->ifname, k->tag, err) < 0)
		return -1;
	if (p->n_ips && !p->ips)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "firewall: %zu addresses but no array",
				    p->n_ips);
	for (i = 0; i < p->n_ips; i++) {
		const struct loom_prefix *a = &p->ips[i];

		if ((a->ip.family != AF_INET && a->ip.family != AF_INET6) ||
		    a->len > loom_ip_bits(&a->ip))
			return loom_err_set(err, LOOM_ERR_INTERNAL,
					    "firewall: address %zu is not an IP prefix", i);
	}
	if (p->n_exempt > LOOM_FW_EXEMPT_MAX || (p->n_exempt && !p->exempt))
		return loom_err_set(err, LOOM_ERR_INTERNAL, "firewall: %zu exempt prefixes",
				    p->n_exempt);
	for (i = 0; i < p->n_exempt; i++) {
		const struct loom_prefix *a = &p->exempt[i];

		if ((a->ip.family != AF_INET && a->ip.family != AF_INET6) ||
		    a->len > loom_ip_bits(&a->ip) || !loom_prefix_is_network(a))
			return loom_err_set(err, LOOM_ERR_INTERNAL,
					    "firewall: exempt prefix %zu is not a network", i);
	}
	if (p->spoofchk) {
		if (check_name("host veth", p->host_veth, IFNAME_MAX, err) < 0)
			return -1;
		if (p->mac) {
			if (norm_mac(p->mac, k->mac, err) < 0)
				return -1;
			k->has_mac = true;
		} else if (need_mac) {
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "macspoofchk: the interface's MAC is unknown");
		}
	}
	return 0;
}

typedef void (*emit_fn)(FILE *f, const char *set, const char *key, const char *tag);

#define LOCALS_MAX (1 + LOOM_FW_EXEMPT_MAX)

static bool covers(const struct loom_prefix *outer, const struct loom_prefix *inner)
{
	return outer->ip.family == inner->ip.family && outer->len <= inner->len &&
	       loom_prefix_contains(outer, &inner->ip);
}

/* The destinations `a`'s traffic is not masqueraded to: its own subnet and
 * the exempt prefixes of its family.  The local sets are interval sets of
 * concatenations, where the kernel refuses overlapping elements: a prefix
 * covered by another is dropped, so the pod subnet inside a cluster CIDR
 * becomes the cluster CIDR's one element.  Deterministic, so DEL computes
 * the very elements ADD made. */
static size_t local_prefixes(const struct loom_fw_pod *p, const struct loom_prefix *a,
			     struct loom_prefix out[LOCALS_MAX])
{
	struct loom_prefix cand[LOCALS_MAX];
	size_t i, j, n = 0, m = 0;

	cand[n].ip = loom_prefix_first(a);
	cand[n++].len = a->len;
	for (i = 0; i < p->n_exempt && n < LOCALS_MAX; i++)
		if (p->exempt[i].ip.family == a->ip.family)
			cand[n++] = p->exempt[i];
	for (i = 0; i < n; i++) {
		bool drop = false;

		for (j = 0; j < n && !drop; j++)
			if (j != i && covers(&cand[j], &cand[i]) &&
			    /* equal prefixes: keep the first */
			    (cand[j].len != cand[i].len || j < i))
				drop = true;
		if (!drop)
			out[m++] = cand[i];
	}
	return m;
}

/* Hand each of the pod's elements (set, key) to `emit`. */
static void pod_elements(FILE *f, const struct loom_fw_pod *p, const struct pod_keys *k,
			 emit_fn emit)
{
	const char *tag = k->tag;
	char key[2 * LOOM_PREFIX_STRLEN + 40];
	size_t i;

	if (p->masq) {
		for (i = 0; i < p->n_ips; i++) {
			const struct loom_prefix *a = &p->ips[i];
			struct loom_prefix locals[LOCALS_MAX];
			char ip[LOOM_IP_STRLEN], pfx[LOOM_PREFIX_STRLEN];
			bool v4 = a->ip.family == AF_INET;
			size_t l, n = local_prefixes(p, a, locals);

			loom_ip_fmt(&a->ip, ip);
			emit(f, v4 ? INET " masq4" : INET " masq6", ip, tag);
			for (l = 0; l < n; l++) {
				snprintf(key, sizeof(key), "%s . %s", ip,
					 loom_prefix_fmt(&locals[l], pfx));
				emit(f, v4 ? INET " local4" : INET " local6", key, tag);
			}
		}
	}
	if (p->spoofchk) {
		snprintf(key, sizeof(key), "\"%s\"", p->host_veth);
		emit(f, BRIDGE " spoof_ifaces", key, tag);
		if (k->has_mac) {
			snprintf(key, sizeof(key), "\"%s\" . %s", p->host_veth, k->mac);
			emit(f, BRIDGE " allowed", key, tag);
		}
	}
}

static void emit_add(FILE *f, const char *set, const char *key, const char *tag)
{
	fprintf(f, "add element %s { %s comment \"%s\" }\n", set, key, tag);
}

static void emit_remove(FILE *f, const char *set, const char *key, const char *tag)
{
	(void)tag;
	fprintf(f, "add element %s { %s }\n", set, key);
	fprintf(f, "delete element %s { %s }\n", set, key);
}

static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *s = text; (s = strstr(s, line)); s += len)
		if ((s == text || s[-1] == '\n') && (s[len] == '\n' || !s[len]))
			return true;
	return false;
}

/* Which setups a failed body needs.  A pod with both features, where one
 * table already exists (the first macspoofchk pod after ipMasq ones, or
 * the reverse): only the missing table's.  Re-sending the setup of a
 * table that exists leaves the kernel update transactions for its chain
 * and sets, and closing the context then waits a grace period (~10 ms
 * here); a failed body whose tables all exist still gets them all (it may
 * be a repair). */
static void setups_needed(struct loom_nft *n, const struct loom_fw_pod *p, bool *inet, bool *bridge)
{
	bool have_inet, have_bridge;

	*inet = p->masq;
	*bridge = p->spoofchk;
	if (!p->masq || !p->spoofchk || loom_nft_run(n, "list tables", NULL) < 0)
		return;
	have_inet = has_line(loom_nft_output(n), "table " INET);
	have_bridge = has_line(loom_nft_output(n), "table " BRIDGE);
	if (have_inet != have_bridge) {
		*inet = !have_inet;
		*bridge = !have_bridge;
	}
}

/* Run `body` on a new context; if it fails, setup + body as one
 * transaction.  The context is handed out open (NULL when nothing was
 * sent): see loom_fw_del_deferred(). */
static int run_with_setup(const struct loom_fw_pod *p, const char *body, struct loom_nft **ctx,
			  struct loom_err *err)
{
	_cleanup_nft_ struct loom_nft *n = NULL;
	_cleanup_free_ char *full = NULL;
	bool inet, bridge;

	*ctx = NULL;
	if (!*body)
		return 0;
	if (loom_nft_new(0, &n, err) < 0)
		return -1;
	if (loom_nft_run(n, body, NULL) < 0) {
		setups_needed(n, p, &inet, &bridge);
		if (asprintf(&full, "%s%s%s", inet ? SETUP_INET : "", bridge ? SETUP_BRIDGE : "",
			     body) < 0) {
			full = NULL;
			return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM,
					      "firewall: out of memory");
		}
		if (loom_nft_run(n, full, err) < 0)
			return -1;
	}
	*ctx = LOOM_TAKE_PTR(n);
	return 0;
}

static int build_and_run(const struct loom_fw_pod *p, const struct pod_keys *k, emit_fn emit,
			 struct loom_nft **ctx, struct loom_err *err)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	FILE *f;

	*ctx = NULL;
	f = open_memstream(&body, &len);
	if (!f)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno, "firewall: out of memory");
	pod_elements(f, p, k, emit);
	if (fclose(f) != 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno, "firewall: out of memory");
	return run_with_setup(p, body, ctx, err);
}

int loom_fw_add(const struct loom_fw_pod *p, struct loom_err *err)
{
	_cleanup_nft_ struct loom_nft *n = NULL;
	struct pod_keys k;

	if (check_pod(p, true, &k, err) < 0)
		return -1;
	if (build_and_run(p, &k, emit_add, &n, err) < 0) {
		loom_err_prefix(err, p->masq && p->spoofchk ? "ipMasq/macspoofchk"
				     : p->masq              ? "ipMasq"
							    : "macspoofchk");
		return -1;
	}
	return 0;
}

int loom_fw_del_deferred(const struct loom_fw_pod *p, struct loom_nft **pending,
			 struct loom_err *err)
{
	struct pod_keys k;

	*pending = NULL;
	if (check_pod(p, false, &k, err) < 0)
		return -1;
	if (build_and_run(p, &k, emit_remove, pending, err) < 0)
		return -1;
	/* the MAC pair's key is unknown: find it by its comment */
	if (p->spoofchk && !k.has_mac)
		return loom_fw_purge(p->network, p->container_id, p->ifname, err);
	return 0;
}

int loom_fw_del(const struct loom_fw_pod *p, struct loom_err *err)
{
	_cleanup_nft_ struct loom_nft *n = NULL;

	return loom_fw_del_deferred(p, &n, err);
}

/* ---- purge: by comment ---- */

static bool our_set(const char *family, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(OUR_SETS) / sizeof(OUR_SETS[0]); i++)
		if (!strcmp(OUR_SETS[i].family, family) && !strcmp(OUR_SETS[i].name, name))
			return true;
	return false;
}

/* {"VERB": {"element": {"family", "table", "name", "elem": [...]}}} */
static int append_cmd(json_t *cmds, const char *verb, const char *family, const char *set,
		      json_t *vals)
{
	json_t *c = json_pack("{s:{s:{s:s, s:s, s:s, s:O}}}", verb, "element", "family", family,
			      "table", TABLE, "name", set, "elem", vals);

	return c ? json_array_append_new(cmds, c) : -1;
}

/* Collect, from one `list table` answer, the elements tagged `tag` into
 * add+delete commands. */
static int collect(json_t *listing, const char *tag, json_t *cmds)
{
	json_t *items = json_object_get(listing, "nftables"), *item;
	size_t i;

	if (!json_is_array(items))
		return -1;
	json_array_foreach(items, i, item) {
		json_t *set = json_object_get(item, "set"), *elems, *e, *vals;
		const char *family, *name;
		size_t j;

		if (!json_is_object(set))
			continue;
		family = json_string_value(json_object_get(set, "family"));
		name = json_string_value(json_object_get(set, "name"));
		elems = json_object_get(set, "elem");
		if (!family || !name || !our_set(family, name) || !json_is_array(elems))
			continue;
		vals = json_array();
		if (!vals)
			return -1;
		json_array_foreach(elems, j, e) {
			/* an element with a comment is {"elem": {"val": V, "comment": C}} */
			json_t *inner = json_object_get(e, "elem");
			const char *c = json_string_value(json_object_get(inner, "comment"));

			if (c && !strcmp(c, tag))
				json_array_append(vals, json_object_get(inner, "val"));
		}
		if (json_array_size(vals) && (append_cmd(cmds, "add", family, name, vals) < 0 ||
					      append_cmd(cmds, "delete", family, name, vals) < 0)) {
			json_decref(vals);
			return -1;
		}
		json_decref(vals);
	}
	return 0;
}

/* Which of loom's two tables exist, from a JSON `list tables`. */
static int our_tables(const char *listing, bool *inet, bool *bridge)
{
	json_t *root = json_loads(listing, 0, NULL), *item;
	json_t *items = json_object_get(root, "nftables");
	size_t i;

	*inet = *bridge = false;
	if (!json_is_array(items)) {
		json_decref(root);
		return -1;
	}
	json_array_foreach(items, i, item) {
		json_t *t = json_object_get(item, "table");
		const char *family = json_string_value(json_object_get(t, "family"));
		const char *name = json_string_value(json_object_get(t, "name"));

		if (!family || !name || strcmp(name, TABLE) != 0)
			continue;
		if (!strcmp(family, "inet"))
			*inet = true;
		else if (!strcmp(family, "bridge"))
			*bridge = true;
	}
	json_decref(root);
	return 0;
}

int loom_fw_purge_deferred(const char *network, const char *container_id, const char *ifname,
			   struct loom_nft **pending, struct loom_err *err)
{
	_cleanup_nft_ struct loom_nft *n = NULL;
	_cleanup_free_ char *batch = NULL;
	char tag[TAG_MAX + 1];
	json_t *cmds, *root;
	bool have[2];
	static const char *const list[2] = { "list table " INET, "list table " BRIDGE };
	size_t i;
	int r;

	*pending = NULL;
	if (make_tag(network, container_id, ifname, tag, err) < 0)
		return -1;
	if (loom_nft_new(LOOM_NFT_JSON, &n, err) < 0)
		return -1;
	/* `list table` of a missing table fails like any other error: ask
	 * which exist first (names only, cheap) */
	if (loom_nft_run(n, "list tables", err) < 0)
		return -1;
	if (our_tables(loom_nft_output(n), &have[0], &have[1]) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL,
				    "firewall: cannot read nftables' list of tables");
	cmds = json_array();
	if (!cmds)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "firewall: out of memory");
	for (i = 0; i < 2; i++) {
		json_t *listing;

		if (!have[i])
			continue;
		if (loom_nft_run(n, list[i], err) < 0) {
			json_decref(cmds);
			return -1;
		}
		listing = json_loads(loom_nft_output(n), 0, NULL);
		r = listing ? collect(listing, tag, cmds) : -1;
		json_decref(listing);
		if (r < 0) {
			json_decref(cmds);
			return loom_err_set(err, LOOM_ERR_INTERNAL,
					    "firewall: cannot read nftables' listing of %s",
					    list[i] + strlen("list table "));
		}
	}
	if (!json_array_size(cmds)) {
		json_decref(cmds);
		return 0;
	}
	root = json_pack("{s:o}", "nftables", cmds);
	batch = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!batch)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "firewall: out of memory");
	if (loom_nft_run(n, batch, err) < 0)
		return -1;
	/* only a context that deleted something is worth deferring */
	*pending = LOOM_TAKE_PTR(n);
	return 0;
}

int loom_fw_purge(const char *network, const char *container_id, const char *ifname,
		  struct loom_err *err)
{
	_cleanup_nft_ struct loom_nft *n = NULL;

	return loom_fw_purge_deferred(network, container_id, ifname, &n, err);
}
