/* The policy engine: each NetworkPolicy semantic rule as a table row
 * (pods of namespaces x and y, one policy set, one connection, the
 * verdict), checked twice: against the compiled rules (the batch read
 * into the stand-in table, tests/policy/nftsim.c, and the packet walked
 * through it) and against explain (the model's own evaluator).  Plus the
 * incremental contract: a relabel changes elements only, a policy change
 * rewrites only its chains. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nftsim.h"
#include "policy.h"

static void put(struct pol_engine *e, const char *key, const char *json)
{
	struct loom_err err = { 0 };

	if (pol_engine_put(e, key, json, &err) < 0)
		fail_msg("%s: %s", key, err.msg);
}

static void pod(struct pol_engine *e, const char *ns, const char *name, const char *ip,
		const char *labels)
{
	char key[128], v[1024];

	snprintf(key, sizeof(key), "/loom/pods/%s/%s", ns, name);
	snprintf(
		v, sizeof(v),
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
		"\"labels\":%s},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"ports\":["
		"{\"name\":\"web\",\"containerPort\":%d},{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]}]}}",
		name, ns, labels, name[0] == 'b' ? 8080 : 80);
	put(e, key, v);
	snprintf(key, sizeof(key), "/loom/endpoints/n1/%s-%s/eth0", ns, name);
	snprintf(v, sizeof(v), "{\"ips\":[\"%s/24\"],\"podNamespace\":\"%s\",\"podName\":\"%s\"}",
		 ip, ns, name);
	put(e, key, v);
}

static struct pol_engine *cluster(void)
{
	struct pol_engine *e = pol_engine_new("n1");

	put(e, "/loom/namespaces/x",
	    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\",\"labels\":{\"ns\":\"x\"}}}");
	put(e, "/loom/namespaces/y",
	    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"y\",\"labels\":{\"ns\":\"y\"}}}");
	pod(e, "x", "a", "10.0.0.1", "{\"pod\":\"a\"}");
	pod(e, "x", "b", "10.0.0.2", "{\"pod\":\"b\"}");
	pod(e, "y", "a", "10.0.1.1", "{\"pod\":\"a\"}");
	pod(e, "y", "c", "10.0.1.3", "{\"pod\":\"c\",\"tier\":\"db\"}");
	return e;
}

#define NP(ns, spec)                                                                                        \
	"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\"," \
	"\"namespace\":\"" ns "\"},\"spec\":" spec "}"

struct row {
	const char *what, *ns, *policy, *src, *dst, *port;
	int allowed;
};

static const struct row rows[] = {
	{ "no policy: all allowed", "x", NULL, "y/a", "x/a", "80/TCP", 1 },
	{ "empty podSelector, ingress []: deny all ingress", "x",
	  NP("x", "{\"podSelector\":{},\"ingress\":[]}"), "x/b", "x/a", "80/TCP", 0 },
	{ "policyTypes default: ingress only, egress untouched", "x",
	  NP("x", "{\"podSelector\":{}}"), "x/a", "y/a", "80/TCP", 1 },
	{ "unselected pod untouched", "x",
	  NP("x", "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}}}"), "y/a", "x/b", "80/TCP",
	  1 },
	{ "empty rule allows all", "x", NP("x", "{\"podSelector\":{},\"ingress\":[{}]}"), "y/c",
	  "x/a", "99/UDP", 1 },
	{ "podSelector peer: own namespace only", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}}}]}]}"),
	  "y/a", "x/b", "80/TCP", 0 },
	{ "podSelector peer: same namespace allowed", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}}}]}]}"),
	  "x/a", "x/b", "80/TCP", 1 },
	{ "namespaceSelector alone", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}}}]}]}"),
	  "y/c", "x/a", "80/TCP", 1 },
	{ "pod AND namespace selector: both must match", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}},\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}}}]}]}"),
	  "y/c", "x/a", "80/TCP", 0 },
	{ "matchExpressions In", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"db\",\"web\"]}]}}]}]}"),
	  "y/c", "x/a", "80/TCP", 1 },
	{ "matchExpressions NotIn", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchExpressions\":[{\"key\":\"pod\",\"operator\":\"NotIn\",\"values\":[\"c\"]}]}}]}]}"),
	  "y/c", "x/a", "80/TCP", 0 },
	{ "matchExpressions Exists", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}}]}]}"),
	  "y/a", "x/a", "80/TCP", 0 },
	{ "matchExpressions DoesNotExist", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}}]}]}"),
	  "y/a", "x/a", "80/TCP", 1 },
	{ "ipBlock inside cidr", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.1.0/24\",\"except\":[\"10.0.1.3/32\"]}}]}]}"),
	  "y/a", "x/a", "80/TCP", 1 },
	{ "ipBlock except", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.1.0/24\",\"except\":[\"10.0.1.3/32\"]}}]}]}"),
	  "y/c", "x/a", "80/TCP", 0 },
	{ "port number, TCP default", "x",
	  NP("x", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80}]}]}"), "y/a", "x/a",
	  "80/TCP", 1 },
	{ "port number: UDP not allowed by a TCP port", "x",
	  NP("x", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80}]}]}"), "y/a", "x/a",
	  "80/UDP", 0 },
	{ "endPort range", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":8000,\"endPort\":8100}]}]}"),
	  "y/a", "x/b", "8080/TCP", 1 },
	{ "endPort range: outside", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":8000,\"endPort\":8100}]}]}"),
	  "y/a", "x/a", "80/TCP", 0 },
	{ "named port resolved per pod (b: 8080)", "x",
	  NP("x", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"web\"}]}]}"), "y/a",
	  "x/b", "8080/TCP", 1 },
	{ "named port resolved per pod (a: 80, not 8080)", "x",
	  NP("x", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"web\"}]}]}"), "y/a",
	  "x/a", "8080/TCP", 0 },
	{ "named UDP port", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"dns\",\"protocol\":\"UDP\"}]}]}"),
	  "y/a", "x/a", "53/UDP", 1 },
	{ "SCTP", "x",
	  NP("x",
	     "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":9,\"protocol\":\"SCTP\"}]}]}"),
	  "y/a", "x/a", "9/SCTP", 1 },
	{ "egress: default deny", "x", NP("x", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}"),
	  "x/a", "y/a", "80/TCP", 0 },
	{ "egress present: Egress type implied", "x",
	  NP("x",
	     "{\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.1.0/24\"}}]}]}"),
	  "x/a", "y/a", "80/TCP", 1 },
	{ "egress to ipBlock: other address denied", "x",
	  NP("x",
	     "{\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.1.0/24\"}}]}]}"),
	  "x/a", "x/b", "80/TCP", 0 },
	{ "egress named port resolved against the destination", "y",
	  NP("y", "{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":\"web\"}]}]}"), "y/a",
	  "x/b", "8080/TCP", 1 },
};

static const char *addr_of(const char *pod)
{
	static const char *const addrs[][2] = {
		{ "x/a", "10.0.0.1" },
		{ "x/b", "10.0.0.2" },
		{ "y/a", "10.0.1.1" },
		{ "y/c", "10.0.1.3" },
	};

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		if (!strcmp(addrs[i][0], pod))
			return addrs[i][1];
	fail_msg("no pod %s", pod);
	return NULL;
}

static void test_semantics(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pol_engine *e = cluster();
		struct loom_err err = { 0 };
		char *out = NULL, key[64], *b, *end, why[512] = "";
		struct pir sim = { 0 };
		struct nftsim_pkt pk;
		int rc;

		if (rows[i].policy) {
			snprintf(key, sizeof(key), "/loom/networkpolicies/%s/p", rows[i].ns);
			put(e, key, rows[i].policy);
		}
		b = pol_engine_flush(e);
		assert_int_equal(nftsim_apply(&sim, b, why, sizeof(why)), 0);
		pk.saddr = addr_of(rows[i].src);
		pk.daddr = addr_of(rows[i].dst);
		pk.dport = (int)strtol(rows[i].port, &end, 10);
		pk.proto = pol_proto_parse(end + 1);
		rc = nftsim_eval(&sim, &pk, why, sizeof(why));
		if (rc < 0 || rc != rows[i].allowed)
			fail_msg("%s: want %s, the compiled rules say %s %s", rows[i].what,
				 rows[i].allowed ? "allowed" : "denied", rc ? "allowed" : "denied",
				 why);
		rc = pol_explain(e, rows[i].src, rows[i].dst, rows[i].port, &out, &err);
		if (rc < 0 || (rc == 0) != rows[i].allowed)
			fail_msg("%s: want %s, explain says rc %d: %s%s", rows[i].what,
				 rows[i].allowed ? "allowed" : "denied", rc, out ? out : "",
				 err.msg);
		free(out);
		free(b);
		pir_clear(&sim);
		pol_engine_free(e);
	}
}

static void test_policies_add_up(void **state)
{
	struct pol_engine *e = cluster();
	char *out = NULL;
	struct loom_err err = { 0 };

	(void)state;
	put(e, "/loom/networkpolicies/x/p1",
	    NP("x", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80}]}]}"));
	put(e, "/loom/networkpolicies/x/p2",
	    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p2\",\"namespace\":\"x\"},\"spec\":{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":81}]}]}}");
	assert_int_equal(pol_explain(e, "y/a", "x/a", "80/TCP", &out, &err), 0);
	free(out);
	assert_int_equal(pol_explain(e, "y/a", "x/a", "81/TCP", &out, &err), 0);
	free(out);
	assert_int_equal(pol_explain(e, "y/a", "x/a", "82/TCP", &out, &err), 1);
	assert_non_null(
		strstr(out, "denied: pod x/a is isolated for ingress by policies [x/p, x/p2]"));
	free(out);
	pol_engine_free(e);
}

static void test_malformed_skipped(void **state)
{
	struct pol_engine *e = cluster();
	struct loom_err err = { 0 };
	char *b;

	(void)state;
	put(e, "/loom/networkpolicies/x/good", NP("x", "{\"podSelector\":{},\"ingress\":[]}"));
	assert_int_equal(
		pol_engine_put(
			e, "/loom/networkpolicies/x/bad",
			NP("x",
			   "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":70000}]}]}"),
			&err),
		-1);
	assert_non_null(strstr(err.msg, "port"));
	assert_int_equal(pol_engine_put(e, "/loom/networkpolicies/x/junk", "{not json", &err), -1);
	b = pol_engine_flush(e);
	assert_non_null(strstr(b, "comment \"x/good ingress\""));
	assert_null(strstr(b, "x/bad"));
	free(b);
	pol_engine_free(e);
}

/* One object must not cost unbounded rules: peers x ports x families and
 * except lists are capped, and the policy is skipped whole, with a reason
 * naming the field. */
