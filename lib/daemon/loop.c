/* The event loop (daemon.h): poll(2) over registered fds, an array of
 * timers, and one signalfd for every signal a handler asked for.
 *
 * Registrations are heap objects that stay where they are, so a handle
 * stays valid while the arrays grow.  Removing marks an entry dead; dead
 * entries are skipped at once and freed at the end of the turn, so a
 * handler may remove anything (itself included) from inside a callback. */
#include "daemon/daemon.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct loom_io {
	struct loom_loop *loop;
	int fd;
	short events;
	loom_io_fn fn;
	void *arg;
	bool dead;
};

struct loom_timer {
	struct loom_loop *loop;
	loom_timer_fn fn;
	void *arg;
	int64_t deadline; /* INT64_MAX: disarmed */
	uint64_t seq;     /* arm order, for ties */
	bool dead;
};

#define LOOP_NSIG 65

struct loom_loop {
	struct loom_io **ios;
	size_t n_ios, cap_ios;
	struct loom_timer **timers;
	size_t n_timers, cap_timers;
	bool garbage; /* dead entries to free at the end of the turn */
	uint64_t seq;
	/* per turn: the fds polled and who asked for them */
	struct pollfd *pfds;
	struct loom_io **polled;
	size_t cap_pfds, cap_polled;
	/* signals */
	int sfd;
	struct loom_io *sio;
	sigset_t sigs, old_mask;
	struct {
		loom_signal_fn fn;
		void *arg;
	} sig[LOOP_NSIG];
	bool exiting;
	int exit_code;
};

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	void *p;
	size_t c;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	while (c < need)
		c *= 2;
	p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

int loom_loop_new(struct loom_loop **out)
{
	struct loom_loop *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->sfd = -1;
	sigemptyset(&l->sigs);
	*out = l;
	return 0;
}

void loom_loop_free(struct loom_loop *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n_ios; i++)
		free(l->ios[i]);
	for (i = 0; i < l->n_timers; i++)
		free(l->timers[i]);
	if (l->sfd >= 0) {
		close(l->sfd);
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	}
	free(l->ios);
	free(l->timers);
	free(l->pfds);
	free(l->polled);
	free(l);
}

int loom_loop_add_io(struct loom_loop *l, int fd, short events, loom_io_fn fn, void *arg,
		     struct loom_io **out)
{
	struct loom_io *io;

	if (out)
		*out = NULL;
	if (fd < 0 || !fn)
		return -EINVAL;
	if (grow((void **)&l->ios, &l->cap_ios, l->n_ios + 1, sizeof(*l->ios)) < 0 ||
	    !(io = calloc(1, sizeof(*io))))
		return -ENOMEM;
	*io = (struct loom_io){ .loop = l, .fd = fd, .events = events, .fn = fn, .arg = arg };
	l->ios[l->n_ios++] = io;
	if (out)
		*out = io;
	return 0;
}

void loom_io_remove(struct loom_io *io)
{
	if (!io)
		return;
	io->dead = true;
	io->loop->garbage = true;
}

void loom_io_set_events(struct loom_io *io, short events)
{
	io->events = events;
}

int loom_loop_watch(struct loom_loop *l, int fd, short events, loom_io_fn fn, void *arg)
{
	size_t i;

	for (i = 0; i < l->n_ios; i++) {
		struct loom_io *io = l->ios[i];

		if (io->dead || io->fd != fd || io->fn != fn || io->arg != arg)
			continue;
		if (events)
			io->events = events;
		else
			loom_io_remove(io);
		return 0;
	}
	return events ? loom_loop_add_io(l, fd, events, fn, arg, NULL) : 0;
}

