/* Property: whatever sequence of datastore changes reaches loom-policyd,
 * flushed whenever, the table its batches build is the table a fresh
 * engine builds from the final state.
 *
 * The input is a sequence of operations over a small universe (three
 * namespaces, six pods on two nodes, four policies), so that selectors,
 * named ports, isolation and shared sets meet often: put or delete a
 * namespace (relabel), a pod (relabel, move node), an endpoint, a policy
 * (from a menu of selectors, peers and ports), or flush.  Every flush's
 * batch goes to the stand-in table (tests/policy/nftsim.c), which refuses
 * what the kernel would (a missing element deleted, a chain deleted while
 * jumped to, ...), and the engine's own idea of the table must match it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "nftsim.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NNS 3
#define NPODS 6
#define NPOL 4
#define NKEYS (NNS + 2 * NPODS + NPOL)

static const char *const NSN[NNS] = { "x", "y", "z" };

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct in *in, unsigned mod)
{
	unsigned v;

	if (!in->n)
		return 0;
	v = *in->p++;
	in->n--;
	return v % mod;
}

/* the datastore: key i -> value (NULL absent) */
struct store {
	char key[NKEYS][96];
	char *val[NKEYS];
};

static void set(struct store *s, struct pol_engine *e, int i, char *v)
{
	struct loom_err err = { 0 };

	free(s->val[i]);
	s->val[i] = v;
	if (v)
		pol_engine_put(e, s->key[i], v, &err); /* invalid = absent, both ways */
	else
		pol_engine_del(e, s->key[i]);
}