static void test_bounds(void **state)
{
	struct pol_engine *e = cluster();
	struct loom_err err = { 0 };
	char *spec = NULL, *v = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&spec, &len);
	char *b;

	(void)state;
	/* 40 peers x 60 ports x 2 families = 4800 nft rules */
	fputs("{\"podSelector\":{},\"ingress\":[{\"from\":[", f);
	for (int i = 0; i < 40; i++)
		fprintf(f, "%s{\"podSelector\":{\"matchLabels\":{\"n\":\"%d\"}}}", i ? "," : "", i);
	fputs("],\"ports\":[", f);
	for (int i = 0; i < 60; i++)
		fprintf(f, "%s{\"port\":%d}", i ? "," : "", 1000 + i);
	fputs("]}]}", f);
	fclose(f);
	assert_true(asprintf(&v, NP("x", "%s"), spec) > 0);
	assert_int_equal(pol_engine_put(e, "/loom/networkpolicies/x/big", v, &err), -1);
	assert_non_null(strstr(err.msg, "at most 4096"));
	free(v);
	free(spec);
	spec = NULL;
	f = open_memstream(&spec, &len);
	fputs("{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[",
	      f);
	for (int i = 0; i < 65; i++)
		fprintf(f, "%s\"10.0.%d.0/24\"", i ? "," : "", i);
	fputs("]}}]}]}", f);
	fclose(f);
	assert_true(asprintf(&v, NP("x", "%s"), spec) > 0);
	assert_int_equal(pol_engine_put(e, "/loom/networkpolicies/x/exc", v, &err), -1);
	assert_non_null(strstr(err.msg, "except: at most 64"));
	free(v);
	free(spec);
	/* filed under x but naming y */
	assert_int_equal(pol_engine_put(e, "/loom/networkpolicies/x/p",
					NP("y", "{\"podSelector\":{}}"), &err),
			 -1);
	assert_non_null(strstr(err.msg, "metadata.namespace"));
	b = pol_engine_flush(e);
	assert_null(strstr(b, "chain inet loom policy/"));
	free(b);
	pol_engine_free(e);
}

