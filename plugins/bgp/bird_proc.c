/* Starting a BIRD, finding it again, and the config file it reads. */
#include "bird.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t loom_bird_pid(const char *pidfile)
{
	char buf[32] = { 0 };
	ssize_t n;
	long pid;
	int fd = open(pidfile, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || pid > INT_MAX)
		return 0;
	/* kill(0) alone would take a zombie or a reused pid for a BIRD */
	snprintf(buf, sizeof(buf), "/proc/%ld/comm", pid);
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 4 || strncmp(buf, "bird", 4) != 0)
		return 0;
	return (pid_t)pid;
}

int loom_bird_spawn(const char *conf, const char *sock, const char *pidfile, struct loom_err *err)
{
	int pfd[2], st;
	char msg[400] = "";
	ssize_t n = 0, r;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "pipe: %s", strerror(errno)), -errno;
	pid = fork();
	if (pid < 0) {
		st = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "fork: %s", strerror(-st)), st;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* BIRD's complaints about its config go to stderr, before it
		 * daemonizes: keep them for the error. */
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(127);
		setsid();
		signal(SIGPIPE, SIG_DFL);
		/* loomd's loop blocks SIGTERM and SIGINT for its signalfd, and a
		 * blocked mask survives exec: BIRD would never see a SIGTERM. */
		{
			sigset_t none;

			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
		}
		execlp("bird", "bird", "-c", conf, "-s", sock, "-P", pidfile, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	/* Wait first: the daemonized BIRD may keep the pipe open, and its
	 * complaints (a few lines) fit in the pipe's buffer. */
	if (waitpid(pid, &st, 0) < 0) {
		close(pfd[0]);
		return errno == ECHILD ? 0 : -errno; /* SIGCHLD ignored: no status to read */
	}
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	while (n < (ssize_t)sizeof(msg) - 1 &&
	       (r = read(pfd[0], msg + n, sizeof(msg) - 1 - (size_t)n)) > 0)
		n += r;
	close(pfd[0]);
	msg[n] = '\0';
	if (n > 0 && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return loom_err_set(err, LOOM_ERR_INTERNAL,
				    "cannot run bird (is BIRD 2 installed?)"),
		       -ENOENT;
	loom_err_set(err, LOOM_ERR_INTERNAL, "bird -c %s failed: %s", conf,
		     msg[0] ? msg : "no message");
	return -EINVAL;
}

int loom_bird_write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *cur = NULL;
	size_t len = strlen(text), cur_len = 0;
	FILE *f;
	int fd, r = 0;

	f = fopen(path, "re");
	if (f) {
		ssize_t got;
		size_t cap = 0;

		got = getdelim(&cur, &cap, '\0', f);
		cur_len = got > 0 ? (size_t)got : 0;
		fclose(f);
		if (cur && cur_len == len && memcmp(cur, text, len) == 0) {
			free(cur);
			return 0;
		}
		free(cur);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	/* the rename itself must survive a crash */
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 1;
}
