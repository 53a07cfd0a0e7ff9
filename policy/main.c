/* loom-policyd: NetworkPolicy for the pods of one node, in nftables.
 *
 *   loom-policyd --node NAME [--store URL] [--dry-run] [--status-interval S]
 *
 * One loop: list /loom/ once (one revision), build the whole table in one
 * transaction, then follow the watch; events available together go into
 * one batch.  After each sync /loom/policystatus/<node> says what is in
 * force.  A failed commit is logged and answered by a whole-table rebuild. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/notify.h"
#include "kernel/nft.h"
#include "policy.h"
#include "store/store.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	fputs("loom-policyd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void feed(struct pol_engine *e, const char *key, const char *value)
{
	struct loom_err err = { 0 };

	if (value && pol_engine_put(e, key, value, &err) < 0)
		logf_("skipping %s: %s", key, err.msg);
	else if (!value)
		pol_engine_del(e, key);
}

/* ms: the last sync (build + commit); lag: from the first event of that
 * sync read off the watch to its commit (what a pod change waits for once
 * the store has told us) */
static void put_status(struct loom_store *s, const char *node, const struct pol_engine *e,
		       int64_t rev, double ms, double lag)
{
	struct pol_counts c;
	struct loom_err err = { 0 };
	char key[512];
	json_t *j;
	char *v;

	pol_engine_counts(e, &c);
	j = json_pack("{ss sI sI sI sI sI sI sf sf sI}", "node", node, "revision", (json_int_t)rev,
		      "chains", (json_int_t)c.chains, "rules", (json_int_t)c.rules, "elements",
		      (json_int_t)c.elements, "policies", (json_int_t)c.policies, "pods",
		      (json_int_t)c.pods, "lastSyncMs", ms, "eventToCommitMs", lag, "syncedAt",
		      (json_int_t)time(NULL));
	v = j ? json_dumps(j, JSON_COMPACT) : NULL;
	snprintf(key, sizeof(key), "/loom/policystatus/%s", node);
	if (v && loom_store_put(s, key, v, strlen(v), 0, NULL, &err) < 0)
		logf_("cannot write %s: %s, ignoring", key, err.msg);
	free(v);
	json_decref(j);
}

/* Commit what is dirty.  0, or -1 after logging (the engine is reset so
 * the next sync rebuilds the whole table). */
static int sync_once(struct pol_engine *e, struct loom_nft *nft, double *ms)
{
	double t0 = now_ms();
	struct loom_err err = { 0 };
	char *batch = pol_engine_flush(e);
	int rc = 0;

	if (!batch) {
		logf_("out of memory building the ruleset");
		pol_engine_reset(e);
		return -1;
	}
	if (batch[0] && loom_nft_run(nft, batch, &err) < 0) {
		logf_("nft commit failed: %s; rebuilding the table", err.msg);
		if (err.details[0])
			logf_("%s", err.details);
		pol_engine_reset(e);
		rc = -1;
	}
	free(batch);
	*ms = now_ms() - t0;
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "store", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "status-interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *node = NULL, *url = getenv("LOOM_STORE");
	bool dry = false;
	int interval = 10, c, rc = 1;
	struct loom_err err = { 0 };
	struct loom_store *s = NULL;
	struct loom_watch *w = NULL;
	struct loom_nft *nft = NULL;
	struct pol_engine *e = NULL;
	struct loom_kv *kvs = NULL;
	size_t n = 0;
	int64_t rev = 0;
	double ms = 0, lag = 0, t_start = now_ms(), t_event = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': node = optarg; break;
		case 's': url = optarg; break;
		case 'd': dry = true; break;
		case 'i': interval = atoi(optarg); break;
		default:
			fputs("usage: loom-policyd --node NAME [--store URL] [--dry-run] [--status-interval S]\n",
			      stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!node || !*node) {
		logf_("--node is required");
		return 2;
	}
	if (!url || !*url)
		url = "file:/var/lib/loom/store";
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	e = pol_engine_new(node);
	if (!e || loom_store_open(url, &s, &err) < 0 ||
	    loom_store_list(s, "/loom/", &kvs, &n, &rev, &err) < 0) {
		logf_("%s%s%s", err.msg[0] ? err.msg : "out of memory", err.details[0] ? ": " : "",
		      err.details);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		feed(e, kvs[i].key, kvs[i].value);
	loom_kvs_free(kvs, n);
	if (dry) {
		char *batch = pol_engine_flush(e);

		if (batch)
			fputs(batch, stdout);
		rc = batch ? 0 : 1;
		free(batch);
		goto out;
	}
	if (loom_nft_new(0, &nft, &err) < 0) {
		logf_("%s", err.msg);
		goto out;
	}
	if (sync_once(e, nft, &ms) < 0)
		goto out;
	logf_("node %s: table inet loom in force at revision %" PRId64
	      " (%.1f ms from start, commit %.1f ms)",
	      node, rev, now_ms() - t_start, ms);
	put_status(s, node, e, rev, ms, now_ms() - t_start);
	loom_notify_ready("table inet loom in force");
	if (loom_store_watch(s, "/loom/", rev + 1, &w, &err) < 0) {
		logf_("watch: %s", err.msg);
		goto out;
	}
	double last_status = now_ms();
	int64_t reported = rev;
	bool pending = false, retry = false;
	while (!stop) {
		struct loom_event ev;
		int r;

		loom_notify_watchdog_tick((int64_t)now_ms()); /* the wait below is 1 s at most */
		r = loom_watch_next(w, &ev, pending ? 0 : 1000, &err);

		if (r < 0) {
			logf_("watch: %s", err.msg);
			goto out;
		}
		if (r == 1) {
			bool status = !strncmp(ev.kv.key, "/loom/policystatus/", 19);

			if (ev.kv.mod_revision > rev)
				rev = ev.kv.mod_revision;
			if (!status) {
				if (!pending)
					t_event = now_ms();
				feed(e, ev.kv.key, ev.type == LOOM_EV_PUT ? ev.kv.value : NULL);
				pending = true;
			}
			loom_kv_clear(&ev.kv);
			continue; /* drain what is ready: one batch for all of it */
		}
		if (pending || retry) {
			pending = false;
			/* a failed commit reset the engine: rebuild the whole
			 * table about once a second until it goes in, and never
			 * report a revision that is not in force */
			retry = sync_once(e, nft, &ms) < 0;
			if (retry)
				continue;
			lag = now_ms() - t_event;
			put_status(s, node, e, rev, ms, lag);
			reported = rev;
			last_status = now_ms();
		} else if (interval > 0 && rev > reported && now_ms() - last_status > interval * 1e3) {
			/* only status writes since: say we have seen them, rarely,
			 * so that nodes do not answer each other's writes forever */
			put_status(s, node, e, rev, ms, lag);
			reported = rev;
			last_status = now_ms();
		}
	}
	rc = 0;
	loom_notify_stopping();
out:
	loom_watch_close(w);
	loom_nft_free(nft);
	pol_engine_free(e);
	loom_store_close(s);
	return rc;
}
