/* loomctl policy status|wait|explain: what loom-policyd has in force, and
 * why a connection is allowed, computed from the same engine (no kernel). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "policy.h"

int ctl_policy(struct ctl *c, int argc, char **argv);

#define P_STATUS "/loom/policystatus/"

static int status(struct ctl *c)
{
	struct loom_store *s = ctl_store(c);
	struct loom_err err = { 0 };
	struct loom_kv *kvs = NULL;
	size_t n = 0;
	int64_t rev;

	if (!s)
		return 1;
	if (loom_store_list(s, P_STATUS, &kvs, &n, &rev, &err) < 0) {
		ctl_error("%s", err.msg);
		return 1;
	}
	printf("%-20s %10s %8s %8s %10s %10s\n", "NODE", "REVISION", "CHAINS", "RULES", "ELEMENTS",
	       "LAST-SYNC");
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_loads(kvs[i].value, 0, NULL);

		printf("%-20s %10" PRId64 " %8" PRId64 " %8" PRId64 " %10" PRId64 " %8.2fms\n",
		       kvs[i].key + strlen(P_STATUS),
		       (int64_t)json_integer_value(json_object_get(j, "revision")),
		       (int64_t)json_integer_value(json_object_get(j, "chains")),
		       (int64_t)json_integer_value(json_object_get(j, "rules")),
		       (int64_t)json_integer_value(json_object_get(j, "elements")),
		       json_real_value(json_object_get(j, "lastSyncMs")));
		json_decref(j);
	}
	printf("store revision %" PRId64 "\n", rev);
	loom_kvs_free(kvs, n);
	return 0;
}

/* The revision of the last change a policy daemon acts on: status writes
 * after a node's reported revision do not count (a daemon does not answer
 * other daemons' status writes). */
static int64_t target_rev(struct loom_store *s, int64_t from, int64_t cur)
{
	struct loom_watch *w = NULL;
	struct loom_err err = { 0 };
	struct loom_event ev;
	int64_t t = from;

	if (from >= cur || loom_store_watch(s, "/loom/", from + 1, &w, &err) < 0)
		return cur;
	while (loom_watch_next(w, &ev, 200, &err) == 1) {
		int64_t r = ev.kv.mod_revision;

		if (strncmp(ev.kv.key, P_STATUS, strlen(P_STATUS)) && r > t)
			t = r;
		loom_kv_clear(&ev.kv);
		if (r >= cur)
			break;
	}
	loom_watch_close(w);
	return t;
}

static int wait_cmd(struct ctl *c, int argc, char **argv)
{
	struct loom_store *s = ctl_store(c);
	double timeout = 60;
	struct timespec t0, t1;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atof(argv[++i]);
		else if (!strncmp(argv[i], "--timeout=", 10))
			timeout = atof(argv[i] + 10);
		else {
			ctl_error("policy wait: unknown argument \"%s\"", argv[i]);
			return 1;
		}
	}
	if (!s)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int64_t cur = -1, target = -1;
	for (;;) {
		struct loom_err err = { 0 };
		struct loom_kv *kvs = NULL;
		size_t n = 0;
		int64_t rev, lo = INT64_MAX;

		if (loom_store_list(s, P_STATUS, &kvs, &n, &rev, &err) < 0) {
			ctl_error("%s", err.msg);
			return 1;
		}
		if (cur < 0)
			cur = rev;
		for (size_t i = 0; i < n; i++) {
			json_t *j = json_loads(kvs[i].value, 0, NULL);
			int64_t r = json_integer_value(json_object_get(j, "revision"));

			lo = r < lo ? r : lo;
			json_decref(j);
		}
		loom_kvs_free(kvs, n);
		if (n && target < 0)
			target = target_rev(s, lo, cur);
		if (n && lo >= target) {
			printf("every node applied revision %" PRId64 "\n", target);
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 > timeout) {
			ctl_error("timed out: %s", n ? "a node has not applied the current revision"
						     : "no node reports policy status");
			return 1;
		}
		usleep(50000);
	}
}

static int explain(struct ctl *c, int argc, char **argv)
{
	struct loom_store *s = ctl_store(c);
	struct loom_err err = { 0 };
	struct loom_kv *kvs = NULL;
	struct pol_engine *e;
	size_t n = 0;
	int64_t rev;
	char *out = NULL;
	int rc;

	if (argc != 5) {
		ctl_error("usage: loomctl policy explain NS/POD NS/POD PORT/PROTO");
		return 1;
	}
	if (!s)
		return 1;
	if (loom_store_list(s, "/loom/", &kvs, &n, &rev, &err) < 0) {
		ctl_error("%s", err.msg);
		return 1;
	}
	e = pol_engine_new(NULL);
	for (size_t i = 0; e && i < n; i++) {
		struct loom_err perr = { 0 };

		if (pol_engine_put(e, kvs[i].key, kvs[i].value, &perr) < 0)
			fprintf(stderr, "warning: skipped %s\n", perr.msg);
	}
	loom_kvs_free(kvs, n);
	if (!e) {
		ctl_error("out of memory");
		return 1;
	}
	rc = pol_explain(e, argv[2], argv[3], argv[4], &out, &err);
	pol_engine_free(e);
	if (rc < 0) {
		ctl_error("%s", err.msg);
		return 2;
	}
	fputs(out, stdout);
	free(out);
	return rc; /* 0 allowed, 1 denied */
}

int ctl_policy(struct ctl *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return status(c);
	if (argc >= 2 && !strcmp(argv[1], "wait"))
		return wait_cmd(c, argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "explain"))
		return explain(c, argc, argv);
	ctl_error(
		"usage: loomctl policy status | wait [--timeout S] | explain NS/POD NS/POD PORT/PROTO");
	return 1;
}
