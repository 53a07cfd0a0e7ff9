/* loomctl diags [-o FILE]: one tarball of this node's state for a bug
 * report, written from inside the node's netns (`ip netns exec NODE
 * loomctl diags`, or nsenter --net on a real node).
 *
 *   loom-diags-<node>-<UTC time>/
 *     commands.txt          every command run, its exit status and stderr
 *     ip/links.json addresses.json routes.json routes6.json neighbours.json
 *     ip/fdb.json           `ip -d -j ...`, `bridge -d -j fdb show`
 *     nft/ruleset.json      `nft -j list ruleset`
 *     bird/protocols.txt    `show protocols all` on BIRD's socket (bgp)
 *     cni/                  the CNI conf dir's *.conf, *.conflist, *.json
 *     state/run/ state/endpoints/ state/ipam/
 *                           loom's run dir, endpoint records, IPAM store
 *                           (regular files up to 1 MiB each)
 *     status.json           `loomctl status -o json`
 *     metrics/loomd.txt metrics/loom-policyd.txt
 *                           GET /metrics, when a metrics address is known
 *
 * Built in a temp dir, packed by exec'ing tar (no libarchive), removed.
 * Whatever cannot be collected is said in commands.txt; the tarball is
 * still written.  0 written, 1 not. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bgp/bird.h"
#include "ctl.h"
#include "node.h"

#define COPY_FILE_MAX (1 << 20)
#define COPY_DEPTH_MAX 8

json_t *ctl_status_doc(struct ctl *c, struct ctl_node *n); /* status.c */

/* snprintf for paths: a truncated path is refused (-ENAMETOOLONG), not used */
static int pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

struct diags {
	char dir[PATH_MAX]; /* the tree being filled: <tmp>/loom-diags-... */
	FILE *log;          /* commands.txt */
};

static int write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n = -1;

	if (fd < 0)
		return -errno;
	if (len)
		n = write(fd, text, len);
	close(fd);
	return len && (n < 0 || (size_t)n != len) ? -EIO : 0;
}