int loom_loop_add_timer(struct loom_loop *l, loom_timer_fn fn, void *arg, struct loom_timer **out)
{
	struct loom_timer *t;

	*out = NULL;
	if (!fn)
		return -EINVAL;
	if (grow((void **)&l->timers, &l->cap_timers, l->n_timers + 1, sizeof(*l->timers)) < 0 ||
	    !(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	*t = (struct loom_timer){ .loop = l, .fn = fn, .arg = arg, .deadline = INT64_MAX };
	l->timers[l->n_timers++] = t;
	*out = t;
	return 0;
}

void loom_timer_arm_at(struct loom_timer *t, int64_t deadline_ms)
{
	t->deadline = deadline_ms == INT64_MAX ? INT64_MAX - 1 : deadline_ms;
	t->seq = ++t->loop->seq;
}

void loom_timer_arm_in(struct loom_timer *t, int64_t delay_ms)
{
	loom_timer_arm_at(t, loom_now_ms() + (delay_ms > 0 ? delay_ms : 0));
}

void loom_timer_arm_before(struct loom_timer *t, int64_t deadline_ms)
{
	if (deadline_ms < t->deadline)
		loom_timer_arm_at(t, deadline_ms);
}

void loom_timer_disarm(struct loom_timer *t)
{
	t->deadline = INT64_MAX;
}

bool loom_timer_armed(const struct loom_timer *t)
{
	return t->deadline != INT64_MAX;
}

int64_t loom_timer_deadline(const struct loom_timer *t)
{
	return t->deadline;
}

void loom_timer_remove(struct loom_timer *t)
{
	if (!t)
		return;
	t->dead = true;
	t->deadline = INT64_MAX;
	t->loop->garbage = true;
}

static void on_signalfd(struct loom_loop *l, int fd, short revents, void *arg)
{
	struct signalfd_siginfo si;

	(void)revents;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (signo > 0 && signo < LOOP_NSIG && l->sig[signo].fn)
			l->sig[signo].fn(l, signo, l->sig[signo].arg);
		if (l->exiting)
			return;
	}
}

int loom_loop_add_signal(struct loom_loop *l, int signo, loom_signal_fn fn, void *arg)
{
	sigset_t one;
	int fd;

	if (signo <= 0 || signo >= LOOP_NSIG || !fn)
		return -EINVAL;
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (l->sfd < 0) {
		if (sigprocmask(SIG_BLOCK, &one, &l->old_mask) < 0)
			return -errno;
	} else if (sigprocmask(SIG_BLOCK, &one, NULL) < 0) {
		return -errno;
	}
	sigaddset(&l->sigs, signo);
	fd = signalfd(l->sfd, &l->sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (l->sfd < 0) {
		int r = loom_loop_add_io(l, fd, POLLIN, on_signalfd, NULL, &l->sio);

		if (r < 0) {
			close(fd);
			return r;
		}
		l->sfd = fd;
	}
	l->sig[signo].fn = fn;
	l->sig[signo].arg = arg;
	return 0;
}

void loom_loop_exit(struct loom_loop *l, int code)
{
	l->exiting = true;
	l->exit_code = code;
}

bool loom_loop_exiting(const struct loom_loop *l)
{
	return l->exiting;
}

/* Free the dead entries of an array of pointers to structs with a `dead`
 * member, keeping the live ones in order. */
#define COLLECT(arr, n)                                  \
	do {                                             \
		size_t i_, j_ = 0;                       \
		for (i_ = 0; i_ < (n); i_++) {           \
			if ((arr)[i_]->dead)             \
				free((arr)[i_]);         \
			else                             \
				(arr)[j_++] = (arr)[i_]; \
		}                                        \
		(n) = j_;                                \
	} while (0)

static void collect(struct loom_loop *l)
{
	if (!l->garbage)
		return;
	COLLECT(l->ios, l->n_ios);
	COLLECT(l->timers, l->n_timers);
	l->garbage = false;
}

static int64_t earliest(const struct loom_loop *l)
{
	int64_t t = INT64_MAX;
	size_t i;

	for (i = 0; i < l->n_timers; i++)
		if (!l->timers[i]->dead && l->timers[i]->deadline < t)
			t = l->timers[i]->deadline;
	return t;
}

/* Fire the timers due now, earliest (then first armed) first.  A timer
 * armed again while this runs waits for the next turn, so one that keeps
 * re-arming itself "now" cannot starve the fds. */
static bool fire_timers(struct loom_loop *l)
{
	uint64_t seq_limit = l->seq;
	int64_t now = loom_now_ms();
	bool ran = false;

	while (!l->exiting) {
		struct loom_timer *best = NULL;
		size_t i;

		for (i = 0; i < l->n_timers; i++) {
			struct loom_timer *t = l->timers[i];

			if (t->dead || t->deadline > now || t->seq > seq_limit)
				continue;
			if (!best || t->deadline < best->deadline ||
			    (t->deadline == best->deadline && t->seq < best->seq))
				best = t;
		}
		if (!best)
			break;
		best->deadline = INT64_MAX;
		best->fn(l, best->arg);
		ran = true;
	}
	return ran;
}

int loom_loop_run_once(struct loom_loop *l, int timeout_ms)
{
	int64_t due = earliest(l), now = loom_now_ms(), wait;
	size_t i, n = 0;
	bool ran = false;
	int r;

	collect(l);
	if (grow((void **)&l->pfds, &l->cap_pfds, l->n_ios + 1, sizeof(*l->pfds)) < 0 ||
	    grow((void **)&l->polled, &l->cap_polled, l->n_ios + 1, sizeof(*l->polled)) < 0)
		return -ENOMEM;
	for (i = 0; i < l->n_ios; i++) {
		l->pfds[n] = (struct pollfd){ .fd = l->ios[i]->fd, .events = l->ios[i]->events };
		l->polled[n++] = l->ios[i];
	}
	wait = timeout_ms < 0 ? -1 : timeout_ms;
	if (due != INT64_MAX) {
		int64_t left = due > now ? due - now : 0;

		if (wait < 0 || left < wait)
			wait = left;
	}
	if (wait > INT32_MAX)
		wait = INT32_MAX;
	r = poll(l->pfds, n, (int)wait);
	if (r < 0) {
		if (errno != EINTR)
			return -errno;
		r = 0;
	}
	for (i = 0; r > 0 && i < n && !l->exiting; i++) {
		struct loom_io *io = l->polled[i];

		if (!l->pfds[i].revents || io->dead)
			continue;
		io->fn(l, io->fd, l->pfds[i].revents, io->arg);
		ran = true;
	}
	if (fire_timers(l))
		ran = true;
	collect(l);
	return ran ? 1 : 0;
}

int loom_loop_run(struct loom_loop *l)
{
	while (!l->exiting) {
		int r = loom_loop_run_once(l, -1);

		if (r < 0)
			return r;
	}
	return l->exit_code;
}
