/* loomd: runs on the daemon runtime (lib/daemon): one event loop over the
 * state dir's inotify, the store watches' fds, SIGTERM/SIGINT and one step
 * timer.  Nothing polls: the loop sleeps until a record changes, a watch
 * has events, or the next deadline (retry, keep-alive, controller tick).
 *
 * The loop's whole state is two flags: `registered` (lease, node key, blocks
 * and lease file are in sync with the store) and `synced` (endpoint keys
 * match the records).  Any store failure clears both and schedules a retry
 * with capped exponential backoff and jitter; nothing local is undone meanwhile: the
 * lease file stays, pods keep working.  When the store answers again the
 * full sync runs (register, reconcile), which is the catch-up. */
#include "conflist.h"
#include "daemon.h"
#include "daemon/notify.h"
#include "daemon/serve.h"
#include "metrics.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define WAIT_NETWORK_MS 1000   /* polling for a Network not applied yet */
#define RETRY_PROBLEM_MS 5000  /* exhausted CIDR, bad Network, unwritable run dir */
#define RETRY_NODES_MIN_MS 500 /* the node list or the controller failed: backoff */
#define RETRY_NODES_MAX_MS 5000
/* While a controller with a tick() runs, the loop calls it this often (it
 * paces its own slow work: the bgp controller checks BIRD every second). */
#define TICK_MS 1000
#define MAX_WATCHES 4 /* store watches whose fds the loop follows */

struct loop {
	struct loomd d;
	bool registered, synced;
	bool store_down;
	struct loom_backoff backoff;       /* store retries */
	struct loom_backoff nodes_backoff; /* node sync retries */
	int64_t next_sync, next_keepalive; /* CLOCK_MONOTONIC ms */
	char problem[LOOM_ERR_MSG_MAX];    /* the last non-store problem logged */
	int ifd, wd;
	struct loom_loop *loop;
	struct loom_timer *step_t; /* armed for next_deadline() */
	struct {                   /* the store watches the loop follows */
		struct loom_watch *w;
		struct loom_io *io;
		int fd;
	} watched[MAX_WATCHES];
	struct loomd_nodes nodes; /* other nodes -> the mode's controller */
	int64_t next_nodes;       /* when to retry a failed node sync */
	char nodes_problem[LOOM_ERR_MSG_MAX];
	bool sysctls_done;
	bool nodes_ever_synced;       /* a later node sync is a watch restart */
	struct loomd_metrics metrics; /* --metrics-address only */
	struct loom_serve *serve;
};

static int64_t now_ms(void)
{
	return loom_now_ms();
}

static const char *err_text(const struct loom_err *err, char *buf, size_t len)
{
	if (err->details[0])
		snprintf(buf, len, "%s: %s", err->msg, err->details);
	else
		snprintf(buf, len, "%s", err->msg);
	return buf;
}

static void store_up(struct loop *l)
{
	if (l->store_down)
		loom_info("store reachable again: %s", loom_store_url(l->d.store));
	l->store_down = false;
	loom_backoff_reset(&l->backoff);
}

/* A step failed: say so once per change of state, schedule the retry. */
static void failed(struct loop *l, const struct loom_err *err, int64_t now)
{
	char text[2 * LOOM_ERR_MSG_MAX + 4];

	err_text(err, text, sizeof(text));
	l->registered = false;
	l->synced = false;
	if (err->code == LOOM_ERR_STORE) {
		int64_t delay = loom_backoff_next(&l->backoff);

		if (!l->store_down)
			loom_warn("store unreachable: %s, retrying with backoff", text);
		else
			loom_debug("store still unreachable: %s, retrying in %lld ms", text,
				   (long long)delay);
		l->store_down = true;
		l->next_sync = now + delay;
		return;
	}
	store_up(l);
	if (strncmp(l->problem, err->msg, sizeof(l->problem)) != 0) {
		loom_log(err->code == LOOM_ERR_NOT_FOUND ? LOOM_LOG_INFO : LOOM_LOG_ERROR, "%s",
			 text);
		snprintf(l->problem, sizeof(l->problem), "%s", err->msg);
	}
	l->next_sync = now + (err->code == LOOM_ERR_NOT_FOUND ? WAIT_NETWORK_MS : RETRY_PROBLEM_MS);
}