static void test_incremental(void **state)
{
	struct pol_engine *e = cluster();
	char *b;

	(void)state;
	put(e, "/loom/networkpolicies/x/p",
	    NP("x",
	       "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}"));
	b = pol_engine_flush(e);
	assert_non_null(strstr(b, "delete table inet loom"));
	free(b);
	b = pol_engine_flush(e);
	assert_string_equal(b, ""); /* nothing changed, nothing sent */
	free(b);
	/* relabel x/b to pod=a: leaves the peer set, enters the target set and
	 * becomes isolated: elements only */
	pod(e, "x", "b", "10.0.0.2", "{\"pod\":\"a\"}");
	b = pol_engine_flush(e);
	assert_null(strstr(b, "chain"));
	assert_null(strstr(b, "rule"));
	assert_non_null(strstr(b, "add element inet loom vin4 { 10.0.0.2 : jump pods/x/ingress }"));
	assert_non_null(strstr(b, "delete element"));
	free(b);
	/* a pod in another namespace changing touches nothing */
	pod(e, "y", "c", "10.0.1.3", "{\"pod\":\"z\"}");
	b = pol_engine_flush(e);
	assert_string_equal(b, "");
	free(b);
	/* a changed policy rewrites its own chain and its namespace's */
	put(e, "/loom/networkpolicies/x/p",
	    NP("x", "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[{}]}"));
	b = pol_engine_flush(e);
	assert_non_null(strstr(b, "flush chain inet loom policy/x/p/ingress"));
	assert_null(strstr(b, "delete table"));
	assert_non_null(strstr(b, "delete set")); /* the pod=b peer set is unused now */
	free(b);
	/* delete: chains, sets and elements go */
	pol_engine_del(e, "/loom/networkpolicies/x/p");
	b = pol_engine_flush(e);
	assert_non_null(strstr(b, "delete chain inet loom pods/x/ingress"));
	assert_non_null(strstr(b, "delete element inet loom vin4"));
	/* the kernel refuses (EBUSY) to delete a chain still jumped to: the
	 * namespace chain goes before the policy chain it references */
	assert_non_null(strstr(b, "delete chain inet loom policy/x/p/ingress"));
	assert_true(strstr(b, "delete chain inet loom pods/x/ingress") <
		    strstr(b, "delete chain inet loom policy/x/p/ingress"));
	free(b);
	struct pol_counts c;
	pol_engine_counts(e, &c);
	assert_int_equal(c.elements, 0);
	assert_int_equal(c.chains, 2);
	pol_engine_free(e);
}

