/* loom-policyd: NetworkPolicy for the pods of one node, in nftables.
 *
 *   loom-policyd --node NAME [--store URL] [--dry-run] [--status-interval S]
 *                [--log-level debug|info|warn|error] [--metrics-address HOST:PORT]
 *
 * Runs on the daemon runtime (lib/daemon): one event loop over the store
 * watch's fd, timers and signals.
 *
 * In sync: /loom/ listed at one revision, the whole table built in one
 * transaction, then the watch followed; the events one wakeup drains go
 * into one batch.  After each commit /loom/policystatus/<node> says what
 * is in force.  A failed commit is logged and answered by a whole-table
 * rebuild.
 *
 * Out of sync: the store cannot be listed or the watch failed or was lost
 * (etcd stopped, the file store out of inotify instances).  The daemon
 * never exits for that: it logs that it is not in sync and why, keeps the
 * rules in force as they are, and retries with exponential backoff and
 * jitter.  Catching up is a relist: every key is compared by mod_revision
 * with what was fed to the engine (`fed`), changed and new keys are fed,
 * vanished ones deleted, and one batch commits the difference; then a
 * new watch follows from the list's revision. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/strset.h"
#include "daemon/daemon.h"
#include "daemon/notify.h"
#include "daemon/serve.h"
#include "kernel/nft.h"
#include "policy.h"
#include "store/store.h"

#define STATUS_PREFIX "/loom/policystatus/"
#define RETRY_MIN_MS 200
#define RETRY_MAX_MS 10000
#define COMMIT_RETRY_MS 1000
#define STATUS_INTERVAL_MAX 86400

static const char usage[] =
	"usage: loom-policyd --node NAME [--store URL] [--dry-run] [--status-interval S]\n"
	"                    [--log-level debug|info|warn|error] [--metrics-address HOST:PORT]\n"
	"  --store            datastore URL (default $LOOM_STORE, else file:/var/lib/loom/store)\n"
	"  --status-interval  seconds between status writes that only acknowledge other\n"
	"                     nodes' status (0..86400, 0 = never; default 10)\n"
	"  --metrics-address  serve /healthz, /readyz and /metrics there (default: off)\n";

struct policyd {
	const char *node;
	int status_interval; /* s, 0 = no acknowledgement writes */
	struct loom_store *s;
	struct loom_nft *nft;
	struct pol_engine *e;
	struct loom_loop *loop;
	struct loom_watch *w;
	struct loom_io *wio;
	struct loom_timer *resync_t, *commit_t, *status_t, *watchdog_t;
	struct loom_backoff backoff;
	struct loom_strset fed; /* keys fed to the engine -> mod_revision fed */
	bool in_sync;           /* listed, committed, watching */
	bool ever_synced;
	bool commit_failed; /* the engine was reset: rebuild until it goes in */
	int64_t rev;        /* newest revision fed to the engine */
	int64_t reported;   /* revision last written to the status */
	int64_t out_since;  /* loom_now_ms when sync was lost */
	char why[LOOM_ERR_MSG_MAX * 2 + 64];
	double t_start, t_event;  /* ms, CLOCK_MONOTONIC */
	double last_ms, last_lag; /* the last commit's duration and event-to-commit lag */
	int64_t last_status;      /* loom_now_ms of the last status write */
	/* --metrics-address: the registry and its series (NULL-safe to bump) */
	struct loom_metrics *reg;
	struct loom_metric *apply_seconds, *apply_errors, *watch_restarts;
	struct loom_metric *policies, *rules, *elements;
	struct loom_serve *serve;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *err_text(const struct loom_err *err, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", err->msg[0] ? err->msg : "out of memory",
		 err->details[0] ? ": " : "", err->details);
	return buf;
}

/* ---- feeding the engine ---- */

static bool is_status(const char *key)
{
	return strncmp(key, STATUS_PREFIX, strlen(STATUS_PREFIX)) == 0;
}

