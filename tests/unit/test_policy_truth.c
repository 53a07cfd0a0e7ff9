/* The upstream NetworkPolicy truth table against the compiled rules.
 *
 * The cluster is integration.test_policyd_e2e's (after Kubernetes'
 * upstream model): namespaces x, y, z labelled ns=<name>, pods a, b, c in
 * each labelled pod=<name>, spread over nodes n1 and n2, each serving
 * serve-{80,81}-{tcp,udp}, with an IPv4 and an IPv6 address.  Each case is
 * the e2e's: its policies and two predicates saying what they allow.
 *
 * Unlike explain (a second evaluator over the model), this reads the
 * batches each node's engine emits into a stand-in table
 * (tests/policy/nftsim.c) and walks its chains, sets and maps for every
 * ordered pod pair, port, protocol and family: the source node's forward
 * hook, then the destination node's when it is another.  The cases run
 * once each from scratch, then as one incremental sequence (forward and
 * back) whose tables must equal a fresh build after every step. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cluster.h"
#include "nftsim.h"

#define NPODS 9

/* cmocka cuts long messages: rulesets go to stderr whole */
#define fail_long(...)                        \
	do {                                  \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr);          \
		fail();                       \
	} while (0)

struct tpod {
	const char *key; /* "x/a" */
	char ns[2], name[2];
	int node; /* 1 or 2 */
	char a4[32], a6[48];
};
static struct tpod pods[NPODS];
static const char *labels[NPODS]; /* the label pod=<value> in force */

static void model_init(void)
{
	static const char *const keys[NPODS] = { "x/a", "x/b", "x/c", "y/a", "y/b",
						 "y/c", "z/a", "z/b", "z/c" };

	for (int i = 0; i < NPODS; i++) {
		struct tpod *p = &pods[i];

		p->key = keys[i];
		p->ns[0] = keys[i][0];
		p->name[0] = keys[i][2];
		p->node = i % 2 + 1;
		snprintf(p->a4, sizeof(p->a4), "10.244.%d.%d", p->node, 10 + i);
		snprintf(p->a6, sizeof(p->a6), "fd00:10:244:%d::%d", p->node, 10 + i);
	}
}

static bool ns_is(const struct tpod *p, char ns)
{
	return p->ns[0] == ns;
}

static const char *lbl(const struct tpod *p)
{
	return labels[p - pods];
}

static bool is(const struct tpod *p, const char *key)
{
	return !strcmp(p->key, key);
}

#define UDP 17
#define TCP 6
typedef bool pred(const struct tpod *s, const struct tpod *d, int port, int proto, int fam);

static bool all(const struct tpod *s, const struct tpod *d, int port, int proto, int fam)
{
	(void)s, (void)d, (void)port, (void)proto, (void)fam;
	return true;
}
#define PRED(name, expr)                                                                           \
	static bool name(const struct tpod *s, const struct tpod *d, int port, int proto, int fam) \
	{                                                                                          \
		(void)s, (void)d, (void)port, (void)proto, (void)fam;                              \
		return (expr);                                                                     \
	}
PRED(deny_in_x, !ns_is(d, 'x'))
PRED(deny_out_x, !ns_is(s, 'x'))
PRED(x_from_y, !ns_is(d, 'x') || ns_is(s, 'y'))
PRED(xa_from_yb, !is(d, "x/a") || (ns_is(s, 'y') && !strcmp(lbl(s), "b")))
PRED(xa_from_y_or_b, !is(d, "x/a") || ns_is(s, 'y') || (ns_is(s, 'x') && !strcmp(lbl(s), "b")))
PRED(exprs, !ns_is(d, 'x') || !strcmp(lbl(d), "c") || ns_is(s, 'z'))
/* the ipBlock is IPv4: IPv6 to x/a matches no rule */
PRED(block, !is(d, "x/a") || (fam == 4 && !is(s, "y/b") && !is(s, "z/c")))
PRED(named, !ns_is(d, 'x') || (port == 81 && proto == TCP) || (port == 80 && proto == UDP))
PRED(range, !ns_is(d, 'y') || (proto == TCP && port >= 81 && port <= 90))
PRED(add_up, !is(d, "x/a") || is(s, "x/b") || ns_is(s, 'z'))
PRED(one_left, !is(d, "x/a") || is(s, "x/b"))
PRED(relabelled,
     !(ns_is(d, 'y') && !strcmp(lbl(d), "a")) && (!ns_is(d, 'z') || !strcmp(lbl(s), "b")))
