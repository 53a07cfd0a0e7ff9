/* The daemon runtime's event loop: timers fire in deadline order, an fd
 * that becomes readable wakes its handler, a signal sent to the process is
 * delivered through the loop, and handlers may remove what they like. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "test_main.h"

struct record {
	char order[16];
	size_t n;
};

static void note(struct record *r, char c)
{
	if (r->n < sizeof(r->order) - 1)
		r->order[r->n++] = c;
}

static void fire_a(struct loom_loop *l, void *arg)
{
	(void)l;
	note(arg, 'a');
}
static void fire_b(struct loom_loop *l, void *arg)
{
	(void)l;
	note(arg, 'b');
}
static void fire_c(struct loom_loop *l, void *arg)
{
	(void)l;
	note(arg, 'c');
}
static void fire_stop(struct loom_loop *l, void *arg)
{
	note(arg, 's');
	loom_loop_exit(l, 7);
}

/* Armed out of order, they fire by deadline; equal deadlines in arm order. */
static void test_timers_in_order(void **state)
{
	struct loom_loop *l;
	struct loom_timer *a, *b, *c, *s;
	struct record r = { 0 };
	int64_t now = loom_now_ms();

	(void)state;
	assert_int_equal(loom_loop_new(&l), 0);
	assert_int_equal(loom_loop_add_timer(l, fire_a, &r, &a), 0);
	assert_int_equal(loom_loop_add_timer(l, fire_b, &r, &b), 0);
	assert_int_equal(loom_loop_add_timer(l, fire_c, &r, &c), 0);
	assert_int_equal(loom_loop_add_timer(l, fire_stop, &r, &s), 0);
	loom_timer_arm_at(c, now + 30);
	loom_timer_arm_at(a, now + 10);
	loom_timer_arm_at(s, now + 40);
	loom_timer_arm_at(b, now + 30); /* same as c, armed after it */
	assert_true(loom_timer_armed(a));
	assert_int_equal(loom_loop_run(l), 7);
	assert_string_equal(r.order, "acbs");
	assert_false(loom_timer_armed(a));
	assert_true(loom_now_ms() >= now + 40);
	loom_loop_free(l);
}

/* A disarmed or removed timer never fires; arm_before only moves earlier. */
static void test_timer_disarm_remove(void **state)
{
	struct loom_loop *l;
	struct loom_timer *a, *b, *s;
	struct record r = { 0 };

	(void)state;
	assert_int_equal(loom_loop_new(&l), 0);
	assert_int_equal(loom_loop_add_timer(l, fire_a, &r, &a), 0);
	assert_int_equal(loom_loop_add_timer(l, fire_b, &r, &b), 0);
	assert_int_equal(loom_loop_add_timer(l, fire_stop, &r, &s), 0);
	loom_timer_arm_in(a, 5);
	loom_timer_disarm(a);
	loom_timer_arm_in(b, 5);
	loom_timer_remove(b);
	loom_timer_arm_in(s, 50);
	loom_timer_arm_before(s, loom_now_ms() + 10000);
	assert_true(loom_timer_deadline(s) <= loom_now_ms() + 50);
	loom_timer_arm_before(s, loom_now_ms() + 15);
	assert_int_equal(loom_loop_run(l), 7);
	assert_string_equal(r.order, "s");
	loom_loop_free(l);
}

struct pipe_ctx {
	int reads;
	char got[8];
	struct loom_io *io;
};

static void on_read(struct loom_loop *l, int fd, short revents, void *arg)
{
	struct pipe_ctx *p = arg;

	assert_true(revents & POLLIN);
	assert_int_equal(read(fd, p->got, sizeof(p->got)), 1);
	p->reads++;
	loom_io_remove(p->io); /* removing yourself from inside is allowed */
	loom_loop_exit(l, 0);
}

static void write_later(struct loom_loop *l, void *arg)
{
	(void)l;
	assert_int_equal(write(*(int *)arg, "x", 1), 1);
}