static int feed_put(struct policyd *d, const struct loom_kv *kv)
{
	struct loom_err err = { 0 };

	if (pol_engine_put(d->e, kv->key, kv->value, &err) < 0)
		loom_warn("skipping %s: %s", kv->key, err.msg);
	/* -ENOMEM leaves the set as it was: the caller starts over */
	return loom_strset_put(&d->fed, kv->key, kv->mod_revision);
}

static void feed_del(struct policyd *d, const char *key)
{
	pol_engine_del(d->e, key);
	loom_strset_del(&d->fed, key);
}

/* ---- status ---- */

/* lastSyncMs: the last commit; eventToCommitMs: from the first event of
 * that commit read off the watch to the commit (what a pod change waits
 * for once the store has told us); inSync false with the reason when the
 * rules in force may be behind the store. */
static void put_status(struct policyd *d)
{
	struct pol_counts c;
	struct loom_err err = { 0 };
	char key[512], text[2 * LOOM_ERR_MSG_MAX + 4];
	json_t *j;
	char *v;

	pol_engine_counts(d->e, &c);
	j = json_pack("{ss sI sI sI sI sI sI sf sf sI sb}", "node", d->node, "revision",
		      (json_int_t)d->rev, "chains", (json_int_t)c.chains, "rules",
		      (json_int_t)c.rules, "elements", (json_int_t)c.elements, "policies",
		      (json_int_t)c.policies, "pods", (json_int_t)c.pods, "lastSyncMs", d->last_ms,
		      "eventToCommitMs", d->last_lag, "syncedAt", (json_int_t)time(NULL), "inSync",
		      d->in_sync);
	if (j && !d->in_sync && d->why[0])
		json_object_set_new(j, "reason", json_string(d->why));
	v = j ? json_dumps(j, JSON_COMPACT) : NULL;
	snprintf(key, sizeof(key), STATUS_PREFIX "%s", d->node);
	if (!v)
		loom_warn("out of memory writing %s, ignoring", key);
	else if (loom_store_put(d->s, key, v, strlen(v), 0, NULL, &err) < 0)
		loom_warn("cannot write %s: %s, ignoring", key, err_text(&err, text, sizeof(text)));
	else
		d->reported = d->rev;
	d->last_status = loom_now_ms();
	free(v);
	json_decref(j);
}

/* ---- committing ---- */

/* Commit what is dirty: 0, or -1 after logging (the engine is reset, so
 * the next commit rebuilds the whole table; the commit timer retries). */
static int commit(struct policyd *d)
{
	double t0 = now_ms();
	struct loom_err err = { 0 };
	char *batch = pol_engine_flush(d->e);
	int rc = 0;

	if (!batch) {
		loom_error("out of memory building the ruleset; rebuilding the table");
		rc = -1;
	} else if (batch[0] && loom_nft_run(d->nft, batch, &err) < 0) {
		loom_error("nft commit failed: %s; rebuilding the table", err.msg);
		if (err.details[0])
			loom_error("%s", err.details);
		rc = -1;
	}
	free(batch);
	d->last_ms = now_ms() - t0;
	d->commit_failed = rc < 0;
	loom_metric_observe(d->apply_seconds, d->last_ms / 1e3);
	if (rc < 0)
		loom_metric_inc(d->apply_errors);
	if (rc < 0) {
		pol_engine_reset(d->e);
		loom_timer_arm_in(d->commit_t, COMMIT_RETRY_MS);
	}
	return rc;
}

static void on_commit_timer(struct loom_loop *l, void *arg)
{
	struct policyd *d = arg;

	(void)l;
	/* never report a revision that is not in force */
	if (d->commit_failed && commit(d) == 0) {
		loom_info("table inet loom rebuilt at revision %" PRId64, d->rev);
		d->last_lag = now_ms() - d->t_event;
		put_status(d);
	}
}

/* ---- losing and regaining sync ---- */

static void close_watch(struct policyd *d)
{
	loom_io_remove(d->wio);
	d->wio = NULL;
	loom_watch_close(d->w);
	d->w = NULL;
}

/* The source failed: say so, keep the rules in force, retry later.
 * tell_store: the store answers (only the watch failed): put the reason in
 * this node's status too. */
