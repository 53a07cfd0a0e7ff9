/* Validation and defaulting of Namespace, Pod, NetworkPolicy and Network:
 * a table of invalid objects with the exact message kubectl-style users
 * see, valid ones, and the defaults that make re-applies no-ops.  Objects
 * are written as YAML flow mappings and read through the manifest parser,
 * as loomctl reads them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "model/k8s_validate.h"
#include "model/manifest.h"
#include "test_main.h"

#define NS(md) "--- {apiVersion: v1, kind: Namespace, metadata: " md "}"
#define POD(spec) "--- {apiVersion: v1, kind: Pod, metadata: {name: web}, spec: " spec "}"
#define NP(spec)                                                                                       \
	"--- {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: p}, spec: " spec \
	"}"
#define NET(spec) \
	"--- {apiVersion: loom.dev/v1, kind: Network, metadata: {name: default}, spec: " spec "}"
#define RULE(port) NP("{ingress: [{ports: [" port "]}]}")

static json_t *load(const char *yaml)
{
	struct loom_manifest m = { 0 };
	struct loom_err err = { 0 };
	json_t *obj;

	if (loom_manifest_parse(yaml, strlen(yaml), &m, &err) < 0)
		fail_msg("test input does not parse: %s: %s", yaml, err.msg);
	assert_int_equal(json_array_size(m.objects), 1);
	obj = json_incref(json_array_get(m.objects, 0));
	loom_manifest_free(&m);
	return obj;
}

static const struct {
	const char *in, *msg;
} invalid[] = {
	/* the envelope */
	{ "--- {apiVersion: v1, kind: Deployment, metadata: {name: x}}",
	  "kind: unsupported kind \"Deployment\": supported kinds: Namespace, Pod, NetworkPolicy, Network" },
	{ "--- {apiVersion: v1, metadata: {name: x}}", "kind: required" },
	{ "--- {apiVersion: networking.k8s.io/v1, kind: Pod, metadata: {name: x}, spec: {containers: [{name: c}]}}",
	  "apiVersion: \"networking.k8s.io/v1\": must be \"v1\" for kind Pod" },
	{ "--- {apiVersion: v1, kind: Namespace, metadata: {name: x}, extra: 1}",
	  "extra: unknown field" },
	{ "--- {apiVersion: v1, kind: Namespace}", "metadata: required" },
	{ NS("{labels: {a: b}}"), "metadata.name: required" },
	{ NS("{name: 5}"), "metadata.name: must be a string, not a number" },
	{ NS("{name: Prod}"),
	  "metadata.name: \"Prod\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
	  "characters or '-', and must start and end with an alphanumeric character" },
	{ NS("{name: a.b}"),
	  "metadata.name: \"a.b\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
	  "characters or '-', and must start and end with an alphanumeric character" },
	{ NS("{name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}"),
	  "metadata.name: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more than 63 characters" },
	{ NS("{name: x, namespace: y}"),
	  "metadata.namespace: must not be set: Namespace is not namespaced" },
	{ NS("{name: x, generateName: y}"), "metadata.generateName: unknown field" },
	{ NS("{name: x, labels: {\"-bad\": v}}"),
	  "metadata.labels[-bad]: invalid key \"-bad\": name part must consist of alphanumeric characters, "
	  "'-', '_' or '.', and must start and end with an alphanumeric character" },
	{ NS("{name: x, labels: {\"Example.com/a\": v}}"),
	  "metadata.labels[Example.com/a]: invalid key \"Example.com/a\": prefix part must be a lowercase RFC 1123 subdomain" },
	{ NS("{name: x, labels: {a: \"b c\"}}"),
	  "metadata.labels[a]: invalid value \"b c\": a valid label must be an empty string or consist of "
	  "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character" },
	{ NS("{name: x, labels: {a: true}}"),
	  "metadata.labels[a]: must be a string, not a boolean" },
	/* Pod */
	{ "--- {apiVersion: v1, kind: Pod, metadata: {name: web}}", "spec: required" },
	{ "--- {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: Bad}, spec: {containers: [{name: c}]}}",
	  "metadata.namespace: \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
	  "characters or '-', and must start and end with an alphanumeric character" },
	{ POD("{}"), "spec.containers: required" },
	{ POD("{containers: []}"), "spec.containers: required" },
	{ POD("{containers: [{image: nginx}]}"), "spec.containers[0].name: required" },
	{ POD("{containers: [{name: a}, {name: a}]}"),
	  "spec.containers[1].name: duplicate value \"a\"" },
	{ POD("{containers: [{name: a, ports: [{name: http}]}]}"),
	  "spec.containers[0].ports[0].containerPort: required" },
	{ POD("{containers: [{name: a, ports: [{containerPort: 0}]}]}"),
	  "spec.containers[0].ports[0].containerPort: must be between 1 and 65535" },
	{ POD("{containers: [{name: a, ports: [{containerPort: 80}, {containerPort: 70000}]}]}"),
	  "spec.containers[0].ports[1].containerPort: must be between 1 and 65535" },
	{ POD("{containers: [{name: a, ports: [{containerPort: \"80\"}]}]}"),
	  "spec.containers[0].ports[0].containerPort: must be an integer, not a string" },
	{ POD("{containers: [{name: a, ports: [{containerPort: 80, protocol: ICMP}]}]}"),
	  "spec.containers[0].ports[0].protocol: unsupported value \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"" },
	{ POD("{containers: [{name: a, ports: [{containerPort: 80, name: HTTP}]}]}"),
	  "spec.containers[0].ports[0].name: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)" },
	{ POD("{containers: [{name: a, ports: [{containerPort: 80, name: http-port-too-long}]}]}"),
	  "spec.containers[0].ports[0].name: \"http-port-too-long\": must be no more than 15 characters" },
	{ POD("{containers: [{name: a, ports: [{containerPort: 80, name: \"8080\"}]}]}"),
	  "spec.containers[0].ports[0].name: \"8080\": must contain at least one letter (a-z)" },
	{ POD("{containers: [{name: a, ports: [{containerPort: 80, name: web}]}, {name: b, ports: [{containerPort: 81, name: web}]}]}"),
	  "spec.containers[1].ports[0].name: duplicate value \"web\"" },
	{ POD("{nodeName: Node_1, containers: [{name: a}]}"),
	  "spec.nodeName: \"Node_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
	  "characters, '-' or '.', and must start and end with an alphanumeric character" },
	/* NetworkPolicy */
	{ NP("{podSelector: {}, foo: 1}"), "spec.foo: unknown field" },
	{ NP("{podSelector: {matchLabel: {a: b}}}"), "spec.podSelector.matchLabel: unknown field" },
	{ NP("{podSelector: {matchExpressions: [{key: a, operator: In}]}}"),
	  "spec.podSelector.matchExpressions[0].values: must be specified when `operator` is 'In' or 'NotIn'" },
	{ NP("{podSelector: {matchExpressions: [{key: a, operator: NotIn, values: []}]}}"),
	  "spec.podSelector.matchExpressions[0].values: must be specified when `operator` is 'In' or 'NotIn'" },
	{ NP("{podSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}}"),
	  "spec.podSelector.matchExpressions[0].values: may not be specified when `operator` is 'Exists' or 'DoesNotExist'" },
	{ NP("{podSelector: {matchExpressions: [{key: a, operator: Gt, values: [\"1\"]}]}}"),
	  "spec.podSelector.matchExpressions[0].operator: unsupported value \"Gt\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"" },
	{ NP("{podSelector: {matchExpressions: [{operator: Exists}]}}"),
	  "spec.podSelector.matchExpressions[0].key: required" },
	{ NP("{podSelector: {matchExpressions: [{key: a, operator: In, values: [ok, \"not ok\"]}]}}"),
	  "spec.podSelector.matchExpressions[0].values[1]: \"not ok\": a valid label must be an empty string or consist of "
	  "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character" },
	{ NP("{policyTypes: [Ingress, Both]}"),
	  "spec.policyTypes[1]: unsupported value \"Both\": supported values: \"Ingress\", \"Egress\"" },
	{ NP("{policyTypes: [Egress, Egress]}"),
	  "spec.policyTypes[1]: duplicate value \"Egress\"" },
	{ NP("{ingress: {from: []}}"), "spec.ingress: must be a list, not an object" },
	{ NP("{ingress: [{to: []}]}"), "spec.ingress[0].to: unknown field" },
	{ NP("{egress: [{from: []}]}"), "spec.egress[0].from: unknown field" },
	{ RULE("{port: 80}, {port: 0}"),
	  "spec.ingress[0].ports[1].port: must be between 1 and 65535" },
	{ RULE("{port: 80}, {port: 65536}"),
	  "spec.ingress[0].ports[1].port: must be between 1 and 65535" },
	{ RULE("{port: 80, protocol: tcp}"),
	  "spec.ingress[0].ports[0].protocol: unsupported value \"tcp\": supported values: \"TCP\", \"UDP\", \"SCTP\"" },
	{ RULE("{port: 90, endPort: 80}"),
	  "spec.ingress[0].ports[0].endPort: must be greater than or equal to `port`" },
	{ RULE("{port: 90, endPort: 70000}"),
	  "spec.ingress[0].ports[0].endPort: must be between 1 and 65535" },
	{ RULE("{endPort: 80}"),
	  "spec.ingress[0].ports[0].endPort: may not be specified when `port` is not specified" },
	{ RULE("{port: http, endPort: 80}"),
	  "spec.ingress[0].ports[0].endPort: may not be specified when `port` is non-numeric" },
	{ RULE("{port: -http}"),
	  "spec.ingress[0].ports[0].port: \"-http\": must not begin or end with a hyphen" },
	{ RULE("{port: a--b}"),
	  "spec.ingress[0].ports[0].port: \"a--b\": must not contain consecutive hyphens" },
	{ RULE("{port: 1.5}"),
	  "spec.ingress[0].ports[0].port: must be a port number or name, not a number" },
	{ RULE("{port: 80, endPort: \"90\"}"),
	  "spec.ingress[0].ports[0].endPort: must be an integer, not a string" },
	{ NP("{ingress: [{from: [{}]}]}"), "spec.ingress[0].from[0]: must specify a peer" },
	{ NP("{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}"),
	  "spec.egress[0].to[0]: may not specify both ipBlock and another peer" },
	{ NP("{egress: [{to: [{ipBlock: {}}]}]}"), "spec.egress[0].to[0].ipBlock.cidr: required" },
	{ NP("{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}"),
	  "spec.egress[0].to[0].ipBlock.cidr: \"10.0.0.0/33\": must be a valid CIDR (like 10.0.0.0/16 or fd00::/64)" },
	{ NP("{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]}"),
	  "spec.egress[0].to[0].ipBlock.except[0]: must be a strict subset of `cidr`" },
	{ NP("{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.0.0.0/8]}}]}]}"),
	  "spec.egress[0].to[0].ipBlock.except[1]: must be a strict subset of `cidr`" },
	{ NP("{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [\"fd00::/64\"]}}]}]}"),
	  "spec.egress[0].to[0].ipBlock.except[0]: must be a strict subset of `cidr`" },
	{ NP("{ingress: [{from: [{namespaceSelector: {matchLabels: {a: \"b c\"}}}]}]}"),
	  "spec.ingress[0].from[0].namespaceSelector.matchLabels[a]: invalid value \"b c\": a valid label must be an empty "
	  "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character" },
	/* Network */
	{ NET("{}"), "spec.cidr: required" },
	{ NET("{cidr: 10.244.0.0/16, vni: 1}"), "spec.vni: unknown field" },
	{ NET("{cidr: \"fd00::/48\"}"), "spec.cidr: \"fd00::/48\": must be an IPv4 CIDR" },
	{ NET("{cidr: 10.244.1.0/16}"),
	  "spec.cidr: \"10.244.1.0/16\": has host bits set (the network is 10.244.0.0/16)" },
	{ NET("{cidr: 10.244.0.0/16, subnetLength: 8}"),
	  "spec.subnetLength: must be between 16 (the prefix length of spec.cidr) and 30" },
	{ NET("{cidr: 10.244.0.0/16, subnetLength: 31}"),
	  "spec.subnetLength: must be between 16 (the prefix length of spec.cidr) and 30" },
	{ NET("{cidr: 10.244.0.0/16, subnetLength6: 64}"),
	  "spec.subnetLength6: requires spec.cidr6" },
	{ NET("{cidr6: \"fd00:10:244::/80\"}"),
	  "spec.subnetLength6: must be between 80 (the prefix length of spec.cidr6) and 126" },
	{ NET("{cidr: 10.244.0.0/16, mtu: 100}"), "spec.mtu: must be between 576 and 65535" },
	{ NET("{cidr: 10.244.0.0/16, cidr6: \"fd00::/56\", mtu: 1000}"),
	  "spec.mtu: must be between 1280 and 65535" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: ipip}}"),
	  "spec.backend.type: unsupported value \"ipip\": supported values: \"vxlan\", \"bgp\", \"none\"" },
	{ NET("{cidr: 10.244.0.0/16, backend: {vxlan: {vni: 0}}}"),
	  "spec.backend.vxlan.vni: must be between 1 and 16777215" },
	{ NET("{cidr: 10.244.0.0/16, backend: {vxlan: {vni: 16777216}}}"),
	  "spec.backend.vxlan.vni: must be between 1 and 16777215" },
	{ NET("{cidr: 10.244.0.0/16, backend: {vxlan: {port: 0}}}"),
	  "spec.backend.vxlan.port: must be between 1 and 65535" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: vxlan, bgp: {}}}"),
	  "spec.backend.bgp: must not be set when spec.backend.type is \"vxlan\"" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {asNumber: 4294967296}}}"),
	  "spec.backend.bgp.asNumber: must be between 1 and 4294967295" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {nodeToNodeMesh: \"yes\"}}}"),
	  "spec.backend.bgp.nodeToNodeMesh: must be a boolean, not a string" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {peers: [{address: 192.0.2.300, asNumber: 1}]}}}"),
	  "spec.backend.bgp.peers[0].address: \"192.0.2.300\": must be a valid IP address" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {peers: [{address: 192.0.2.1}]}}}"),
	  "spec.backend.bgp.peers[0].asNumber: required" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {peers: [{address: \"2001:db8::1\", asNumber: 1}]}}}"),
	  "spec.backend.bgp.peers[0].address: \"2001:db8::1\": must be an IPv4 address" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {holdTime: 2}}}"),
	  "spec.backend.bgp.holdTime: must be between 3 and 65535" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {holdTime: 65536}}}"),
	  "spec.backend.bgp.holdTime: must be between 3 and 65535" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {holdTime: \"6s\"}}}"),
	  "spec.backend.bgp.holdTime: must be an integer, not a string" },
	{ NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {routeReflectors: [Node_A]}}}"),
	  "spec.backend.bgp.routeReflectors[0]: \"Node_A\": a lowercase RFC 1123 subdomain must consist of lower case "
	  "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character" },
};

