/* Running another plugin found through CNI_PATH, as the spec has a plugin
 * delegate to its IPAM plugin.
 *
 * The child gets the config on stdin and its own process group; stdout and
 * stderr are read through nonblocking pipes under one poll() loop with a
 * deadline, and the child's exit is watched through a pidfd, so a
 * grandchild that keeps the pipes open does not hold us past the child's
 * exit.  Every path after spawning reaps the child.  SIGPIPE is blocked in
 * this thread while we write, so a plugin exiting before it reads its
 * config costs an EPIPE, not our life. */
#include "cni/cni.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/grow.h"

extern char **environ;

#define STDOUT_MAX (1024 * 1024) /* the same bound loom puts on its own stdin */
#define STDERR_TAIL 400          /* what fits in loom_err.details with a label */

/* Variables we set for the child; any inherited value is dropped. */
static const char *const cni_vars[] = {
	"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH",
};
#define N_CNI_VARS (sizeof(cni_vars) / sizeof(cni_vars[0]))

struct outbuf {
	char *data;
	size_t len, cap;
	bool tail;     /* keep only the last STDERR_TAIL bytes */
	bool overflow; /* more than STDOUT_MAX arrived */
};

struct child {
	pid_t pid;
	int pidfd;        /* -1 when the kernel has no pidfd_open */
	int in, out, err; /* our ends of the pipes; -1 once closed */
	const char *conf;
	size_t conf_len, written;
	bool reaped;
	int status; /* from waitpid, valid when reaped */
	struct outbuf o, e;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pipe whose ends are all >= 3: when our own stdin/stdout/stderr are
 * closed, pipe2() hands out 0..2, and a dup2 onto the same number in the
 * child would leave FD_CLOEXEC set and the child without that stream. */
static int pipe_high(int fds[2])
{
	int i;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	for (i = 0; i < 2; i++) {
		if (fds[i] < 3) {
			int nfd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);

			if (nfd < 0) {
				int e = errno;

				close(fds[0]);
				close(fds[1]);
				return -e;
			}
			close(fds[i]);
			fds[i] = nfd;
		}
	}
	return 0;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Find an executable regular file `type` in the colon-separated `path`.
 * 0, or -ENOENT (not anywhere) / -EACCES (found, not executable; `full`
 * then names it). */
static int find_plugin(const char *type, const char *path, char full[PATH_MAX])
{
	const char *p = path;
	int r = -ENOENT;

	while (*p) {
		size_t len = strcspn(p, ":");
		struct stat st;
		char cand[PATH_MAX];
		int n;

		if (len > 0) {
			n = snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, p, type);
			if (n > 0 && (size_t)n < sizeof(cand) && stat(cand, &st) == 0 &&
			    S_ISREG(st.st_mode)) {
				memcpy(full, cand, (size_t)n + 1);
				if (access(cand, X_OK) == 0)
					return 0;
				r = -EACCES;
			}
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return r;
}

static void free_envp(char **envp, char **owned)
{
	size_t i;

	for (i = 0; owned && owned[i]; i++)
		free(owned[i]);
	free(owned);
	free(envp);
}

/* The current environment minus inherited CNI_* variables, plus ours. */
static int build_envp(enum loom_cni_cmd cmd, const struct loom_cni_env *env, char ***envp_out,
		      char ***owned_out)
{
	const char *vals[N_CNI_VARS] = {
		loom_cni_cmd_str(cmd), env->container_id, env->netns,
		env->ifname,           env->args,         env->path,
	};
	size_t n = 0, i, j, k = 0, m = 0;
	char **envp, **owned;

	while (environ && environ[n])
		n++;
	envp = calloc(n + N_CNI_VARS + 1, sizeof(*envp));
	owned = calloc(N_CNI_VARS + 1, sizeof(*owned));
	if (!envp || !owned) {
		free(envp);
		free(owned);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		bool drop = false;

		for (j = 0; j < N_CNI_VARS && !drop; j++) {
			size_t len = strlen(cni_vars[j]);

			drop = strncmp(environ[i], cni_vars[j], len) == 0 && environ[i][len] == '=';
		}
		if (!drop)
			envp[k++] = environ[i];
	}
	for (j = 0; j < N_CNI_VARS; j++) {
		if (!vals[j])
			continue;
		if (asprintf(&owned[m], "%s=%s", cni_vars[j], vals[j]) < 0) {
			owned[m] = NULL;
			free_envp(envp, owned);
			return -ENOMEM;
		}
		envp[k++] = owned[m++];
	}
	*envp_out = envp;
	*owned_out = owned;
	return 0;
}

static int spawn(struct child *c, const char *full, char **envp)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char *argv[] = { (char *)full, NULL };
	int r;

	if ((r = pipe_high(in)) < 0 || (r = pipe_high(out)) < 0 || (r = pipe_high(errp)) < 0)
		goto out_pipes;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	/* Ignored signals survive exec: give the plugin the defaults it
	 * expects whatever its parent daemon ignores. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGQUIT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	/* Own process group, so a timeout kills whatever the plugin started. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETPGROUP);
	r = -posix_spawn(&c->pid, full, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r < 0)
		goto out_pipes;

	close(in[0]);
	close(out[1]);
	close(errp[1]);
	c->in = in[1];
	c->out = out[0];
	c->err = errp[0];
	set_nonblock(c->in);
	set_nonblock(c->out);
	set_nonblock(c->err);
	/* The child is ours and unreaped, so its pid cannot be reused yet. */
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd < 0)
		c->pidfd = -1;
	return 0;

out_pipes:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	return r;
}