static void lost_sync(struct policyd *d, const char *what, const struct loom_err *err,
		      bool tell_store)
{
	char text[2 * LOOM_ERR_MSG_MAX + 4];
	int64_t delay = loom_backoff_next(&d->backoff);

	close_watch(d);
	if (d->in_sync)
		d->out_since = loom_now_ms();
	d->in_sync = false;
	snprintf(d->why, sizeof(d->why), "%s: %s", what, err_text(err, text, sizeof(text)));
	if (tell_store)
		put_status(d);
	loom_notify_status(d->why);
	loom_warn("not in sync with the store (since %.1f s, attempt %u): %s; the rules in force "
		  "stay as they are; retrying in %" PRId64 " ms",
		  (double)(loom_now_ms() - d->out_since) / 1e3, d->backoff.failures, d->why, delay);
	loom_timer_arm_in(d->resync_t, delay);
}

static void on_watch(struct loom_loop *l, int fd, short revents, void *arg);

/* Relist, feed the difference, commit, watch from the list's revision. */
static void resync(struct policyd *d)
{
	struct loom_err err = { 0 };
	struct loom_kv *kvs = NULL;
	size_t n = 0, i, j, changed = 0;
	int64_t rev = 0;
	int r = 0;

	close_watch(d);
	if (loom_store_list(d->s, "/loom/", &kvs, &n, &rev, &err) < 0) {
		lost_sync(d, "list /loom/", &err, false);
		return;
	}
	/* both sorted by key: a merge walk */
	for (i = j = 0; i < n || j < d->fed.n;) {
		int c = i == n ? 1 : j == d->fed.n ? -1 : strcmp(kvs[i].key, d->fed.keys[j]);

		if (c > 0) {
			/* fed before, gone now: dropping it moves the next to j */
			pol_engine_del(d->e, d->fed.keys[j]);
			loom_strset_del_at(&d->fed, j);
			changed++;
			continue;
		}
		if (is_status(kvs[i].key)) {
			i++;
			continue;
		}
		if (c < 0 || kvs[i].mod_revision != d->fed.vals[j]) {
			bool was_fed = c == 0;

			if (!d->t_event)
				d->t_event = now_ms();
			r = feed_put(d, &kvs[i]);
			if (r < 0)
				break;
			changed++;
			if (!was_fed) {
				/* inserted before j: fed[j] moved one up */
				j++;
			}
		}
		i++;
		if (c == 0)
			j++;
	}
	loom_kvs_free(kvs, n);
	if (r < 0) {
		/* the set and the engine may disagree: start over from nothing */
		loom_strset_clear(&d->fed);
		pol_engine_free(d->e);
		d->e = pol_engine_new(d->node);
		loom_err_set(&err, LOOM_ERR_INTERNAL, "out of memory");
		if (!d->e) {
			loom_error("out of memory: cannot rebuild the policy engine");
			loom_loop_exit(d->loop, 1);
			return;
		}
		lost_sync(d, "catching up", &err, false);
		return;
	}
	d->rev = rev;
	if ((changed || !d->ever_synced || d->commit_failed) && commit(d) < 0) {
		/* the commit timer rebuilds; the watch still follows the store */
	}
	if (loom_store_watch(d->s, "/loom/", rev + 1, &d->w, &err) < 0) {
		lost_sync(d, "watch /loom/", &err, true);
		return;
	}
	r = loom_loop_add_io(d->loop, loom_watch_fd(d->w), POLLIN, on_watch, d, &d->wio);
	if (r < 0) {
		loom_err_errno(&err, LOOM_ERR_INTERNAL, -r, "cannot poll the watch");
		lost_sync(d, "watch /loom/", &err, false);
		return;
	}
	if (d->backoff.failures > 0)
		loom_info("in sync with the store again at revision %" PRId64
			  " after %.1f s out of sync (%zu keys caught up)",
			  rev, (double)(loom_now_ms() - d->out_since) / 1e3, changed);
	if (!d->ever_synced)
		loom_info("node %s: table inet loom in force at revision %" PRId64
			  " (%.1f ms from start, commit %.1f ms)",
			  d->node, rev, now_ms() - d->t_start, d->last_ms);
	/* lost_sync clears in_sync: this is a watch set up again */
	if (d->ever_synced && !d->in_sync)
		loom_metric_inc(d->watch_restarts);
	d->in_sync = true;
	d->ever_synced = true;
	d->why[0] = '\0';
	loom_notify_ready("table inet loom in force");
	loom_notify_status("in sync with the store");
	loom_backoff_reset(&d->backoff);
	d->last_lag = d->t_event ? now_ms() - d->t_event : now_ms() - d->t_start;
	d->t_event = 0;
	put_status(d);
}