static void test_invalid_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		json_t *obj = load(invalid[i].in);
		struct loom_err err = { 0 };

		if (loom_k8s_validate(obj, NULL, &err) == 0)
			fail_msg("accepted: %s", invalid[i].in);
		if (strcmp(err.msg, invalid[i].msg))
			fail_msg("%s\n  want: %s\n  got:  %s", invalid[i].in, invalid[i].msg,
				 err.msg);
		assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
		json_decref(obj);
	}
}

static const char *const valid[] = {
	NS("{name: default}"),
	NS("{name: a-1, labels: {example.com/tier: front_end.1, empty: \"\"}, annotations: {note: \"any text at all\"}}"),
	NS("{name: x, uid: 1234, resourceVersion: \"7\"}"), /* server fields from kubectl get -o yaml */
	POD("{containers: [{name: c}]}"),
	POD("{nodeName: node-1.example, containers: [{name: c, image: nginx, command: [sh], ports: [{containerPort: 80, name: http}, {containerPort: 53, protocol: UDP, hostPort: 5353}]}]}"),
	NP("{}"),
	NP("{podSelector: {}, policyTypes: [Egress]}"),
	NP("{podSelector: {matchExpressions: [{key: a, operator: DoesNotExist}, {key: example.com/b, operator: NotIn, values: [x, \"\"]}]}, ingress: [{}], egress: [{to: [{ipBlock: {cidr: \"fd00::/48\", except: [\"fd00:0:0:1::/64\"]}}], ports: [{port: 1, endPort: 65535, protocol: SCTP}, {port: dns-tcp}]}]}"),
	NP("{ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}]}]}"),
	NET("{cidr: 10.244.0.0/16}"),
	NET("{cidr6: \"fd00:10:244::/56\"}"),
	NET("{cidr: 10.0.0.0/8, cidr6: \"fd00::/48\", subnetLength: 26, subnetLength6: 112, mtu: 8950, backend: {type: none}}"),
	NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {asNumber: 65000, nodeToNodeMesh: false, routeReflectors: [node-a], peers: [{address: 192.0.2.1, asNumber: 4200000000}], holdTime: 3}}}"),
	NET("{cidr: 10.244.0.0/16, backend: {type: bgp, bgp: {holdTime: 65535}}}"),
};

