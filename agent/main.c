/* loomd: one event loop (poll) over the state dir's inotify, a signalfd and
 * timers.
 *
 * The loop's whole state is two flags: `registered` (lease, node key, blocks
 * and lease file are in sync with the store) and `synced` (endpoint keys
 * match the records).  Any store failure clears both and schedules a retry
 * with capped exponential backoff; nothing local is undone meanwhile: the
 * lease file stays, pods keep working.  When the store answers again the
 * full sync runs (register, reconcile), which is the catch-up. */
#include "conflist.h"
#include "daemon.h"
#include "daemon/notify.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define WAIT_NETWORK_MS 1000   /* polling for a Network not applied yet */
#define RETRY_PROBLEM_MS 5000  /* exhausted CIDR, bad Network, unwritable run dir */
#define RETRY_NODES_MS 1000    /* the node list or the controller failed */
/* The store's watch has no descriptor to poll: while it is open, the loop
 * wakes this often to take its events. */
#define WATCH_POLL_MS 100

struct loop {
	struct loomd d;
	bool registered, synced;
	bool store_down;
	int backoff_ms;
	int64_t next_sync, next_keepalive;  /* CLOCK_MONOTONIC ms */
	char problem[LOOM_ERR_MSG_MAX];     /* the last non-store problem logged */
	int ifd, wd, sfd;
	struct loomd_nodes nodes;           /* other nodes -> the mode's controller */
	int64_t next_nodes;                 /* when to retry a failed node sync */
	char nodes_problem[LOOM_ERR_MSG_MAX];
	bool sysctls_done;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
		loomd_log("store reachable again: %s", loom_store_url(l->d.store));
	l->store_down = false;
	l->backoff_ms = BACKOFF_MIN_MS;
}

/* A step failed: say so once per change of state, schedule the retry. */
static void failed(struct loop *l, const struct loom_err *err, int64_t now)
{
	char text[2 * LOOM_ERR_MSG_MAX + 4];

	err_text(err, text, sizeof(text));
	l->registered = false;
	l->synced = false;
	if (err->code == LOOM_ERR_STORE) {
		if (!l->store_down)
			loomd_log("store unreachable: %s, retrying", text);
		else
			l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
									  : l->backoff_ms * 2;
		l->store_down = true;
		l->next_sync = now + l->backoff_ms;
		return;
	}
	store_up(l);
	if (strncmp(l->problem, err->msg, sizeof(l->problem)) != 0) {
		loomd_log("%s%s", err->code == LOOM_ERR_NOT_FOUND ? "" : "error: ", text);
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

	if (strncmp(l->nodes_problem, err->msg, sizeof(l->nodes_problem)) != 0) {
		loomd_log("nodes: %s, retrying", err_text(err, text, sizeof(text)));
		snprintf(l->nodes_problem, sizeof(l->nodes_problem), "%s", err->msg);
	}
	l->next_nodes = now + RETRY_NODES_MS;
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
		if (loomd_nodes_sync(&l->d, &l->nodes, &err) < 0) {
			nodes_failed(l, &err, now);
			network_stale(l, now);
			return;
		}
		if (l->nodes_problem[0])
			loomd_log("nodes: in sync again");
		l->nodes_problem[0] = '\0';
	}
	if (loomd_nodes_poll(&l->d, &l->nodes, &err) < 0)
		nodes_failed(l, &err, now);
	network_stale(l, now);
}

static void do_keepalive(struct loop *l, int64_t now)
{
	struct loom_err err = { 0 };

	if (loomd_keepalive(&l->d, &err) == 0) {
		store_up(l);
		l->next_keepalive = now + (int64_t)l->d.cfg.ttl * 1000 / 3;
		return;
	}
	if (err.code == LOOM_ERR_NOT_FOUND) {
		/* Our keys are gone with the lease: register again at once,
		 * asking for the same blocks. */
		loomd_log("lease expired in the store, registering again");
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
			if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
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
		loomd_log("cannot watch the state dir %s: %s, retrying", l->d.cfg.state_dir,
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
	if ((l->nodes.watch || l->nodes.config_watch) && now_ms() + WATCH_POLL_MS < t)
		t = now_ms() + WATCH_POLL_MS;
	return t;
}

static int run(struct loop *l)
{
	int64_t now, t;
	struct pollfd pfd[2];

	for (;;) {
		now = now_ms();
		if ((!l->registered || !l->synced) && now >= l->next_sync)
			do_sync(l, now);
		do_nodes(l, now);
		if (l->registered && l->synced && l->nodes.synced)
			loom_notify_ready("in sync: lease held, lease file and conflist written");
		if (l->d.cfg.once) {
			if (l->registered && l->synced)
				return 0;
			return 1;
		}
		if (l->registered && now >= l->next_keepalive)
			do_keepalive(l, now);
		if (l->wd < 0 && watch_state_dir(l) == 0)
			l->synced = false;

		t = next_deadline(l);
		if (loom_notify_watchdog_tick(now) < t)
			t = loom_notify_watchdog_tick(now);
		pfd[0] = (struct pollfd){ .fd = l->sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = l->ifd, .events = POLLIN };
		if (poll(pfd, 2, t == INT64_MAX ? -1 : (int)(t > now ? t - now : 0)) < 0 &&
		    errno != EINTR)
			return loomd_log("poll: %s", strerror(errno)), 1;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(l->sfd, &si, sizeof(si)) == sizeof(si)) {
				loomd_log("signal %u, exiting", si.ssi_signo);
				return 0;
			}
		}
		if (pfd[1].revents & POLLIN)
			on_inotify(l, now_ms());
	}
}

int main(int argc, char **argv)
{
	static struct loop l;
	struct loom_err err = { 0 };
	char ifname[16], text[2 * LOOM_ERR_MSG_MAX + 4], addr[LOOM_IP_STRLEN];
	sigset_t mask;
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

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	l.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	l.ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (l.sfd < 0 || l.ifd < 0) {
		loomd_log("cannot create signalfd/inotify: %s", strerror(errno));
		return 1;
	}
	if (watch_state_dir(&l) < 0) {
		loomd_log("cannot watch the state dir %s: %s", l.d.cfg.state_dir, strerror(errno));
		return 1;
	}
	if (loom_store_open(l.d.cfg.store_url, &l.d.store, &err) < 0) {
		loomd_log("cannot open the store: %s", err_text(&err, text, sizeof(text)));
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
	l.backoff_ms = BACKOFF_MIN_MS;
	l.next_sync = now_ms();

	r = run(&l);
	loom_notify_stopping();

	if (l.d.cfg.release_on_exit && l.d.lease) {
		if (loom_store_lease_revoke(l.d.store, l.d.lease, &err) < 0)
			loomd_log("cannot release the lease: %s", err.msg);
		else
			loomd_log("released lease %llx", (unsigned long long)l.d.lease);
	}
	/* The dataplane stays as it is: pods keep their traffic while loomd
	 * is away, and the next start reconciles. */
	loomd_nodes_stop(&l.nodes);
	loom_store_close(l.d.store);
	close(l.ifd);
	close(l.sfd);
	return r;
}
