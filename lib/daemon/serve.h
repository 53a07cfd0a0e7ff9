/* A daemon's /healthz, /readyz and /metrics on its event loop: the glue
 * between loop.c (fds and timers) and httpd.c + metrics.c, so loomd and
 * loom-policyd serve the same three endpoints the same way.
 *
 *   /healthz  200 "ok": the loop turns (a probe that gets no answer means
 *             the loop is stuck; systemd's watchdog says the same)
 *   /readyz   200 "ok" once the daemon is in sync, else 503 with the reason
 *             the daemon gives ("not ready: store unreachable: ...")
 *   /metrics  the registry in the Prometheus text format, refreshed first
 *             (gauges read from the daemon's state at scrape time)
 *
 * Owns: the server, its fds' loop registrations (loom_loop_watch), and the
 * timer that closes idle clients.  The registry stays the caller's.
 * Uses loop.c, httpd.c and metrics.c only; never prints. */
#ifndef LOOM_DAEMON_SERVE_H
#define LOOM_DAEMON_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/daemon.h"
#include "daemon/metrics.h"

struct loom_serve;

struct loom_serve_ops {
	/* true when in sync; else false with the reason in why (NUL-terminated) */
	bool (*ready)(void *arg, char *why, size_t len);
	/* update gauges before /metrics renders them (may be NULL) */
	void (*refresh)(void *arg);
};

/* Serve on "HOST:PORT" (httpd.h's forms) from loop l.  0 or -errno
 * (-EINVAL: an address that does not parse, -EADDRINUSE ...). */
int loom_serve_open(struct loom_loop *l, const char *address, struct loom_metrics *m,
		    const struct loom_serve_ops *ops, void *arg, struct loom_serve **out);
/* The port listened on (the one picked for port 0). */
int loom_serve_port(const struct loom_serve *s);
/* Close the server and every connection.  NULL-safe. */
void loom_serve_close(struct loom_serve *s);

/* loom_build_info{version} 1: every daemon's first series.  0 or -errno. */
int loom_serve_build_info(struct loom_metrics *m);

/* The buckets of loom_dataplane_apply_duration_seconds (seconds). */
extern const double loom_apply_seconds_buckets[];
extern const size_t loom_apply_seconds_n_buckets;

#endif