static void test_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		json_t *obj = load(valid[i]);
		struct loom_err err = { 0 };

		if (loom_k8s_validate(obj, NULL, &err) < 0)
			fail_msg("refused: %s: %s", valid[i], err.msg);
		json_decref(obj);
	}
}

/* Defaults, and validating the defaulted object again changes nothing:
 * what is stored re-applies as "unchanged". */
static const struct {
	const char *in, *out;
} defaults[] = {
	{ POD("{containers: [{name: c, ports: [{containerPort: 80}]}]}"),
	  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
	  "\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}]}]}}" },
	{ NP("{egress: [{ports: [{port: 53, protocol: UDP}, {port: 80}]}]}"),
	  "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
	  "\"spec\":{\"egress\":[{\"ports\":[{\"port\":53,\"protocol\":\"UDP\"},{\"port\":80,\"protocol\":\"TCP\"}]}],"
	  "\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"]}}" },
	{ NP("{ingress: []}"),
	  "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
	  "\"spec\":{\"ingress\":[],\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}}" },
	{ NET("{cidr: 10.244.0.0/16}"),
	  "{\"apiVersion\":\"loom.dev/v1\",\"kind\":\"Network\",\"metadata\":{\"name\":\"default\"},"
	  "\"spec\":{\"backend\":{\"type\":\"vxlan\",\"vxlan\":{\"port\":8472,\"vni\":1}},\"cidr\":\"10.244.0.0/16\",\"subnetLength\":24}}" },
	{ NET("{cidr6: \"fd00::/56\", backend: {type: bgp}}"),
	  "{\"apiVersion\":\"loom.dev/v1\",\"kind\":\"Network\",\"metadata\":{\"name\":\"default\"},"
	  "\"spec\":{\"backend\":{\"bgp\":{\"asNumber\":64512,\"nodeToNodeMesh\":true},\"type\":\"bgp\"},\"cidr6\":\"fd00::/56\",\"subnetLength6\":64}}" },
	{ "--- {apiVersion: v1, kind: Namespace, metadata: {name: x, uid: u}, status: {phase: Active}}",
	  "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\"}}" },
};