/* Nothing happens until the fd is readable; then its handler runs once. */
static void test_fd_readiness(void **state)
{
	struct loom_loop *l;
	struct loom_timer *t;
	struct pipe_ctx p = { 0 };
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(loom_loop_new(&l), 0);
	assert_int_equal(loom_loop_add_io(l, fds[0], POLLIN, on_read, &p, &p.io), 0);
	assert_int_equal(loom_loop_run_once(l, 20), 0); /* nothing ready: timeout */
	assert_int_equal(p.reads, 0);
	assert_int_equal(loom_loop_add_timer(l, write_later, &fds[1], &t), 0);
	loom_timer_arm_in(t, 10);
	assert_int_equal(loom_loop_run(l), 0);
	assert_int_equal(p.reads, 1);
	assert_int_equal(p.got[0], 'x');
	/* removed: a second byte wakes nobody */
	assert_int_equal(write(fds[1], "y", 1), 1);
	assert_int_equal(loom_loop_run_once(l, 10), 0);
	assert_int_equal(p.reads, 1);
	loom_loop_free(l);
	close(fds[0]);
	close(fds[1]);
}

static int watch_calls;

static void on_watched(struct loom_loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)arg;
	if (revents & POLLOUT)
		watch_calls++;
}

/* By fd: a second call changes the events of the same registration, 0
 * removes it (how libcurl's or the HTTP server's callbacks drive it). */
static void test_watch_by_fd(void **state)
{
	struct loom_loop *l;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(loom_loop_new(&l), 0);
	assert_int_equal(loom_loop_watch(l, fds[1], POLLIN, on_watched, NULL), 0);
	assert_int_equal(loom_loop_run_once(l, 10), 0); /* a pipe's write end never reads */
	assert_int_equal(loom_loop_watch(l, fds[1], POLLOUT, on_watched, NULL), 0);
	assert_int_equal(loom_loop_run_once(l, 10), 1); /* writable: once, not twice */
	assert_int_equal(watch_calls, 1);
	assert_int_equal(loom_loop_watch(l, fds[1], 0, on_watched, NULL), 0);
	assert_int_equal(loom_loop_run_once(l, 10), 0);
	assert_int_equal(watch_calls, 1);
	assert_int_equal(loom_loop_watch(l, fds[1], 0, on_watched, NULL), 0); /* absent: fine */
	loom_loop_free(l);
	close(fds[0]);
	close(fds[1]);
}

static int seen_signo;

static void on_sig(struct loom_loop *l, int signo, void *arg)
{
	(void)arg;
	seen_signo = signo;
	loom_loop_exit(l, 3);
}

/* A signal sent to the process reaches its handler through the loop, and
 * the mask is restored when the loop goes. */
static void test_signal_delivery(void **state)
{
	struct loom_loop *l;
	sigset_t cur;

	(void)state;
	assert_int_equal(loom_loop_new(&l), 0);
	assert_int_equal(loom_loop_add_signal(l, SIGUSR1, on_sig, NULL), 0);
	assert_int_equal(loom_loop_add_signal(l, SIGUSR2, on_sig, NULL), 0);
	assert_int_equal(kill(getpid(), SIGUSR2), 0);
	assert_int_equal(loom_loop_run(l), 3);
	assert_int_equal(seen_signo, SIGUSR2);
	loom_loop_free(l);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	assert_false(sigismember(&cur, SIGUSR1));
	assert_false(sigismember(&cur, SIGUSR2));
}

static void rearm_self(struct loom_loop *l, void *arg)
{
	struct record *r = arg;

	(void)l;
	note(r, 'r');
}

/* A timer re-armed "now" from its own callback runs once per turn, so it
 * cannot starve the fds. */
static void test_no_starvation(void **state)
{
	struct loom_loop *l;
	struct loom_timer *t;
	struct record r = { 0 };

	(void)state;
	assert_int_equal(loom_loop_new(&l), 0);
	assert_int_equal(loom_loop_add_timer(l, rearm_self, &r, &t), 0);
	loom_timer_arm_in(t, 0);
	assert_int_equal(loom_loop_run_once(l, 0), 1);
	loom_timer_arm_in(t, 0);
	assert_int_equal(loom_loop_run_once(l, 0), 1);
	assert_string_equal(r.order, "rr");
	loom_loop_free(l);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_timers_in_order), cmocka_unit_test(test_timer_disarm_remove),
	       cmocka_unit_test(test_fd_readiness), cmocka_unit_test(test_signal_delivery),
	       cmocka_unit_test(test_no_starvation), cmocka_unit_test(test_watch_by_fd))
