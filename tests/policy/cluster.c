/* Test helpers over the policy engine (cluster.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "nftsim.h"

static int put(struct pol_engine *e, const char *key, const char *value)
{
	struct loom_err err = { 0 };

	return pol_engine_put(e, key, value, &err);
}

int cl_namespace(struct pol_engine *e, const char *ns, const char *labels_json)
{
	char key[300], v[1024];

	snprintf(key, sizeof(key), "/loom/namespaces/%s", ns);
	snprintf(
		v, sizeof(v),
		"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\",\"labels\":%s}}",
		ns, labels_json ? labels_json : "{}");
	return put(e, key, v);
}

int cl_pod(struct pol_engine *e, const char *ns, const char *name, const char *node,
	   const char *labels_json, const char *a4, const char *a6)
{
	char key[300], v[2048];
	int rc;

	snprintf(key, sizeof(key), "/loom/pods/%s/%s", ns, name);
	snprintf(
		v, sizeof(v),
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
		"\"labels\":%s},\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\",\"ports\":["
		"{\"name\":\"serve-80-tcp\",\"containerPort\":80},"
		"{\"name\":\"serve-80-udp\",\"containerPort\":80,\"protocol\":\"UDP\"},"
		"{\"name\":\"serve-81-tcp\",\"containerPort\":81},"
		"{\"name\":\"serve-81-udp\",\"containerPort\":81,\"protocol\":\"UDP\"}]}]}}",
		name, ns, labels_json ? labels_json : "{}", node);
	rc = put(e, key, v);
	snprintf(key, sizeof(key), "/loom/endpoints/%s/%s-%s/eth0", node, ns, name);
	snprintf(v, sizeof(v),
		 "{\"ips\":[%s%s%s%s%s%s%s],\"podNamespace\":\"%s\",\"podName\":\"%s\"}",
		 a4 ? "\"" : "", a4 ? a4 : "", a4 ? "/24\"" : "", a4 && a6 ? "," : "",
		 a6 ? "\"" : "", a6 ? a6 : "", a6 ? "/64\"" : "", ns, name);
	return put(e, key, v) < 0 ? -1 : rc;
}

void cl_pod_del(struct pol_engine *e, const char *ns, const char *name, const char *node)
{
	char key[300];

	snprintf(key, sizeof(key), "/loom/pods/%s/%s", ns, name);
	pol_engine_del(e, key);
	snprintf(key, sizeof(key), "/loom/endpoints/%s/%s-%s/eth0", node, ns, name);
	pol_engine_del(e, key);
}

int cl_policy(struct pol_engine *e, const char *ns, const char *name, const char *spec_json)
{
	char key[300], *v = NULL;
	int rc;

	snprintf(key, sizeof(key), "/loom/networkpolicies/%s/%s", ns, name);
	if (asprintf(
		    &v,
		    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":"
		    "{\"name\":\"%s\",\"namespace\":\"%s\"},\"spec\":%s}",
		    name, ns, spec_json) < 0)
		return -1;
	rc = put(e, key, v);
	free(v);
	return rc;
}

void cl_policy_del(struct pol_engine *e, const char *ns, const char *name)
{
	char key[300];

	snprintf(key, sizeof(key), "/loom/networkpolicies/%s/%s", ns, name);
	pol_engine_del(e, key);
}

int cl_sync(struct pol_engine *e, struct pir *sim, char **batch, char *why, size_t len)
{
	char *b = pol_engine_flush(e), *mine = NULL, *theirs = NULL;
	int rc = -1;

	if (batch)
		*batch = NULL;
	if (!b) {
		snprintf(why, len, "flush: out of memory");
		return -1;
	}
	if (nftsim_apply(sim, b, why, len) < 0)
		goto out;
	mine = pol_engine_ruleset(e);
	theirs = pir_dump(sim);
	if (!mine || !theirs || strcmp(mine, theirs)) {
		snprintf(
			why, len,
			"the engine's ruleset is not what its batches made:\n--- engine\n%s--- batches\n%s",
			mine ? mine : "(null)", theirs ? theirs : "(null)");
		goto out;
	}
	rc = 0;
out:
	free(mine);
	free(theirs);
	if (batch && rc == 0)
		*batch = b;
	else
		free(b);
	return rc;
}