static void test_defaults(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		json_t *obj = load(defaults[i].in);
		const struct loom_kind_info *k = NULL;
		char *first, *again;

		assert_int_equal(loom_k8s_validate(obj, &k, NULL), 0);
		assert_non_null(k);
		first = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
		assert_string_equal(first, defaults[i].out);
		assert_int_equal(loom_k8s_validate(obj, NULL, NULL), 0);
		again = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
		assert_string_equal(again, first);
		free(first);
		free(again);
		json_decref(obj);
	}
}

static void test_kinds_and_keys(void **state)
{
	static const struct {
		const char *name;
		enum loom_kind kind;
	} names[] = {
		{ "ns", LOOM_KIND_NAMESPACE },
		{ "Namespaces", LOOM_KIND_NAMESPACE },
		{ "po", LOOM_KIND_POD },
		{ "pod", LOOM_KIND_POD },
		{ "netpol", LOOM_KIND_NETWORKPOLICY },
		{ "networkpolicies", LOOM_KIND_NETWORKPOLICY },
		{ "NetworkPolicy", LOOM_KIND_NETWORKPOLICY },
		{ "net", LOOM_KIND_NETWORK },
		{ "networks", LOOM_KIND_NETWORK },
	};
	struct loom_err err = { 0 };
	char key[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct loom_kind_info *k = loom_kind_lookup(names[i].name);

		assert_non_null(k);
		assert_int_equal(k->kind, names[i].kind);
	}
	assert_null(loom_kind_lookup("deployments"));
	assert_null(loom_kind_lookup(NULL));
	assert_int_equal(loom_k8s_key(loom_kind_get(LOOM_KIND_POD), "prod", "web", key, sizeof(key),
				      &err),
			 0);
	assert_string_equal(key, "/loom/pods/prod/web");
	assert_int_equal(loom_k8s_key(loom_kind_get(LOOM_KIND_NETWORKPOLICY), "default", "deny",
				      key, sizeof(key), &err),
			 0);
	assert_string_equal(key, "/loom/networkpolicies/default/deny");
	assert_int_equal(loom_k8s_key(loom_kind_get(LOOM_KIND_NAMESPACE), "ignored", "prod", key,
				      sizeof(key), &err),
			 0);
	assert_string_equal(key, "/loom/namespaces/prod");
	assert_int_equal(loom_k8s_key(loom_kind_get(LOOM_KIND_NETWORK), NULL, "default", key,
				      sizeof(key), &err),
			 0);
	assert_string_equal(key, "/loom/config/default");
	assert_int_equal(loom_k8s_key(loom_kind_get(LOOM_KIND_POD), "prod",
				      "a-very-long-pod-name-that-does-not-fit-in-the-buffer", key,
				      sizeof(key), &err),
			 -1);
}