PRED(to_block, !is(s, "x/a") || (fam == 4 && is(d, "y/b")))
PRED(udp_in, !ns_is(d, 'y') || (port == 80 && proto == UDP))
PRED(udp_out, !ns_is(s, 'y') || proto == UDP)

struct tpolicy {
	const char *ns, *name, *spec;
};
struct tcase {
	const char *what;
	struct tpolicy pol[3];
	const char *relabel[3]; /* "y/b=a" */
	pred *ing, *egr;
};

static const struct tcase cases[] = {
	{ "no policy", { { 0 } }, { 0 }, all, all },
	{ "default deny ingress",
	  { { "x", "deny-in", "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}" } },
	  { 0 },
	  deny_in_x,
	  all },
	{ "default deny egress",
	  { { "x", "deny-out", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}" } },
	  { 0 },
	  all,
	  deny_out_x },
	{ "allow from a namespace",
	  { { "x", "from-y",
	      "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}}}]}]}" } },
	  { 0 },
	  x_from_y,
	  all },
	{ "both selectors in one peer",
	  { { "x", "a-from-y-b",
	      "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}},\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}" } },
	  { 0 },
	  xa_from_yb,
	  all },
	{ "namespace and pod selectors as separate peers",
	  { { "x", "a-from-y-or-b",
	      "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}}},{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}" } },
	  { 0 },
	  xa_from_y_or_b,
	  all },
	{ "matchExpressions",
	  { { "x", "exprs",
	      "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"pod\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"ns\",\"operator\":\"NotIn\",\"values\":[\"x\",\"y\"]}]},\"podSelector\":{\"matchExpressions\":[{\"key\":\"pod\",\"operator\":\"Exists\"},{\"key\":\"absent\",\"operator\":\"DoesNotExist\"}]}}]}]}" } },
	  { 0 },
	  exprs,
	  all },
	/* y/b is 10.244.1.14, z/c 10.244.1.18 */
	{ "ipBlock with except",
	  { { "x", "a-from-block",
	      "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.244.0.0/16\",\"except\":[\"10.244.1.14/32\",\"10.244.1.18/32\"]}}]}]}" } },
	  { 0 },
	  block,
	  all },
	{ "named ports",
	  { { "x", "named",
	      "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"serve-81-tcp\"},{\"port\":\"serve-80-udp\",\"protocol\":\"UDP\"}]}]}" } },
	  { 0 },
	  named,
	  all },
	{ "endPort",
	  { { "y", "range",
	      "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":81,\"endPort\":90}]}]}" } },
	  { 0 },
	  range,
	  all },
	{ "multiple policies add up",
	  { { "x", "a-from-b",
	      "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}" },
	    { "x", "a-from-z",
	      "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"z\"}}}]}]}" } },
	  { 0 },
	  add_up,
	  all },
	{ "one of two policies deleted",
	  { { "x", "a-from-b",
	      "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}" } },
	  { 0 },
	  one_left,
	  all },
	{ "pod relabelled enters a policy",
	  { { "y", "deny-a", "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[]}" },
	    { "z", "only-from-b",
	      "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}" } },
	  { "y/b=a", "x/c=b" },
	  relabelled,
	  all },
	{ "pod relabelled leaves a policy",
	  { { "y", "deny-a", "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"ingress\":[]}" },
	    { "z", "only-from-b",
	      "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}" } },
	  { 0 },
	  relabelled,
	  all },
	{ "egress to an ipBlock",
	  { { "x", "a-to-block",
	      "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.244.1.14/32\"}}]}]}" } },
	  { 0 },
	  all,
	  to_block },
	{ "UDP",
	  { { "y", "udp-80",
	      "{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"],\"ingress\":[{\"ports\":[{\"protocol\":\"UDP\",\"port\":80}]}],\"egress\":[{\"ports\":[{\"protocol\":\"UDP\"}]}]}" } },
	  { 0 },
	  udp_in,
	  udp_out },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* the labels case c puts in force */
static void case_labels(const struct tcase *c)
{
	static char buf[NPODS][8];

	for (int i = 0; i < NPODS; i++) {
		snprintf(buf[i], sizeof(buf[i]), "%s", pods[i].name);
		for (int k = 0; k < 3 && c->relabel[k]; k++)
			if (!strncmp(c->relabel[k], pods[i].key, 3))
				snprintf(buf[i], sizeof(buf[i]), "%s", c->relabel[k] + 4);
		labels[i] = buf[i];
	}
}

static void put_pod(struct pol_engine *e, int i)
{
	char l[64];

	snprintf(l, sizeof(l), "{\"pod\":\"%s\"}", labels[i]);
	assert_int_equal(cl_pod(e, pods[i].ns, pods[i].name, pods[i].node == 1 ? "n1" : "n2", l,
				pods[i].a4, pods[i].a6),
			 0);
}

static struct pol_engine *fresh(const char *node, const struct tcase *c)
{
	struct pol_engine *e = pol_engine_new(node);

	assert_non_null(e);
	for (const char *ns = "xyz"; *ns; ns++) {
		char name[2] = { *ns, 0 }, l[32];

		snprintf(l, sizeof(l), "{\"ns\":\"%s\"}", name);
		assert_int_equal(cl_namespace(e, name, l), 0);
	}
	for (int i = 0; i < NPODS; i++)
		put_pod(e, i);
	for (int k = 0; k < 3 && c->pol[k].ns; k++)
		assert_int_equal(cl_policy(e, c->pol[k].ns, c->pol[k].name, c->pol[k].spec), 0);
	return e;
}

/* 1 allowed, 0 denied, over both nodes' tables */
static int verdict(struct pir *sim[2], const struct tpod *s, const struct tpod *d, int port,
		   int proto, int fam)
{
	struct nftsim_pkt pk = { fam == 4 ? s->a4 : s->a6, fam == 4 ? d->a4 : d->a6, proto, port };
	char why[512] = "";
	int v = nftsim_eval(sim[s->node - 1], &pk, why, sizeof(why));

	if (v == 1 && d->node != s->node)
		v = nftsim_eval(sim[d->node - 1], &pk, why, sizeof(why));
	if (v < 0)
		fail_msg("evaluating %s -> %s: %s", s->key, d->key, why);
	return v;
}

static void check_matrix(const struct tcase *c, struct pir *sim[2], const char *how)
{
	static const int pp[4][2] = { { 80, TCP }, { 81, TCP }, { 80, UDP }, { 81, UDP } };
	int bad = 0;

	for (int fam = 4; fam <= 6; fam += 2)
		for (int q = 0; q < 4; q++)
			for (int i = 0; i < NPODS; i++)
				for (int j = 0; j < NPODS; j++) {
					const struct tpod *s = &pods[i], *d = &pods[j];
					bool want;
					int got;

					if (i == j) /* never leaves the pod's netns */
						continue;
					want = c->egr(s, d, pp[q][0], pp[q][1], fam) &&
					       c->ing(s, d, pp[q][0], pp[q][1], fam);
					got = verdict(sim, s, d, pp[q][0], pp[q][1], fam);
					if (got != want && bad++ < 10)
						print_error(
							"%s [%s] IPv%d %d/%s %s -> %s: want %s, the rules say %s\n",
							c->what, how, fam, pp[q][0],
							pp[q][1] == TCP ? "tcp" : "udp", s->key,
							d->key, want ? "allowed" : "denied",
							got ? "allowed" : "denied");
				}
	if (bad)
		fail_msg("%s [%s]: %d connections differ", c->what, how, bad);
}

/* explain, the model's own evaluator, says the same (IPv4, 80/TCP) */
static void check_explain(const struct tcase *c, struct pol_engine *e)
{
	for (int i = 0; i < NPODS; i++)
		for (int j = 0; j < NPODS; j++) {
			struct loom_err err = { 0 };
			char *out = NULL;
			int rc;

			if (i == j)
				continue;
			rc = pol_explain(e, pods[i].key, pods[j].key, "80/TCP", &out, &err);
			if (rc < 0 || (rc == 0) != (c->egr(&pods[i], &pods[j], 80, TCP, 4) &&
						    c->ing(&pods[i], &pods[j], 80, TCP, 4)))
				fail_msg("%s: explain %s -> %s: %s%s", c->what, pods[i].key,
					 pods[j].key, out ? out : "", err.msg);
			free(out);
		}
}

static void test_fresh(void **state)
{
	(void)state;
	for (size_t k = 0; k < NCASES; k++) {
		struct pir ir[2] = { 0 }, *sim[2] = { &ir[0], &ir[1] };
		struct pol_engine *e[2];
		char why[4096];

		case_labels(&cases[k]);
		for (int n = 0; n < 2; n++) {
			e[n] = fresh(n ? "n2" : "n1", &cases[k]);
			if (cl_sync(e[n], sim[n], NULL, why, sizeof(why)) < 0)
				fail_long("%s: %s", cases[k].what, why);
		}
		check_matrix(&cases[k], sim, "fresh");
		check_explain(&cases[k], e[0]);
		for (int n = 0; n < 2; n++) {
			pol_engine_free(e[n]);
			pir_clear(&ir[n]);
		}
	}
}

/* from case `from` to case `to` on a live engine */
static void step(struct pol_engine *e, const struct tcase *from, const struct tcase *to)
{
	char was[NPODS][8];

	for (int i = 0; i < NPODS; i++)
		snprintf(was[i], sizeof(was[i]), "%s", labels[i]);
	for (int k = 0; k < 3 && from->pol[k].ns; k++) {
		bool kept = false;

		for (int m = 0; m < 3 && to->pol[m].ns; m++)
			kept |= !strcmp(from->pol[k].ns, to->pol[m].ns) &&
				!strcmp(from->pol[k].name, to->pol[m].name);
		if (!kept)
			cl_policy_del(e, from->pol[k].ns, from->pol[k].name);
	}
	for (int k = 0; k < 3 && to->pol[k].ns; k++)
		assert_int_equal(cl_policy(e, to->pol[k].ns, to->pol[k].name, to->pol[k].spec), 0);
	case_labels(to);
	for (int i = 0; i < NPODS; i++)
		if (strcmp(was[i], labels[i]))
			put_pod(e, i);
}

static void run_sequence(const size_t *order, size_t n)
{
	struct pir ir[2] = { 0 }, *sim[2] = { &ir[0], &ir[1] };
	struct pol_engine *e[2];
	char why[8192];

	case_labels(&cases[0]);
	for (int k = 0; k < 2; k++) {
		e[k] = fresh(k ? "n2" : "n1", &cases[0]);
		assert_int_equal(cl_sync(e[k], sim[k], NULL, why, sizeof(why)), 0);
	}
	for (size_t s = 1; s < n; s++) {
		const struct tcase *from = &cases[order[s - 1]], *to = &cases[order[s]];

		for (int k = 0; k < 2; k++) {
			struct pol_engine *f;
			char *want, *got;

			/* labels are global: step the second engine from the same ones */
			if (k)
				case_labels(from);
			step(e[k], from, to);
			if (cl_sync(e[k], sim[k], NULL, why, sizeof(why)) < 0)
				fail_long("%s -> %s: %s", from->what, to->what, why);
			f = fresh(k ? "n2" : "n1", to);
			free(pol_engine_flush(f));
			want = pol_engine_ruleset(f);
			got = pol_engine_ruleset(e[k]);
			assert_non_null(want);
			assert_non_null(got);
			if (strcmp(want, got))
				fail_long(
					"%s -> %s: incremental differs from a fresh build:\n--- fresh\n%s--- incremental\n%s",
					from->what, to->what, want, got);
			free(want);
			free(got);
			pol_engine_free(f);
		}
		check_matrix(to, sim, "incremental");
	}
	for (int k = 0; k < 2; k++) {
		pol_engine_free(e[k]);
		pir_clear(&ir[k]);
	}
}

static void test_incremental(void **state)
{
	size_t order[2 * NCASES];
	size_t n = 0;

	(void)state;
	for (size_t k = 0; k < NCASES; k++)
		order[n++] = k;
	for (size_t k = NCASES - 1; k > 0; k--)
		order[n++] = k - 1;
	run_sequence(order, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_incremental),
	};

	model_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