static void on_resync_timer(struct loom_loop *l, void *arg)
{
	(void)l;
	resync(arg);
}

/* ---- following the watch ---- */

static void on_watch(struct loom_loop *l, int fd, short revents, void *arg)
{
	struct policyd *d = arg;
	struct loom_err err = { 0 };
	bool pending = false;
	int r;

	(void)l;
	(void)fd;
	(void)revents;
	/* drain what is ready: one batch for all of it */
	for (;;) {
		struct loom_event ev;

		r = loom_watch_next(d->w, &ev, 0, &err);
		if (r <= 0)
			break;
		if (ev.kv.mod_revision > d->rev)
			d->rev = ev.kv.mod_revision;
		if (!is_status(ev.kv.key)) {
			if (!pending && !d->t_event)
				d->t_event = now_ms();
			if (ev.type == LOOM_EV_PUT)
				r = feed_put(d, &ev.kv);
			else
				feed_del(d, ev.kv.key);
			pending = true;
		}
		loom_kv_clear(&ev.kv);
		if (r < 0) {
			loom_err_set(&err, LOOM_ERR_INTERNAL, "out of memory");
			break;
		}
	}
	if (pending && !d->commit_failed && commit(d) == 0) {
		d->last_lag = now_ms() - d->t_event;
		d->t_event = 0;
		put_status(d);
	} else if (!pending && d->rev > d->reported && d->status_interval > 0 &&
		   !loom_timer_armed(d->status_t)) {
		/* only status writes since: say we have seen them, rarely, so
		 * that nodes do not answer each other's writes forever */
		loom_timer_arm_at(d->status_t, d->last_status + (int64_t)d->status_interval * 1000);
	}
	if (r < 0)
		lost_sync(d, "watch /loom/", &err, false);
}

static void on_status_timer(struct loom_loop *l, void *arg)
{
	struct policyd *d = arg;

	(void)l;
	if (d->in_sync && !d->commit_failed && d->rev > d->reported)
		put_status(d);
}

/* the service manager's watchdog (nothing when it asked for none) */
static void on_watchdog_timer(struct loom_loop *l, void *arg)
{
	struct policyd *d = arg;
	int64_t next = loom_notify_watchdog_tick(loom_now_ms());

	(void)l;
	if (next != INT64_MAX)
		loom_timer_arm_at(d->watchdog_t, next);
}

static void on_signal(struct loom_loop *l, int signo, void *arg)
{
	(void)arg;
	loom_info("signal %d, exiting", signo);
	loom_loop_exit(l, 0);
}

/* ---- flags ---- */