static void mkdirs(const struct diags *d, const char *sub)
{
	char path[PATH_MAX + 64], *s;

	pathf(path, sizeof(path), "%s/%s", d->dir, sub);
	for (s = path + strlen(d->dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	mkdir(path, 0755);
}

/* Run argv with stdout into <dir>/<out>; its stderr and status go to the log. */
static void run(struct diags *d, const char *out, const char *const argv[])
{
	char path[PATH_MAX + 64], errpath[PATH_MAX + 64];
	int status = 0, i;
	pid_t pid;

	pathf(path, sizeof(path), "%s/%s", d->dir, out);
	pathf(errpath, sizeof(errpath), "%s/.stderr", d->dir);
	fprintf(d->log, "$");
	for (i = 0; argv[i]; i++)
		fprintf(d->log, " %s", argv[i]);
	fprintf(d->log, " > %s\n", out);
	fflush(d->log);
	pid = fork();
	if (pid == 0) {
		int o = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (o < 0 || e < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(o, 1) < 0 ||
		    dup2(e, 2) < 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		fprintf(d->log, "  cannot run: %s\n", strerror(errno));
		return;
	}
	fprintf(d->log, "  exit %d\n",
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	{
		char buf[2048];
		FILE *f = fopen(errpath, "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		buf[n] = '\0';
		if (n)
			fprintf(d->log, "  stderr: %s%s", buf, buf[n - 1] == '\n' ? "" : "\n");
		if (f)
			fclose(f);
	}
	unlink(errpath);
}

/* Copy the regular files of src (to depth COPY_DEPTH_MAX) into <dir>/<dst>. */
static void copy_tree(struct diags *d, const char *src, const char *dst, int depth)
{
	DIR *dir = opendir(src);
	struct dirent *e;

	if (!dir) {
		if (depth == 0)
			fprintf(d->log, "# %s: %s\n", src, strerror(errno));
		return;
	}
	mkdirs(d, dst);
	while ((e = readdir(dir))) {
		char from[PATH_MAX], to[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    pathf(from, sizeof(from), "%s/%s", src, e->d_name) < 0 ||
		    pathf(to, sizeof(to), "%s/%s", dst, e->d_name) < 0 || lstat(from, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < COPY_DEPTH_MAX) {
			copy_tree(d, from, to, depth + 1);
		} else if (S_ISREG(st.st_mode) && st.st_size <= COPY_FILE_MAX) {
			char *buf = malloc((size_t)st.st_size + 1), path[PATH_MAX + 64];
			int fd = open(from, O_RDONLY | O_CLOEXEC);
			ssize_t n = fd >= 0 && buf ? read(fd, buf, (size_t)st.st_size + 1) : -1;

			if (fd >= 0)
				close(fd);
			pathf(path, sizeof(path), "%s/%s", d->dir, to);
			/* the IPAM index starts with NULs: copied as it is */
			if (n >= 0 && write_file(path, buf, (size_t)n) == 0)
				;
			else
				fprintf(d->log, "# %s: cannot copy\n", from);
			free(buf);
		}
	}
	closedir(dir);
}

static void copy_conf_dir(struct diags *d, const char *src)
{
	DIR *dir = opendir(src);
	struct dirent *e;

	mkdirs(d, "cni");
	if (!dir) {
		fprintf(d->log, "# %s: %s\n", src, strerror(errno));
		return;
	}
	while ((e = readdir(dir))) {
		const char *dot = strrchr(e->d_name, '.');
		char from[PATH_MAX], to[PATH_MAX + 64];
		char *text = NULL;
		size_t len = 0;
		struct loom_err err = { 0 };

		if (!dot ||
		    (strcmp(dot, ".conf") && strcmp(dot, ".conflist") && strcmp(dot, ".json")) ||
		    pathf(from, sizeof(from), "%s/%s", src, e->d_name) < 0)
			continue;
		pathf(to, sizeof(to), "%s/cni/%s", d->dir, e->d_name);
		if (ctl_read_file(from, &text, &len, &err) == 0)
			write_file(to, text, len);
		free(text);
	}
	closedir(dir);
}

static void metrics(struct diags *d, const char *name, const char *addr)
{
	char path[PATH_MAX + 64], *body = NULL;
	int code;

	if (!addr[0])
		return;
	mkdirs(d, "metrics");
	code = ctl_http_get(addr, "/metrics", 5000, &body);
	fprintf(d->log, "GET http://%s/metrics > metrics/%s.txt\n  %s%d\n", addr, name,
		code > 0 ? "status " : "error ", code > 0 ? code : -code);
	pathf(path, sizeof(path), "%s/metrics/%s.txt", d->dir, name);
	if (body)
		write_file(path, body, strlen(body));
	free(body);
}

static void bird(struct diags *d, const char *sock)
{
	char path[PATH_MAX + 64], *reply = NULL;
	struct stat st;
	int r;

	if (stat(sock, &st) < 0)
		return;
	mkdirs(d, "bird");
	r = loom_bird_cmd(sock, "show protocols all", 5000, &reply);
	fprintf(d->log, "BIRD %s: show protocols all > bird/protocols.txt\n  %s\n", sock,
		r == 0 ? "ok" : strerror(-r));
	pathf(path, sizeof(path), "%s/bird/protocols.txt", d->dir);
	if (reply)
		write_file(path, reply, strlen(reply));
	free(reply);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void collect(struct ctl *c, struct ctl_node *n, struct diags *d)
{
	const char *const ip_link[] = { "ip", "-d", "-j", "link", "show", NULL };
	const char *const ip_addr[] = { "ip", "-d", "-j", "address", "show", NULL };
	const char *const ip_route[] = { "ip", "-d", "-j", "route", "show", "table", "all", NULL };
	const char *const ip_route6[] = { "ip",   "-6",    "-d",  "-j", "route",
					  "show", "table", "all", NULL };
	const char *const ip_neigh[] = { "ip", "-d", "-j", "neighbour", "show", NULL };
	const char *const fdb[] = { "bridge", "-d", "-j", "fdb", "show", NULL };
	const char *const nft[] = { "nft", "-j", "list", "ruleset", NULL };
	char path[PATH_MAX + 64];
	json_t *doc;
	char *text;

	mkdirs(d, "ip");
	mkdirs(d, "nft");
	run(d, "ip/links.json", ip_link);
	run(d, "ip/addresses.json", ip_addr);
	run(d, "ip/routes.json", ip_route);
	run(d, "ip/routes6.json", ip_route6);
	run(d, "ip/neighbours.json", ip_neigh);
	run(d, "ip/fdb.json", fdb);
	run(d, "nft/ruleset.json", nft);
	bird(d, n->bird_socket);
	copy_conf_dir(d, n->cni_dir);
	copy_tree(d, n->run_dir, "state/run", 0);
	copy_tree(d, n->state_dir, "state/endpoints", 0);
	pathf(path, sizeof(path), "%s/%s", n->data_dir, n->network);
	copy_tree(d, path, "state/ipam", 0);
	doc = ctl_status_doc(c, n);
	text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	pathf(path, sizeof(path), "%s/status.json", d->dir);
	if (text)
		write_file(path, text, strlen(text));
	fprintf(d->log, "loomctl status -o json > status.json\n  %s\n", text ? "ok" : "failed");
	free(text);
	json_decref(doc);
	metrics(d, "loomd", n->loomd_metrics);
	metrics(d, "loom-policyd", n->policyd_metrics);
}

int ctl_diags(struct ctl *c, int argc, char **argv)
{
	struct ctl_node n;
	struct diags d = { 0 };
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	char tmp[] = "/tmp/loom-diags.XXXXXX", name[CTL_NAME_MAX + 64], out[PATH_MAX], stamp[32];
	char abs_out[PATH_MAX + 1];
	const char *out_arg = NULL;
	int n_rest = 0, i, rc = 1, status = 0;
	time_t now = time(NULL);
	struct tm tm;
	pid_t pid;

	if (!rest || ctl_node_flags(&n, argc, argv, 1, rest, &n_rest) < 0)
		goto out;
	for (i = 0; i < n_rest; i++) {
		if ((!strcmp(rest[i], "-o") || !strcmp(rest[i], "--output")) && i + 1 < n_rest)
			out_arg = rest[++i];
		else {
			ctl_error("diags: unknown argument \"%s\" (-o FILE, or a discovery flag)",
				  rest[i]);
			goto out;
		}
	}
	if (ctl_node_discover(c, &n) < 0)
		goto out;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	pathf(name, sizeof(name), "loom-diags-%s-%s", n.node, stamp);
	pathf(out, sizeof(out), "%s", out_arg ? out_arg : name);
	if (!out_arg)
		strncat(out, ".tar.gz", sizeof(out) - strlen(out) - 1);
	/* tar runs in the temp dir: the output path must not be relative to it */
	if (out[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    pathf(abs_out, sizeof(abs_out), "%s/%s", cwd, out) < 0) {
			ctl_error("diags: cannot name the output %s", out);
			goto out_node;
		}
	} else {
		pathf(abs_out, sizeof(abs_out), "%s", out);
	}
	if (!mkdtemp(tmp)) {
		ctl_error("diags: cannot make a temp dir: %s", strerror(errno));
		goto out_node;
	}
	snprintf(d.dir, sizeof(d.dir), "%s/%s", tmp, name);
	mkdir(d.dir, 0755);
	pathf(out, sizeof(out), "%s/commands.txt", d.dir);
	d.log = fopen(out, "we");
	if (!d.log) {
		ctl_error("diags: cannot write %s: %s", out, strerror(errno));
		goto out_tmp;
	}
	fprintf(d.log,
		"# loomctl diags of node %s at %s (network %s, run dir %s, state dir %s, "
		"IPAM %s, CNI conf dir %s)\n",
		n.node, stamp, n.network, n.run_dir, n.state_dir, n.data_dir, n.cni_dir);
	collect(c, &n, &d);
	fclose(d.log);
	pid = fork();
	if (pid == 0) {
		execlp("tar", "tar", "-czf", abs_out, "-C", tmp, name, (char *)NULL);
		dprintf(2, "error: diags: tar: %s\n", strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		ctl_error("diags: tar could not write %s", abs_out);
		goto out_tmp;
	}
	printf("%s\n", abs_out);
	rc = 0;
out_tmp:
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
out_node:
	ctl_node_free(&n);
out:
	free(rest);
	return rc;
}