static void do_sync(struct loop *l, int64_t now)
{
	struct loom_err err = { 0 };

	if (!l->registered) {
		if (loomd_register(&l->d, &err) < 0 || loomd_conflist_sync(&l->d, &err) < 0) {
			failed(l, &err, now);
			return;
		}
		store_up(l);
		if (l->problem[0])
			loomd_log("registered");
		l->problem[0] = '\0';
		l->registered = true;
		l->next_keepalive = now + (int64_t)l->d.cfg.ttl * 1000 / 3;
		if (!l->sysctls_done)
			loomd_sysctls(l->d.net.mode);
		l->sysctls_done = true;
		loomd_nodes_check(&l->d, &l->nodes);
	}
	if (!l->synced) {
		if (loomd_endpoints_reconcile(&l->d, &err) < 0) {
			failed(l, &err, now);
			return;
		}
		l->synced = true;
	}
}

/* Node sync and watch failures: logged once per distinct problem, retried
 * on their own timer (the registration is not at fault). */
static void nodes_failed(struct loop *l, const struct loom_err *err, int64_t now)
{
	char text[2 * LOOM_ERR_MSG_MAX + 4];
	int64_t delay = loom_backoff_next(&l->nodes_backoff);

	/* the store not answering is not the dataplane failing */
	if (err->code != LOOM_ERR_STORE)
		loom_metric_inc(l->metrics.apply_errors);
	if (strncmp(l->nodes_problem, err->msg, sizeof(l->nodes_problem)) != 0) {
		loom_warn("nodes: %s, retrying", err_text(err, text, sizeof(text)));
		snprintf(l->nodes_problem, sizeof(l->nodes_problem), "%s", err->msg);
	} else {
		loom_debug("nodes: still failing, retrying in %lld ms", (long long)delay);
	}
	l->next_nodes = now + delay;
}

/* The Network changed beyond the mode's section (seen by a node sync or
 * poll, even one that failed after): new blocks, a new lease file, and the
 * controller restarted (loomd_nodes_check). */
static void network_stale(struct loop *l, int64_t now)
{
	if (!l->nodes.network_stale)
		return;
	l->nodes.network_stale = false;
	l->registered = false;
	l->next_sync = now;
}

static void do_nodes(struct loop *l, int64_t now)
{
	struct loom_err err = { 0 };

	if (!l->registered)
		return;
	if (!l->nodes.synced) {
		if (now < l->next_nodes)
			return;
		int64_t t0 = now_ms();
		int r = loomd_nodes_sync(&l->d, &l->nodes, &err);

		if (r == 0)
			loom_metric_observe(l->metrics.apply_seconds,
					    (double)(now_ms() - t0) / 1e3);
		if (r < 0) {
			nodes_failed(l, &err, now);
			network_stale(l, now);
			return;
		}
		if (l->nodes_ever_synced)
			loom_metric_inc(l->metrics.watch_restarts);
		l->nodes_ever_synced = true;
		if (l->nodes_problem[0])
			loom_info("nodes: in sync again");
		l->nodes_problem[0] = '\0';
		loom_backoff_reset(&l->nodes_backoff);
	}
	if (loomd_nodes_poll(&l->d, &l->nodes, &err) < 0)
		nodes_failed(l, &err, now);
	network_stale(l, now);
}