static const char *const POD_SEL[] = {
	"{}",
	"{\"matchLabels\":{\"l\":\"v0\"}}",
	"{\"matchLabels\":{\"l\":\"v1\"}}",
	"{\"matchExpressions\":[{\"key\":\"l\",\"operator\":\"In\",\"values\":[\"v0\",\"v2\"]}]}",
	"{\"matchExpressions\":[{\"key\":\"l\",\"operator\":\"DoesNotExist\"}]}",
};
static const char *const NS_SEL[] = {
	"{}",
	"{\"matchLabels\":{\"t\":\"a\"}}",
	"{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"y\"}}",
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void peer(struct in *in, char *b, size_t len)
{
	switch (take(in, 5)) {
	case 0:
		snprintf(b, len, "{\"podSelector\":%s}", POD_SEL[take(in, N(POD_SEL))]);
		break;
	case 1:
		snprintf(b, len, "{\"namespaceSelector\":%s}", NS_SEL[take(in, N(NS_SEL))]);
		break;
	case 2: {
		unsigned ns = take(in, N(NS_SEL)), ps = take(in, N(POD_SEL));

		snprintf(b, len, "{\"namespaceSelector\":%s,\"podSelector\":%s}", NS_SEL[ns],
			 POD_SEL[ps]);
		break;
	}
	case 3:
		snprintf(b, len,
			 "{\"ipBlock\":{\"cidr\":\"10.0.0.0/16\",\"except\":[\"10.0.%u.0/24\"]}}",
			 take(in, NPODS));
		break;
	default:
		snprintf(b, len, "{\"ipBlock\":{\"cidr\":\"fd00::/64\"}}");
	}
}

static const char *const PORTS[] = {
	"{\"port\":80}",
	"{\"port\":\"web\"}",
	"{\"port\":\"dns\",\"protocol\":\"UDP\"}",
	"{\"port\":80,\"endPort\":90}",
	"{\"protocol\":\"SCTP\"}",
};

static void rules(struct in *in, char *b, size_t len, const char *dir)
{
	unsigned nr = take(in, 3);
	size_t o = (size_t)snprintf(b, len, ",\"%s\":[", dir);

	for (unsigned r = 0; r < nr && o < len; r++) {
		unsigned np = take(in, 3), nq = take(in, 3);

		o += (size_t)snprintf(b + o, len - o, "%s{\"%s\":[", r ? "," : "",
				      !strcmp(dir, "ingress") ? "from" : "to");
		for (unsigned k = 0; k < np && o < len; k++) {
			char pe[200];

			peer(in, pe, sizeof(pe));
			o += (size_t)snprintf(b + o, len - o, "%s%s", k ? "," : "", pe);
		}
		if (o < len)
			o += (size_t)snprintf(b + o, len - o, "],\"ports\":[");
		for (unsigned k = 0; k < nq && o < len; k++)
			o += (size_t)snprintf(b + o, len - o, "%s%s", k ? "," : "",
					      PORTS[take(in, N(PORTS))]);
		if (o < len)
			o += (size_t)snprintf(b + o, len - o, "]}");
	}
	if (o < len)
		snprintf(b + o, len - o, "]");
}

static char *policy(struct in *in, int slot)
{
	static const char *const types[] = { "", ",\"policyTypes\":[\"Ingress\"]",
					     ",\"policyTypes\":[\"Egress\"]",
					     ",\"policyTypes\":[\"Ingress\",\"Egress\"]" };
	char ing[2048] = "", egr[2048] = "", *v = NULL;
	unsigned t = take(in, N(types)), ps = take(in, N(POD_SEL));

	if (take(in, 2))
		rules(in, ing, sizeof(ing), "ingress");
	if (take(in, 2))
		rules(in, egr, sizeof(egr), "egress");
	if (asprintf(
		    &v,
		    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":"
		    "{\"name\":\"np%d\",\"namespace\":\"%s\"},\"spec\":{\"podSelector\":%s%s%s%s}}",
		    slot, NSN[slot % NNS], POD_SEL[ps], types[t], ing, egr) < 0)
		return NULL;
	return v;
}

static char *pod(struct in *in, int slot)
{
	static const char *const labels[] = { "{}", "{\"l\":\"v0\"}", "{\"l\":\"v1\"}",
					      "{\"l\":\"v2\"}" };
	char *v = NULL;
	unsigned l = take(in, N(labels)), web = take(in, 2) ? 80 : 8080, dns = take(in, 2);

	if (asprintf(
		    &v,
		    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%d\",\"namespace\":\"%s\","
		    "\"labels\":%s},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"ports\":["
		    "{\"name\":\"web\",\"containerPort\":%u}%s]}]}}",
		    slot, NSN[slot % NNS], labels[l], web,
		    dns ? ",{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}" : "") < 0)
		return NULL;
	return v;
}

/* the endpoint key names the node: slots 0-2 are on n1, 3-5 on n2 */
static char *endpoint(struct in *in, int slot)
{
	char six[48] = "", *v = NULL;

	if (take(in, 2))
		snprintf(six, sizeof(six), ",\"fd00::%d:1/64\"", slot);
	if (asprintf(&v,
		     "{\"ips\":[\"10.0.%d.1/24\"%s],\"podNamespace\":\"%s\",\"podName\":\"p%d\"}",
		     slot, six, NSN[slot % NNS], slot) < 0)
		return NULL;
	return v;
}

static void check(bool ok, const char *what, const char *detail)
{
	if (!ok) {
		fprintf(stderr, "%s\n%s\n", what, detail ? detail : "");
		abort();
	}
}

static void sync_check(struct pol_engine *e, struct pir *sim)
{
	char *b = pol_engine_flush(e), why[1024], *mine, *theirs;

	check(b != NULL, "flush failed", NULL);
	if (nftsim_apply(sim, b, why, sizeof(why)) < 0) {
		fprintf(stderr, "batch:\n%s\n", b);
		check(false, "the table refuses the batch", why);
	}
	free(b);
	mine = pol_engine_ruleset(e);
	theirs = pir_dump(sim);
	check(mine && theirs && !strcmp(mine, theirs),
	      "the engine's table is not what its batches made", theirs);
	free(mine);
	free(theirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct store s = { 0 };
	struct pol_engine *e = pol_engine_new("n1"), *f = pol_engine_new("n1");
	struct pir sim = { 0 };
	char *want, *got, *simd;

	if (!e || !f)
		abort();
	for (int i = 0; i < NNS; i++)
		snprintf(s.key[i], sizeof(s.key[i]), "/loom/namespaces/%s", NSN[i]);
	for (int i = 0; i < NPODS; i++) {
		snprintf(s.key[NNS + i], sizeof(s.key[0]), "/loom/pods/%s/p%d", NSN[i % NNS], i);
		/* slots 0-2 on n1 (enforced here), 3-5 on n2 */
		snprintf(s.key[NNS + NPODS + i], sizeof(s.key[0]), "/loom/endpoints/n%d/c%d/eth0",
			 i < 3 ? 1 : 2, i);
	}
	for (int i = 0; i < NPOL; i++)
		snprintf(s.key[NNS + 2 * NPODS + i], sizeof(s.key[0]),
			 "/loom/networkpolicies/%s/np%d", NSN[i % NNS], i);
	while (in.n) {
		unsigned op = take(&in, 7);

		switch (op) {
		case 0: { /* namespace put: labels t=a or t=b */
			unsigned i = take(&in, NNS), t = take(&in, 2);
			char *v = NULL;

			if (asprintf(
				    &v,
				    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
				    "\"labels\":{\"t\":\"%s\"}}}",
				    NSN[i], t ? "a" : "b") < 0)
				abort();
			set(&s, e, (int)i, v);
			break;
		}
		case 1: /* something deleted */
			set(&s, e, (int)take(&in, NKEYS), NULL);
			break;
		case 2: {
			unsigned i = take(&in, NPODS);

			set(&s, e, NNS + (int)i, pod(&in, (int)i));
			break;
		}
		case 3: {
			unsigned i = take(&in, NPODS);

			set(&s, e, NNS + NPODS + (int)i, endpoint(&in, (int)i));
			break;
		}
		case 4:
		case 5: {
			unsigned i = take(&in, NPOL);

			set(&s, e, NNS + 2 * NPODS + (int)i, policy(&in, (int)i));
			break;
		}
		default:
			sync_check(e, &sim);
		}
	}
	sync_check(e, &sim);
	/* a fresh engine from the final state, keys in reverse order */
	for (int i = NKEYS - 1; i >= 0; i--)
		if (s.val[i]) {
			struct loom_err err = { 0 };

			pol_engine_put(f, s.key[i], s.val[i], &err);
		}
	free(pol_engine_flush(f));
	want = pol_engine_ruleset(f);
	got = pol_engine_ruleset(e);
	simd = pir_dump(&sim);
	check(want && got && !strcmp(want, got), "incremental differs from a fresh build", got);
	check(simd && !strcmp(want, simd), "the batches made another table than a fresh build",
	      simd);
	free(want);
	free(got);
	free(simd);
	pir_clear(&sim);
	pol_engine_free(e);
	pol_engine_free(f);
	for (int i = 0; i < NKEYS; i++)
		free(s.val[i]);
	return 0;
}