/* A decimal integer in [min, max], the whole string: 0 or -1 with a message. */
static int parse_int(const char *flag, const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr,
			"loom-policyd: %s \"%s\": expected a whole number from %ld to %ld\n", flag,
			s, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

struct flags {
	const char *node, *url;
	const char *metrics_address; /* NULL: no HTTP endpoints */
	bool dry;
	int status_interval;
	enum loom_log_level level;
};

/* 0, 1 (--help), or 2 (usage error, said on stderr) */
static int parse_flags(int argc, char **argv, struct flags *f)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "store", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "status-interval", required_argument, NULL, 'i' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "metrics-address", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			f->node = optarg;
			break;
		case 's':
			f->url = optarg;
			break;
		case 'd':
			f->dry = true;
			break;
		case 'm':
			f->metrics_address = optarg;
			break;
		case 'i':
			if (parse_int("--status-interval", optarg, 0, STATUS_INTERVAL_MAX,
				      &f->status_interval) < 0)
				return 2;
			break;
		case 'l':
			if (loom_log_level_parse(optarg, &f->level) < 0) {
				fprintf(stderr,
					"loom-policyd: --log-level \"%s\": expected debug, info, "
					"warn or error\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			fprintf(stderr, "loom-policyd: %s needs a value\n%s", argv[optind - 1],
				usage);
			return 2;
		default:
			fprintf(stderr, "loom-policyd: unknown option \"%s\"\n%s", argv[optind - 1],
				usage);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loom-policyd: unexpected argument \"%s\"\n%s", argv[optind],
			usage);
		return 2;
	}
	if (!f->node || !*f->node) {
		fprintf(stderr, "loom-policyd: --node is required\n%s", usage);
		return 2;
	}
	if (strlen(f->node) > 253) {
		fprintf(stderr, "loom-policyd: --node \"%.40s...\": longer than 253 characters\n",
			f->node);
		return 2;
	}
	if (!f->url || !*f->url)
		f->url = "file:/var/lib/loom/store";
	return 0;
}

/* ---- /healthz, /readyz, /metrics ---- */

static bool serve_ready(void *arg, char *why, size_t len)
{
	struct policyd *d = arg;

	if (d->in_sync && !d->commit_failed)
		return true;
	if (d->commit_failed)
		snprintf(why, len, "the last nft commit failed; rebuilding the table");
	else
		snprintf(why, len, "%s", d->why[0] ? d->why : "listing the store");
	return false;
}

static void serve_refresh(void *arg)
{
	struct policyd *d = arg;
	struct pol_counts c;

	pol_engine_counts(d->e, &c);
	loom_metric_set(d->policies, (double)c.policies);
	loom_metric_set(d->rules, (double)c.rules);
	loom_metric_set(d->elements, (double)c.elements);
}

static struct loom_metric *gauge(struct policyd *d, const char *name, const char *help)
{
	return loom_metrics_add(d->reg, LOOM_METRIC_GAUGE, name, help, NULL, NULL, 0);
}

static int serve(struct policyd *d, const char *addr)
{
	static const struct loom_serve_ops ops = { .ready = serve_ready, .refresh = serve_refresh };
	int r = -ENOMEM;

	d->reg = loom_metrics_new();
	if (!d->reg || loom_serve_build_info(d->reg) < 0)
		goto fail;
	d->apply_seconds =
		loom_metrics_add(d->reg, LOOM_METRIC_HISTOGRAM,
				 "loom_dataplane_apply_duration_seconds",
				 "Time to commit one nftables batch of NetworkPolicy.", NULL,
				 loom_apply_seconds_buckets, loom_apply_seconds_n_buckets);
	d->apply_errors =
		loom_metrics_add(d->reg, LOOM_METRIC_COUNTER, "loom_dataplane_apply_errors_total",
				 "nftables batches that failed to commit.", NULL, NULL, 0);
	d->watch_restarts =
		loom_metrics_add(d->reg, LOOM_METRIC_COUNTER, "loom_store_watch_restarts_total",
				 "Store watches set up again after one was lost or failed.", NULL,
				 NULL, 0);
	d->policies = gauge(d, "loom_policies", "NetworkPolicies selecting a pod of this node.");
	d->rules = gauge(d, "loom_policy_rules", "nftables rules in table inet loom.");
	d->elements = gauge(d, "loom_policy_set_elements",
			    "Elements of the nftables sets in table inet loom.");
	if (!d->apply_seconds || !d->apply_errors || !d->watch_restarts || !d->policies ||
	    !d->rules || !d->elements)
		goto fail;
	r = loom_serve_open(d->loop, addr, d->reg, &ops, d, &d->serve);
	if (r < 0)
		goto fail;
	loom_info("serving /healthz, /readyz and /metrics on %s (port %d)", addr,
		  loom_serve_port(d->serve));
	return 0;
fail:
	loom_error("--metrics-address %s: cannot serve: %s", addr, strerror(-r));
	return -1;
}