static void do_keepalive(struct loop *l, int64_t now)
{
	struct loom_err err = { 0 };

	if (loomd_keepalive(&l->d, &err) == 0) {
		loom_metric_inc(l->metrics.renew_ok);
		store_up(l);
		l->next_keepalive = now + (int64_t)l->d.cfg.ttl * 1000 / 3;
		return;
	}
	loom_metric_inc(l->metrics.renew_failed);
	if (err.code == LOOM_ERR_NOT_FOUND) {
		/* Our keys are gone with the lease: register again at once,
		 * asking for the same blocks. */
		loom_warn("lease expired in the store, registering again");
		l->registered = false;
		l->synced = false;
		l->next_sync = now;
		return;
	}
	failed(l, &err, now);
}

static int watch_state_dir(struct loop *l)
{
	char *p = l->d.cfg.state_dir, *s;

	/* mkdir -p: the plugins create it on the first pod, we may be first. */
	for (s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		(void)mkdir(p, 0755);
		*s = '/';
	}
	(void)mkdir(p, 0755);
	l->wd = inotify_add_watch(l->ifd, p,
				  IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
					  IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
	return l->wd < 0 ? -errno : 0;
}

static void on_inotify(struct loop *l, int64_t now)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct loom_err err = { 0 };
	ssize_t n;
	char *p;

	while ((n = read(l->ifd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask &
			    (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				/* Lost events or lost the dir: rescan everything. */
				l->synced = false;
				if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
					if (l->wd >= 0)
						inotify_rm_watch(l->ifd, l->wd);
					l->wd = -1;
				}
				continue;
			}
			/* While not synced the next reconcile covers this event. */
			if (!l->synced || ev->len == 0 || ev->name[0] == '.')
				continue;
			if (loomd_endpoint_changed(&l->d, ev->name, &err) < 0)
				failed(l, &err, now);
		}
	}
	if (l->wd < 0 && watch_state_dir(l) < 0)
		loom_warn("cannot watch the state dir %s: %s, retrying", l->d.cfg.state_dir,
			  strerror(errno));
}

static int64_t next_deadline(const struct loop *l)
{
	int64_t t = INT64_MAX;

	if (!l->registered || !l->synced)
		t = l->next_sync;
	if (l->registered && l->next_keepalive < t)
		t = l->next_keepalive;
	if (l->wd < 0 && l->next_sync < t)
		t = l->next_sync;
	if (l->registered && !l->nodes.synced && l->next_nodes < t)
		t = l->next_nodes;
	if (l->nodes.synced && l->nodes.ops && l->nodes.ops->tick && now_ms() + TICK_MS < t)
		t = now_ms() + TICK_MS;
	return t;
}

static void step(struct loop *l);

static void on_watch_fd(struct loom_loop *loop, int fd, short revents, void *arg)
{
	(void)loop;
	(void)fd;
	(void)revents;
	step(arg);
}

/* The store watches to follow now: those do_nodes drains (nodes.c opens
 * and closes them as it syncs).  A watch nobody drains would keep its fd
 * readable and spin the loop, so none while unregistered. */
static size_t open_watches(const struct loop *l, struct loom_watch *ws[MAX_WATCHES])
{
	size_t n = 0;

	if (!l->registered || !l->nodes.synced)
		return 0;
	if (l->nodes.watch)
		ws[n++] = l->nodes.watch;
	if (l->nodes.config_watch)
		ws[n++] = l->nodes.config_watch;
	return n;
}

/* Follow exactly the watches open now: a watch re-created since (even
 * one reusing the fd number) is registered afresh. */
static void follow_watches(struct loop *l)
{
	struct loom_watch *ws[MAX_WATCHES] = { 0 };
	size_t n = open_watches(l, ws), i;

	for (i = 0; i < MAX_WATCHES; i++) {
		struct loom_watch *w = i < n ? ws[i] : NULL;
		int fd = w ? loom_watch_fd(w) : -1;
		int r;

		if (l->watched[i].w == w && l->watched[i].fd == fd)
			continue;
		loom_io_remove(l->watched[i].io);
		l->watched[i].io = NULL;
		l->watched[i].w = w;
		l->watched[i].fd = fd;
		if (!w)
			continue;
		r = loom_loop_add_io(l->loop, fd, POLLIN, on_watch_fd, l, &l->watched[i].io);
		if (r < 0) {
			/* cannot follow it: drop the watch, the node sync retries */
			loom_warn("cannot poll a store watch: %s, retrying", strerror(-r));
			l->watched[i].w = NULL;
			loomd_nodes_stop(&l->nodes);
			l->next_nodes = now_ms() + loom_backoff_next(&l->nodes_backoff);
		}
	}
}