static void test_name_rules(void **state)
{
	(void)state;
	assert_null(loom_k8s_dns1123_label("a"));
	assert_null(loom_k8s_dns1123_label("0-a-9"));
	assert_non_null(loom_k8s_dns1123_label(""));
	assert_non_null(loom_k8s_dns1123_label("a-"));
	assert_null(loom_k8s_dns1123_subdomain("a.b-c.d"));
	assert_non_null(loom_k8s_dns1123_subdomain("a..b"));
	assert_non_null(loom_k8s_dns1123_subdomain(".a"));
	assert_null(loom_k8s_label_key("app.kubernetes.io/name"));
	assert_null(loom_k8s_label_key("My_Key.1"));
	assert_non_null(loom_k8s_label_key("/a"));
	assert_non_null(loom_k8s_label_key("a/b/c"));
	assert_non_null(loom_k8s_label_key("a/"));
	assert_null(loom_k8s_label_value(""));
	assert_non_null(loom_k8s_label_value("a_"));
	assert_null(loom_k8s_port_name("h2c"));
	assert_non_null(loom_k8s_port_name(""));
	assert_non_null(loom_k8s_port_name("http-"));
}

LOOM_TEST_MAIN(cmocka_unit_test(test_invalid_table), cmocka_unit_test(test_valid),
	       cmocka_unit_test(test_defaults), cmocka_unit_test(test_kinds_and_keys),
	       cmocka_unit_test(test_name_rules))
