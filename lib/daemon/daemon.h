/* The daemon runtime: what loomd and loom-policyd (and any later daemon)
 * share to run.
 *
 * Owns: one event loop over file descriptors, timers and signals
 * (loop.c); retry delays with exponential backoff and jitter (backoff.c);
 * levelled, timestamped logging, one line per event on stderr (log.c).
 * Later: health/readiness/metrics endpoints and sd_notify, each as one
 * more fd or call on the same loop.
 *
 * May use: libc and base only (later libsystemd).  It knows nothing of the
 * datastore, the kernel seam or the policy engine: a daemon's main wires
 * those in as fds and timers.
 *
 * Unlike the rest of lib/, log.c prints: it is the one place a daemon's
 * lines are written, called only from a binary's own code (mains and the
 * daemon-side steps), never from the layers below. */
#ifndef LOOM_DAEMON_H
#define LOOM_DAEMON_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- time ---- */

/* CLOCK_MONOTONIC in milliseconds: every deadline of the runtime. */
int64_t loom_now_ms(void);

/* ---- the event loop (loop.c) ----
 *
 * One thread, poll(2) over the registered fds.  Why poll and not epoll: a
 * daemon here has a handful of fds (a signalfd, an inotify, a store watch
 * or two, later an HTTP listener and its clients), where poll's linear
 * scan costs nothing, and poll lets two handlers register the same fd
 * (each is called when it is ready) without epoll's EEXIST.  Timers are a
 * small array scanned for the earliest deadline (a daemon has a few);
 * signals arrive through one signalfd, so a handler runs in the loop like
 * any other event, never in signal context.
 *
 * Handlers may add and remove fds and timers (their own included) from
 * inside a callback; a removed entry is never called again, even later in
 * the same turn.  Timers due at the same time fire in deadline order, then
 * in the order they were armed. */
struct loom_loop;
struct loom_io;
struct loom_timer;

typedef void (*loom_io_fn)(struct loom_loop *l, int fd, short revents, void *arg);
typedef void (*loom_timer_fn)(struct loom_loop *l, void *arg);
typedef void (*loom_signal_fn)(struct loom_loop *l, int signo, void *arg);

/* 0 or -errno. */
int loom_loop_new(struct loom_loop **out);
/* Frees every registration (does not close the fds it was given; does
 * close its signalfd and restore the signal mask it changed).  NULL-safe. */
void loom_loop_free(struct loom_loop *l);

/* Call fn when fd has any of `events` (POLLIN, POLLOUT); revents may also
 * hold POLLHUP/POLLERR.  fd stays the caller's.  *out (may be NULL) names
 * the registration for loom_io_remove.  0 or -errno. */
int loom_loop_add_io(struct loom_loop *l, int fd, short events, loom_io_fn fn, void *arg,
		     struct loom_io **out);
/* Stop watching (NULL-safe); the handle is invalid afterwards. */
void loom_io_remove(struct loom_io *io);
/* Change what is waited for (e.g. add POLLOUT while a write is pending). */
void loom_io_set_events(struct loom_io *io, short events);

/* The same by fd, for code that names fds rather than handles (libcurl's
 * socket callback, loom_httpd's watch callback): watch fd for `events`
 * with fn/arg, replacing the events of an earlier registration of the same
 * (fd, fn, arg); events 0 removes it.  0 or -errno. */
int loom_loop_watch(struct loom_loop *l, int fd, short events, loom_io_fn fn, void *arg);

/* A timer, created disarmed.  0 or -errno. */
int loom_loop_add_timer(struct loom_loop *l, loom_timer_fn fn, void *arg, struct loom_timer **out);
/* Fire once at `deadline_ms` (loom_now_ms's clock; in the past = on the
 * next turn).  Re-arming replaces the previous deadline. */
void loom_timer_arm_at(struct loom_timer *t, int64_t deadline_ms);
void loom_timer_arm_in(struct loom_timer *t, int64_t delay_ms);
/* Arm only when disarmed or due later than deadline_ms. */
void loom_timer_arm_before(struct loom_timer *t, int64_t deadline_ms);
void loom_timer_disarm(struct loom_timer *t);
bool loom_timer_armed(const struct loom_timer *t);
/* Deadline, or INT64_MAX when disarmed. */
int64_t loom_timer_deadline(const struct loom_timer *t);
void loom_timer_remove(struct loom_timer *t); /* NULL-safe */