/* One turn of loomd's work: whatever is due, then the next deadline. */
static void step(struct loop *l)
{
	int64_t now = now_ms(), t, ping;

	if ((!l->registered || !l->synced) && now >= l->next_sync)
		do_sync(l, now);
	do_nodes(l, now);
	if (l->registered && l->synced && l->nodes.synced)
		loom_notify_ready("in sync: lease held, lease file and conflist written");
	if (l->d.cfg.once) {
		loom_loop_exit(l->loop, l->registered && l->synced ? 0 : 1);
		return;
	}
	if (l->registered && now >= l->next_keepalive)
		do_keepalive(l, now);
	if (l->wd < 0 && watch_state_dir(l) == 0)
		l->synced = false;
	follow_watches(l);
	t = next_deadline(l);
	/* the service manager's watchdog: pinged from here, woken for it */
	ping = loom_notify_watchdog_tick(now);
	loom_timer_arm_at(l->step_t, ping < t ? ping : t);
}

static void on_step_timer(struct loom_loop *loop, void *arg)
{
	(void)loop;
	step(arg);
}

static void on_state_dir(struct loom_loop *loop, int fd, short revents, void *arg)
{
	struct loop *l = arg;

	(void)loop;
	(void)fd;
	(void)revents;
	on_inotify(l, now_ms());
	step(l);
}

static void on_signal(struct loom_loop *loop, int signo, void *arg)
{
	(void)arg;
	loom_info("signal %d, exiting", signo);
	loom_loop_exit(loop, 0);
}

/* /readyz: in sync is registered (lease, node key, lease file, conflist),
 * endpoints published and the node list followed. */
static bool serve_ready(void *arg, char *why, size_t len)
{
	struct loop *l = arg;

	if (l->registered && l->synced && l->nodes.synced)
		return true;
	if (l->store_down)
		snprintf(why, len, "store unreachable: %s", loom_store_url(l->d.store));
	else if (!l->registered && l->problem[0])
		snprintf(why, len, "not registered: %s", l->problem);
	else if (!l->registered)
		snprintf(why, len, "registering node %s", l->d.cfg.node);
	else if (!l->synced)
		snprintf(why, len, "publishing endpoints");
	else
		snprintf(why, len, "node list not in sync%s%s", l->nodes_problem[0] ? ": " : "",
			 l->nodes_problem);
	return false;
}

static void serve_refresh(void *arg)
{
	struct loop *l = arg;

	loomd_metrics_refresh(&l->metrics, &l->d, l->nodes.synced ? l->nodes.n_known : 0);
}

/* --metrics-address: /healthz, /readyz, /metrics as one more fd of the loop */
static int serve(struct loop *l)
{
	static const struct loom_serve_ops ops = { .ready = serve_ready, .refresh = serve_refresh };
	const char *addr = l->d.cfg.metrics_address;
	int r;

	if (!addr[0])
		return 0;
	r = loomd_metrics_init(&l->metrics);
	if (r == 0)
		r = loom_serve_open(l->loop, addr, l->metrics.reg, &ops, l, &l->serve);
	if (r < 0) {
		loom_error("--metrics-address %s: cannot serve: %s", addr, strerror(-r));
		return -1;
	}
	loom_info("serving /healthz, /readyz and /metrics on %s (port %d)", addr,
		  loom_serve_port(l->serve));
	return 0;
}