/* --dry-run: the batch a fresh start would commit, on stdout. */
static int dry_run(struct policyd *d)
{
	struct loom_err err = { 0 };
	struct loom_kv *kvs = NULL;
	char text[2 * LOOM_ERR_MSG_MAX + 4];
	size_t n = 0, i;
	char *batch;

	if (loom_store_list(d->s, "/loom/", &kvs, &n, NULL, &err) < 0) {
		loom_error("list /loom/: %s", err_text(&err, text, sizeof(text)));
		return 1;
	}
	for (i = 0; i < n; i++)
		if (pol_engine_put(d->e, kvs[i].key, kvs[i].value, &err) < 0)
			loom_warn("skipping %s: %s", kvs[i].key, err.msg);
	loom_kvs_free(kvs, n);
	batch = pol_engine_flush(d->e);
	if (batch)
		fputs(batch, stdout);
	free(batch);
	return batch ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct flags f = { .url = getenv("LOOM_STORE"),
			   .status_interval = 10,
			   .level = LOOM_LOG_INFO };
	static struct policyd d;
	struct loom_err err = { 0 };
	char text[2 * LOOM_ERR_MSG_MAX + 4];
	int rc = 1, r;

	r = parse_flags(argc, argv, &f);
	if (r)
		return r == 1 ? 0 : 2;
	loom_log_init("loom-policyd", f.node);
	loom_log_set_level(f.level);
	signal(SIGPIPE, SIG_IGN);
	d.node = f.node;
	d.status_interval = f.status_interval;
	d.t_start = now_ms();
	loom_backoff_init(&d.backoff, RETRY_MIN_MS, RETRY_MAX_MS, 0);
	d.e = pol_engine_new(f.node);
	if (!d.e) {
		loom_error("out of memory");
		return 1;
	}
	/* a bad URL is the user's to fix; an unreachable store is retried */
	if (loom_store_open(f.url, &d.s, &err) < 0) {
		loom_error("%s", err_text(&err, text, sizeof(text)));
		goto out;
	}
	if (f.dry) {
		rc = dry_run(&d);
		goto out;
	}
	if (loom_nft_new(0, &d.nft, &err) < 0) {
		loom_error("%s", err_text(&err, text, sizeof(text)));
		goto out;
	}
	r = loom_loop_new(&d.loop);
	if (r == 0)
		r = loom_loop_add_signal(d.loop, SIGTERM, on_signal, &d);
	if (r == 0)
		r = loom_loop_add_signal(d.loop, SIGINT, on_signal, &d);
	if (r == 0)
		r = loom_loop_add_timer(d.loop, on_resync_timer, &d, &d.resync_t);
	if (r == 0)
		r = loom_loop_add_timer(d.loop, on_commit_timer, &d, &d.commit_t);
	if (r == 0)
		r = loom_loop_add_timer(d.loop, on_status_timer, &d, &d.status_t);
	if (r == 0)
		r = loom_loop_add_timer(d.loop, on_watchdog_timer, &d, &d.watchdog_t);
	if (r < 0) {
		loom_error("cannot set up the event loop: %s", strerror(-r));
		goto out;
	}
	if (f.metrics_address && serve(&d, f.metrics_address) < 0)
		goto out;
	loom_info("starting: store %s", loom_store_url(d.s));
	d.out_since = loom_now_ms();
	loom_timer_arm_in(d.resync_t, 0);
	loom_timer_arm_in(d.watchdog_t, 0);
	r = loom_loop_run(d.loop);
	if (r < 0)
		loom_error("event loop: %s", strerror(-r));
	rc = r == 0 ? 0 : 1;
	loom_notify_stopping();
out:
	close_watch(&d);
	loom_serve_close(d.serve);
	loom_metrics_free(d.reg);
	loom_loop_free(d.loop);
	loom_nft_free(d.nft);
	pol_engine_free(d.e);
	loom_strset_clear(&d.fed);
	loom_store_close(d.s);
	return rc;
}