static void buf_add(struct outbuf *b, const char *data, size_t n)
{
	if (b->tail) {
		if (n >= STDERR_TAIL) {
			memcpy(b->data, data + n - STDERR_TAIL, STDERR_TAIL);
			b->len = STDERR_TAIL;
			return;
		}
		if (b->len + n > STDERR_TAIL) {
			size_t drop = b->len + n - STDERR_TAIL;

			memmove(b->data, b->data + drop, b->len - drop);
			b->len -= drop;
		}
		memcpy(b->data + b->len, data, n);
		b->len += n;
		return;
	}
	if (b->len + n > STDOUT_MAX) {
		b->overflow = true;
		return;
	}
	if (loom_grow(&b->data, &b->cap, b->len + n + 1, 4096) < 0) {
		b->overflow = true;
		return;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

/* Read what is there now, but at most 64 chunks so a child that writes
 * without pause cannot keep us from the deadline; close the fd at EOF or
 * on error. */
static void drain(int *fd, struct outbuf *b)
{
	char chunk[16384];
	int rounds = 64;

	while (*fd >= 0 && !b->overflow && rounds-- > 0) {
		ssize_t n = read(*fd, chunk, sizeof(chunk));

		if (n > 0) {
			buf_add(b, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close_fd(fd);
	}
}

static void feed(struct child *c)
{
	while (c->in >= 0 && c->written < c->conf_len) {
		ssize_t n = write(c->in, c->conf + c->written, c->conf_len - c->written);

		if (n > 0) {
			c->written += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EPIPE: the plugin exited or closed stdin without reading it
		 * all.  Its exit status tells the rest. */
		break;
	}
	close_fd(&c->in);
}

static void try_reap(struct child *c, bool block)
{
	int st;
	pid_t r;

	do
		r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == c->pid) {
		c->reaped = true;
		c->status = st;
	} else if (r < 0) {
		/* ECHILD: someone set SIGCHLD to SIG_IGN and the kernel reaped
		 * it; the status is lost. */
		c->reaped = true;
		c->status = -1;
	}
}

static void kill_child(struct child *c)
{
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	try_reap(c, true);
}

/* Run the I/O loop until the child has exited.  0, or -ETIMEDOUT /
 * -EFBIG (stdout past the bound); the child is reaped in every case. */
static int run_child(struct child *c, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	if (c->conf_len == 0)
		close_fd(&c->in);
	while (!c->reaped) {
		struct pollfd pfd[4];
		int64_t left = deadline - now_ms();
		int n = 0, wait_ms;

		if (left <= 0) {
			kill_child(c);
			return -ETIMEDOUT;
		}
		if (c->in >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->in, .events = POLLOUT };
		if (c->out >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->out, .events = POLLIN };
		if (c->err >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->err, .events = POLLIN };
		if (c->pidfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
		/* Without a pidfd the child's exit is only seen by asking. */
		wait_ms = (int)(c->pidfd >= 0 ? left : (left < 10 ? left : 10));
		if (poll(pfd, (nfds_t)n, wait_ms) < 0 && errno != EINTR) {
			int e = errno;

			kill_child(c);
			return -e;
		}
		if (c->in >= 0)
			feed(c);
		drain(&c->out, &c->o);
		drain(&c->err, &c->e);
		if (c->o.overflow) {
			kill_child(c);
			return -EFBIG;
		}
		try_reap(c, false);
	}
	/* Everything the child wrote before exiting is in the pipes now;
	 * don't wait for EOF, which a grandchild may hold off forever. */
	drain(&c->out, &c->o);
	drain(&c->err, &c->e);
	return c->o.overflow ? -EFBIG : 0;
}

/* Printable ASCII only: details end up in JSON strings, which must be
 * UTF-8, and a tail may start inside a multibyte character. */
static void stderr_tail(const struct outbuf *e, char *dst, size_t size)
{
	size_t i, start = 0, len = e->len, j = 0;

	while (len > 0 && strchr(" \t\r\n", e->data[len - 1]))
		len--;
	if (len + 1 > size)
		start = len + 1 - size;
	for (i = start; i < len && j + 1 < size; i++) {
		unsigned char ch = (unsigned char)e->data[i];

		dst[j++] = ch == '\n' ? ' ' : (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	dst[j] = '\0';
}

static void set_details_stderr(struct loom_err *err, const struct outbuf *e)
{
	char tail[STDERR_TAIL + 1];

	if (!err)
		return;
	stderr_tail(e, tail, sizeof(tail));
	if (tail[0])
		snprintf(err->details, sizeof(err->details), "stderr: %s", tail);
}

/* A plugin's own error JSON: {"code": N>0, "msg": "...", "details": "..."}. */
static bool pass_through_error(const json_t *j, const struct outbuf *e, struct loom_err *err)
{
	json_t *code = json_object_get(j, "code"), *msg = json_object_get(j, "msg"),
	       *details = json_object_get(j, "details");

	if (!json_is_integer(code) || json_integer_value(code) <= 0 ||
	    json_integer_value(code) > INT_MAX || !json_is_string(msg))
		return false;
	loom_err_set(err, (int)json_integer_value(code), "%s", json_string_value(msg));
	if (json_is_string(details) && json_string_value(details)[0]) {
		if (err)
			snprintf(err->details, sizeof(err->details), "%s",
				 json_string_value(details));
	} else {
		set_details_stderr(err, e);
	}
	return true;
}

static int outcome(const char *type, enum loom_cni_cmd cmd, struct child *c, json_t **out,
		   struct loom_err *err)
{
	const char *cs = loom_cni_cmd_str(cmd);
	size_t start = 0, len = c->o.len;
	json_error_t jerr;
	json_t *j = NULL;

	while (start < len && strchr(" \t\r\n", c->o.data[start]))
		start++;
	if (start < len)
		j = json_loadb(c->o.data + start, len - start, 0, &jerr);

	if (c->status != -1 && WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0) {
		if (start == len)
			return 0;
		if (json_is_object(j)) {
			*out = j;
			return 0;
		}
		loom_err_set(err, LOOM_ERR_DELEGATE,
			     "plugin \"%s\" (%s) answered something that is not a JSON object%s%s",
			     type, cs, j ? "" : ": ", j ? "" : jerr.text);
		json_decref(j);
		set_details_stderr(err, &c->e);
		return -1;
	}

	if (json_is_object(j) && pass_through_error(j, &c->e, err)) {
		json_decref(j);
		return -1;
	}
	json_decref(j);
	if (c->status == -1)
		loom_err_set(err, LOOM_ERR_DELEGATE, "plugin \"%s\" (%s) exited, status unknown",
			     type, cs);
	else if (WIFSIGNALED(c->status))
		loom_err_set(err, LOOM_ERR_DELEGATE,
			     "plugin \"%s\" (%s) was killed by signal %d (%s)", type, cs,
			     WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
	else
		loom_err_set(err, LOOM_ERR_DELEGATE,
			     "plugin \"%s\" (%s) exited with status %d without an error on stdout",
			     type, cs, WEXITSTATUS(c->status));
	set_details_stderr(err, &c->e);
	return -1;
}

static bool type_is_name(const char *type)
{
	return type && type[0] && !strchr(type, '/') && strcmp(type, ".") != 0 &&
	       strcmp(type, "..") != 0;
}

int loom_delegate(const char *type, enum loom_cni_cmd cmd, const struct loom_cni_env *env,
		  const char *conf, size_t conf_len, int timeout_ms, json_t **out,
		  struct loom_err *err)
{
	struct child c = { .pid = -1, .pidfd = -1, .in = -1, .out = -1, .err = -1 };
	char tailbuf[STDERR_TAIL];
	char full[PATH_MAX] = "";
	char **envp = NULL, **owned = NULL;
	sigset_t pipe_set, old_mask, pending;
	bool pipe_was_pending;
	json_t *unused = NULL;
	int r;

	/* A caller that wants no answer (DEL) may pass NULL. */
	if (!out)
		out = &unused;
	*out = NULL;
	if (!type_is_name(type))
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"plugin type \"%.64s\" must be a file name in CNI_PATH, not a path",
			type ? type : "");
	if (!loom_cni_cmd_str(cmd))
		return loom_err_set(err, LOOM_ERR_INTERNAL, "delegating an unknown command %d",
				    (int)cmd);
	if (!env || !env->path || !env->path[0])
		return loom_err_set(err, LOOM_ERR_INVALID_ENV,
				    "CNI_PATH is required to find plugin \"%s\"", type);
	r = find_plugin(type, env->path, full);
	if (r == -EACCES)
		return loom_err_set(err, LOOM_ERR_DELEGATE, "plugin \"%s\" at %s is not executable",
				    type, full);
	if (r < 0)
		return loom_err_set(err, LOOM_ERR_DELEGATE,
				    "plugin \"%s\" not found in CNI_PATH %.300s", type, env->path);
	if (timeout_ms <= 0)
		timeout_ms = LOOM_DELEGATE_TIMEOUT_MS;

	r = build_envp(cmd, env, &envp, &owned);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
				      "cannot build the environment for %s", full);
	c.conf = conf;
	c.conf_len = conf ? conf_len : 0;
	c.e.data = tailbuf;
	c.e.tail = true;
	r = spawn(&c, full, envp);
	free_envp(envp, owned);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_DELEGATE, -r, "cannot run plugin %s", full);

	/* SIGPIPE goes to the writing thread; block it here and swallow the
	 * one our write may raise, leaving one the caller already had alone. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	sigpending(&pending);
	pipe_was_pending = sigismember(&pending, SIGPIPE);

	r = run_child(&c, timeout_ms);

	sigpending(&pending);
	if (!pipe_was_pending && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	close_fd(&c.in);
	close_fd(&c.out);
	close_fd(&c.err);
	close_fd(&c.pidfd);

	if (r == -ETIMEDOUT)
		loom_err_set(err, LOOM_ERR_DELEGATE,
			     "plugin \"%s\" (%s) did not finish within %d ms; killed", type,
			     loom_cni_cmd_str(cmd), timeout_ms);
	else if (r == -EFBIG)
		loom_err_set(err, LOOM_ERR_DELEGATE,
			     "plugin \"%s\" (%s) wrote more than %d bytes on stdout; killed", type,
			     loom_cni_cmd_str(cmd), STDOUT_MAX);
	else if (r < 0)
		loom_err_errno(err, LOOM_ERR_DELEGATE, -r, "waiting for plugin \"%s\" (%s) failed",
			       type, loom_cni_cmd_str(cmd));
	else
		r = outcome(type, cmd, &c, out, err);
	if (r < 0 && r != -1)
		set_details_stderr(err, &c.e);
	free(c.o.data);
	json_decref(unused);
	return r < 0 ? -1 : 0;
}