static int run(struct loop *l)
{
	int r;

	r = loom_loop_add_signal(l->loop, SIGTERM, on_signal, l);
	if (r == 0)
		r = loom_loop_add_signal(l->loop, SIGINT, on_signal, l);
	if (r == 0)
		r = loom_loop_add_io(l->loop, l->ifd, POLLIN, on_state_dir, l, NULL);
	if (r == 0)
		r = loom_loop_add_timer(l->loop, on_step_timer, l, &l->step_t);
	if (r < 0) {
		loom_error("cannot set up the event loop: %s", strerror(-r));
		return 1;
	}
	if (serve(l) < 0)
		return 1;
	loom_timer_arm_in(l->step_t, 0);
	r = loom_loop_run(l->loop);
	if (r < 0) {
		loom_error("event loop: %s", strerror(-r));
		return 1;
	}
	return r;
}

int main(int argc, char **argv)
{
	static struct loop l;
	struct loom_err err = { 0 };
	char ifname[16], text[2 * LOOM_ERR_MSG_MAX + 4], addr[LOOM_IP_STRLEN];
	int r;

	r = loomd_config_parse(argc, argv, getenv("LOOM_STORE"), &l.d.cfg, &err);
	if (r == 1) {
		fputs(loomd_usage, stdout);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "loomd: %s\n%s", err.msg, loomd_usage);
		return 2;
	}
	loomd_log_init(l.d.cfg.node);
	loom_log_set_level((enum loom_log_level)l.d.cfg.log_level);

	signal(SIGPIPE, SIG_IGN);
	r = loom_loop_new(&l.loop);
	if (r < 0) {
		loom_error("cannot create the event loop: %s", strerror(-r));
		return 1;
	}
	/* The state dir's inotify: the store's file: watches share another
	 * (lib/store), so loomd holds two instances at most. */
	l.ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (l.ifd < 0) {
		loom_error("cannot create an inotify instance: %s", strerror(errno));
		return 1;
	}
	if (watch_state_dir(&l) < 0) {
		loom_error("cannot watch the state dir %s: %s", l.d.cfg.state_dir, strerror(errno));
		return 1;
	}
	if (loom_store_open(l.d.cfg.store_url, &l.d.store, &err) < 0) {
		loom_error("cannot open the store: %s", err_text(&err, text, sizeof(text)));
		return 1;
	}
	l.d.underlay_mtu = loomd_underlay_mtu(&l.d.cfg.address, ifname);
	if (l.d.underlay_mtu)
		loomd_log("underlay %s on %s, mtu %u", loom_ip_fmt(&l.d.cfg.address, addr), ifname,
			  l.d.underlay_mtu);
	else
		loomd_log("no interface holds --address here: assuming an underlay mtu of 1500");
	loomd_log("starting: network %s, store %s, run dir %s, state dir %s, ttl %ds",
		  l.d.cfg.network, loom_store_url(l.d.store), l.d.cfg.run_dir, l.d.cfg.state_dir,
		  l.d.cfg.ttl);
	loomd_ipam_sweep(&l.d.cfg);
	loom_backoff_init(&l.backoff, BACKOFF_MIN_MS, BACKOFF_MAX_MS, 0);
	loom_backoff_init(&l.nodes_backoff, RETRY_NODES_MIN_MS, RETRY_NODES_MAX_MS, 0);
	l.next_sync = now_ms();

	r = run(&l);
	loom_notify_stopping();

	if (l.d.cfg.release_on_exit && l.d.lease) {
		if (loom_store_lease_revoke(l.d.store, l.d.lease, &err) < 0)
			loom_warn("cannot release the lease: %s", err.msg);
		else
			loomd_log("released lease %llx", (unsigned long long)l.d.lease);
	}
	/* The dataplane stays as it is: pods keep their traffic while loomd
	 * is away, and the next start reconciles. */
	for (size_t i = 0; i < MAX_WATCHES; i++)
		loom_io_remove(l.watched[i].io);
	loomd_nodes_stop(&l.nodes);
	loom_serve_close(l.serve);
	loomd_metrics_free(&l.metrics);
	loom_loop_free(l.loop);
	loom_store_close(l.d.store);
	close(l.ifd);
	return r;
}
