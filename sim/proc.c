/* Processes, files and namespaces for loom-sim: the only place that forks. */
#include "sim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void sim_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void sim_err(const char *fmt, ...)
{
	va_list ap;

	fputs("loom-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* argv prefixed with "ip netns exec NS" when ns is set; caller frees the
 * array (not the strings). */
static char **ns_argv(const char *ns, char *const argv[])
{
	size_t n = 0, i, k = 0;
	char **v;

	while (argv[n])
		n++;
	v = calloc(n + 5, sizeof(*v));
	if (!v)
		return NULL;
	if (ns) {
		v[k++] = (char *)"ip";
		v[k++] = (char *)"netns";
		v[k++] = (char *)"exec";
		v[k++] = (char *)ns;
	}
	for (i = 0; i < n; i++)
		v[k++] = argv[i];
	return v;
}

/* A failed pipe or fork: frees ns_argv's array, returns -errno. */
static int free_argv_err(char **v)
{
	int e = errno;

	free(v);
	return -e;
}

static void child_env(char *const env[])
{
	for (size_t i = 0; env && env[i]; i++)
		putenv(env[i]);
}

/* Read everything from the fds until both are closed, feeding `in`. */
static void pump(int infd, const char *in, size_t in_len, int ofd, int efd, char **out,
		 char **errout)
{
	char *buf[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 }, cap[2] = { 0, 0 }, off = 0;
	int fds[2] = { ofd, efd };

	if (infd >= 0 && in_len == 0) {
		close(infd);
		infd = -1;
	}
	while (fds[0] >= 0 || fds[1] >= 0 || infd >= 0) {
		struct pollfd p[3] = { { fds[0], POLLIN, 0 },
				       { fds[1], POLLIN, 0 },
				       { infd, POLLOUT, 0 } };

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (infd >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(infd, in + off, in_len - off);

			if (w > 0)
				off += (size_t)w;
			if (w < 0 || off == in_len) {
				close(infd);
				infd = -1;
			}
		}
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (cap[i] - len[i] < 4097) {
				char *nb = realloc(buf[i], cap[i] ? cap[i] * 2 : 8192);

				if (!nb) {
					close(fds[i]);
					fds[i] = -1;
					continue;
				}
				buf[i] = nb;
				cap[i] = cap[i] ? cap[i] * 2 : 8192;
			}
			r = read(fds[i], buf[i] + len[i], 4096);
			if (r <= 0) {
				close(fds[i]);
				fds[i] = -1;
			} else {
				len[i] += (size_t)r;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		char **dst = i == 0 ? out : errout;

		if (!buf[i])
			buf[i] = calloc(1, 1);
		else
			buf[i][len[i]] = '\0';
		if (dst)
			*dst = buf[i];
		else
			free(buf[i]);
	}
}

int sim_run(const char *ns, char *const argv[], char *const env[], const char *in, size_t in_len,
	    char **out, char **errout)
{
	int pin[2], pout[2], perr[2], st;
	char **v = ns_argv(ns, argv);
	pid_t pid;

	if (!v)
		return -ENOMEM;
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0)
		return free_argv_err(v);
	pid = fork();
	if (pid < 0)
		return free_argv_err(v);
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		child_env(env);
		execvp(v[0], v);
		fprintf(stderr, "cannot run %s: %s\n", v[0], strerror(errno));
		_exit(127);
	}
	free(v);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	signal(SIGPIPE, SIG_IGN);
	pump(in ? pin[1] : (close(pin[1]), -1), in, in ? in_len : 0, pout[0], perr[0], out, errout);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

pid_t sim_spawn(const struct sim *s, const char *ns, const char *tag, const char *log,
		char *const argv[])
{
	char path[512], num[32];
	char **v = ns_argv(ns, argv);
	int sync[2];
	pid_t pid;

	if (!v)
		return -ENOMEM;
	/* Double fork: the daemon is reparented to init, so no zombie waits
	 * on us and nothing ties its life to this short-lived command. */
	if (pipe2(sync, O_CLOEXEC) < 0)
		return free_argv_err(v);
	pid = fork();
	if (pid < 0)
		return free_argv_err(v);
	if (pid == 0) {
		pid_t g;
		int fd;

		setsid();
		g = fork();
		if (g != 0) {
			(void)!write(sync[1], &g, sizeof(g));
			_exit(0);
		}
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			dup2(fd, 0);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(v[0], v);
		fprintf(stderr, "cannot run %s: %s\n", v[0], strerror(errno));
		_exit(127);
	}
	free(v);
	close(sync[1]);
	{
		pid_t g = -1;

		if (read(sync[0], &g, sizeof(g)) != sizeof(g))
			g = -1;
		close(sync[0]);
		waitpid(pid, NULL, 0);
		if (g <= 0)
			return -ECHILD;
		pid = g;
	}
	snprintf(path, sizeof(path), "%s/pids/%s.pid", s->dir, tag);
	snprintf(num, sizeof(num), "%d\n", (int)pid);
	sim_write_file(path, num, strlen(num));
	return pid;
}

bool sim_pid_alive(pid_t pid)
{
	char path[64], st[512];
	FILE *f;
	bool alive = false;

	if (pid <= 0 || kill(pid, 0) < 0)
		return false;
	/* A zombie is not alive for us. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(st, sizeof(st), f)) {
		char *p = strrchr(st, ')');

		alive = p && p[1] == ' ' && p[2] != 'Z';
	}
	fclose(f);
	return alive;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int sim_stop_pid(pid_t pid)
{
	int i;

	if (!sim_pid_alive(pid))
		return 0;
	kill(pid, SIGTERM);
	for (i = 0; i < 30 && sim_pid_alive(pid); i++)
		sleep_ms(100);
	if (sim_pid_alive(pid)) {
		kill(pid, SIGKILL);
		for (i = 0; i < 20 && sim_pid_alive(pid); i++)
			sleep_ms(50);
	}
	return sim_pid_alive(pid) ? -EBUSY : 0;
}

pid_t sim_read_pid(const struct sim *s, const char *tag)
{
	char path[512];
	char *txt;
	long v;

	snprintf(path, sizeof(path), "%s/pids/%s.pid", s->dir, tag);
	txt = sim_read_file(path, NULL);
	if (!txt)
		return -1;
	v = strtol(txt, NULL, 10);
	free(txt);
	return v > 1 ? (pid_t)v : -1;
}

void sim_stop_tag(const struct sim *s, const char *tag)
{
	char path[512];
	pid_t pid = sim_read_pid(s, tag);

	if (pid > 0)
		sim_stop_pid(pid);
	snprintf(path, sizeof(path), "%s/pids/%s.pid", s->dir, tag);
	unlink(path);
}

bool sim_netns_exists(const char *ns)
{
	char path[320];

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	return access(path, F_OK) == 0;
}

int sim_enter_netns(const char *ns)
{
	char path[320];
	int fd, r;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int sim_mkdirs(const char *path)
{
	char buf[512];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int sim_write_file(const char *path, const char *data, size_t len)
{
	char tmp[600];
	int fd;

	/* temp + rename: a reader never sees half a record */
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len) {
		int e = errno ? errno : EIO;

		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return -e;
	}
	return 0;
}

char *sim_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	if (buf) {
		n = fread(buf, 1, (1 << 20) - 1, f);
		buf[n] = '\0';
	}
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

void sim_rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d))) {
		char sub[1024];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			sim_rm_rf(sub);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}
