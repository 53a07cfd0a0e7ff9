/* Fuzz the parsers of datastore values, which any writer of the cluster
 * store controls: the first byte picks the key, the rest is its value.
 * loomd's node record and network config parsers, and the policy engine
 * (pods, namespaces, policies, endpoints), whose flush compiles what it
 * accepted to nft text without touching the kernel.  The engine starts
 * with a small valid cluster so a fuzzed value meets pods, selectors and
 * policies to interact with. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "controller.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const pol_keys[] = {
	"/loom/pods/ns/p",
	"/loom/namespaces/ns",
	"/loom/networkpolicies/ns/p",
	"/loom/endpoints/n/c/eth0",
};

static const char *const baseline[][2] = {
	{ "/loom/namespaces/ns",
	  "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns\",\"labels\":{\"a\":\"b\"}}}" },
	{ "/loom/pods/ns/q",
	  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"q\",\"namespace\":\"ns\","
	  "\"labels\":{\"app\":\"q\"}},\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"name\":\"c\","
	  "\"ports\":[{\"name\":\"web\",\"containerPort\":80}]}]}}" },
	{ "/loom/endpoints/n/ns-q/eth0",
	  "{\"ips\":[\"10.0.0.2/24\"],\"podNamespace\":\"ns\",\"podName\":\"q\"}" },
	{ "/loom/networkpolicies/ns/base",
	  "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"base\","
	  "\"namespace\":\"ns\"},\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"q\"}},"
	  "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"p\"}}}],"
	  "\"ports\":[{\"port\":\"web\"}]}]}}" },
};

static void fuzz_policy(const char *key, const char *value)
{
	struct pol_engine *e = pol_engine_new("n");
	struct loom_err err;
	char *out;

	if (!e)
		return;
	for (size_t i = 0; i < sizeof(baseline) / sizeof(baseline[0]); i++)
		pol_engine_put(e, baseline[i][0], baseline[i][1], &err);
	pol_engine_put(e, key, value, &err);
	free(pol_engine_flush(e));
	/* a second value over the first exercises the incremental path */
	pol_engine_put(e, key, value, &err);
	free(pol_engine_flush(e));
	out = NULL;
	if (pol_explain(e, "ns/p", "ns/q", "80/TCP", &out, &err) >= 0)
		free(out);
	pol_engine_del(e, key);
	free(pol_engine_flush(e));
	pol_engine_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loom_network net;
	struct loomd_node node;
	struct loom_err err;
	char *v;
	unsigned kind;

	if (size < 1)
		return 0;
	kind = data[0] % 6;
	v = malloc(size);
	if (!v)
		return 0;
	memcpy(v, data + 1, size - 1);
	v[size - 1] = '\0';

	switch (kind) {
	case 0:
		if (loomd_node_parse(v, size - 1, &node, &err) == 0 &&
		    (!loomd_node_same(&node, &node) ||
		     memchr(node.name, '\0', sizeof(node.name)) == NULL))
			abort();
		break;
	case 1:
		if (loomd_network_parse(v, size - 1, &net, &err) == 0 &&
		    (net.subnet_len < net.cidr.len || net.subnet_len > 32 ||
		     (net.has_cidr6 && (net.subnet_len6 < net.cidr6.len || net.subnet_len6 > 128))))
			abort();
		break;
	default:
		fuzz_policy(pol_keys[kind - 2], v);
		break;
	}
	free(v);
	return 0;
}