/* Deliver signo to fn from the loop: the signal is blocked for the whole
 * process (call this before starting threads) and read from a signalfd.
 * 0 or -errno. */
int loom_loop_add_signal(struct loom_loop *l, int signo, loom_signal_fn fn, void *arg);

/* Run until loom_loop_exit; returns its code, or -errno if poll fails. */
int loom_loop_run(struct loom_loop *l);
/* One turn: wait at most timeout_ms (-1: until something happens) for
 * the first event, run every due handler.  1 when something ran, 0 on
 * timeout, -errno.  For tests and for callers with their own outer loop. */
int loom_loop_run_once(struct loom_loop *l, int timeout_ms);
/* Make loom_loop_run return `code` after the current handler. */
void loom_loop_exit(struct loom_loop *l, int code);
bool loom_loop_exiting(const struct loom_loop *l);

/* ---- backoff with jitter (backoff.c) ----
 *
 * Retry delays for a source that fails: the n-th consecutive failure waits
 * a random time in [base/2, base], base = min(max_ms, min_ms * 2^(n-1)).
 * The randomness spreads the retries of many daemons (100 simulated nodes
 * losing one etcd) instead of having them knock together; the lower half
 * bound keeps a retry from coming back at once. */
struct loom_backoff {
	int64_t min_ms, max_ms; /* first base delay, cap of the base */
	int64_t base_ms;        /* current base, 0 = no failure yet */
	unsigned failures;      /* consecutive, since the last reset */
	uint64_t rng;           /* xorshift state, never 0 */
};

/* seed 0: from getrandom(). */
void loom_backoff_init(struct loom_backoff *b, int64_t min_ms, int64_t max_ms, uint64_t seed);
/* One more failure: the delay before the next try, in ms. */
int64_t loom_backoff_next(struct loom_backoff *b);
/* The source answered: the next failure starts from min_ms again. */
void loom_backoff_reset(struct loom_backoff *b);

/* ---- logging (log.c) ----
 *
 * One line per event on stderr, written with one write(2) so the lines of
 * concurrent daemons sharing a file never interleave:
 *
 *   2026-12-02T19:40:17.123Z loomd[node-1] warn: store unreachable: ...
 *
 * UTC with milliseconds, so the logs of several simulated nodes can be
 * merged and sorted; the program and its instance (the node); the level. */
enum loom_log_level {
	LOOM_LOG_DEBUG,
	LOOM_LOG_INFO,
	LOOM_LOG_WARN,
	LOOM_LOG_ERROR
};

#define LOOM_LOG_LINE_MAX 2048

/* prog: "loomd"; instance: the node name, or NULL/"" for none. */
void loom_log_init(const char *prog, const char *instance);
void loom_log_set_level(enum loom_log_level min);
enum loom_log_level loom_log_get_level(void);
/* "debug", "info", "warn" (or "warning"), "error": 0 and *out, or -EINVAL. */
int loom_log_level_parse(const char *s, enum loom_log_level *out);
const char *loom_log_level_name(enum loom_log_level l);

void loom_log(enum loom_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void loom_logv(enum loom_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
#define loom_debug(...) loom_log(LOOM_LOG_DEBUG, __VA_ARGS__)
#define loom_info(...) loom_log(LOOM_LOG_INFO, __VA_ARGS__)
#define loom_warn(...) loom_log(LOOM_LOG_WARN, __VA_ARGS__)
#define loom_error(...) loom_log(LOOM_LOG_ERROR, __VA_ARGS__)

/* The line loom_log would write (without the newline) for a realtime
 * timestamp `ts_ms` (ms since the epoch), into buf: the length written,
 * truncated to len - 1.  Pure: for tests. */
size_t loom_log_format(char *buf, size_t len, int64_t ts_ms, const char *prog, const char *instance,
		       enum loom_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

#endif