/* Chain names a person can read, within nft's limits: a long policy name
 * is cut and marked with its hash, two names alike up to the cut still
 * make two chains, and the same name always makes the same chain. */
static void test_chain_names(void **state)
{
	struct pol_engine *e = cluster();
	char name[2][254], key[600], *b, *c1, *c2;

	(void)state;
	for (int k = 0; k < 2; k++) {
		/* four 62-char labels and a last one: 253 characters */
		memset(name[k], 'a', 253);
		for (int i = 62; i < 253; i += 63)
			name[k][i] = '.';
		name[k][252] = k ? 'b' : 'c';
		name[k][253] = '\0';
		snprintf(key, sizeof(key), "/loom/networkpolicies/x/%s", name[k]);
		char *v = NULL;
		assert_true(
			asprintf(
				&v,
				"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
				"\"metadata\":{\"name\":\"%s\",\"namespace\":\"x\"},\"spec\":{\"podSelector\":{}}}",
				name[k]) > 0);
		put(e, key, v);
		free(v);
	}
	b = pol_engine_flush(e);
	assert_non_null(b);
	assert_non_null(strstr(b, "add chain inet loom pods/x/ingress"));
	c1 = strstr(b, "add chain inet loom policy/x/aaaa");
	assert_non_null(c1);
	c2 = strstr(c1 + 1, "add chain inet loom policy/x/aaaa");
	assert_non_null(c2);
	c1 += strlen("add chain inet loom ");
	c2 += strlen("add chain inet loom ");
	assert_true(strcspn(c1, " ") < 128);
	assert_true(strcspn(c1, " ") == strcspn(c2, " "));
	assert_memory_not_equal(c1, c2, strcspn(c1, " "));
	assert_non_null(memchr(c1, '_', strcspn(c1, " ")));
	free(b);
	pol_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semantics),
		cmocka_unit_test(test_policies_add_up),
		cmocka_unit_test(test_malformed_skipped),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_chain_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
