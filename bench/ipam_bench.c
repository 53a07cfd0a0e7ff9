/* IPAM benchmark: loom-ipam against the reference host-local, same run,
 * same machine, same driver.
 *
 * For each store {empty, holding --prefill reservations} and each plugin,
 * N ADDs with distinct container IDs then N DELs, each exec timed as a
 * runtime sees it: fork + exec + config written to a stdin pipe from memory
 * + stdout read to EOF + wait.  The two plugins alternate call by call (and
 * which one goes first alternates too) so machine noise hits both alike.
 *
 * Each plugin gets its own store, prefilled with identical files in the
 * host-local format, so neither pays for the other's reservations.  The
 * prefilled store carries a last_reserved_ip.0 cursor at its last address,
 * as a long-lived store does: the next free address is right after it, and
 * what is measured is what the size of the store costs, not a scan for a
 * free address.
 *
 * Self-contained on purpose (no libloom calls): it must measure host-local
 * and loom-ipam through exactly the same code path. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "ipam_bench"
#include "bench.h"

#define DEFAULT_REF "/usr/lib/cni/host-local"
#define DEFAULT_DIR "/var/lib/cni"
#define NETWORK "bench"
#define EXEC_TIMEOUT_MS 30000
#define OUT_MAX 65536

enum {
	P_LOOM,
	P_REF,
	P_COUNT
};
enum {
	S_EMPTY,
	S_FULL,
	S_COUNT
};
enum {
	OP_ADD,
	OP_DEL,
	OP_COUNT
};

struct plugin {
	const char *label; /* as printed */
	const char *path;
	char cni_path[PATH_MAX];
};

struct cell {
	double *ms[OP_COUNT]; /* N samples each, milliseconds */
};

static char tmp_root[PATH_MAX];

static void bench_cleanup(void)
{
	rm_scratch(tmp_root);
}

/* Write `len` bytes, retrying on short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static void write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		die("cannot create %s: %s", path, strerror(errno));
	if (write_all(fd, content, strlen(content)) < 0)
		die("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

/* 10.128.0.0/16 host number i (0-based from 10.128.0.2). */
static void addr_of(unsigned i, char *buf, size_t len)
{
	unsigned h = i + 2;

	fmt(buf, len, "10.128.%u.%u", (h >> 8) & 0xff, h & 0xff);
}

/* A store for one plugin: DATADIR/bench/ with `prefill` reservations written
 * exactly as host-local writes them (file named by the address, content
 * "<id>\r\n<ifname>"), the cursor after the last one, and the lock file. */
static void make_store(const char *datadir, unsigned prefill)
{
	char dir[PATH_MAX + 64], path[PATH_MAX + 128], content[64], a[32];

	if (mkdir(datadir, 0700) < 0)
		die("cannot create %s: %s", datadir, strerror(errno));
	fmt(dir, sizeof(dir), "%s/%s", datadir, NETWORK);
	if (mkdir(dir, 0755) < 0)
		die("cannot create %s: %s", dir, strerror(errno));
	fmt(path, sizeof(path), "%s/lock", dir);
	write_file(path, "", 0644);
	for (unsigned i = 0; i < prefill; i++) {
		addr_of(i, a, sizeof(a));
		fmt(path, sizeof(path), "%s/%s", dir, a);
		fmt(content, sizeof(content), "prefill%06u\r\neth0", i);
		write_file(path, content, 0644);
	}
	if (prefill > 0) {
		addr_of(prefill - 1, a, sizeof(a));
		fmt(path, sizeof(path), "%s/last_reserved_ip.0", dir);
		write_file(path, a, 0644);
	}
}

static char *make_config(const char *ipam_type, const char *datadir)
{
	char *c;

	if (asprintf(&c,
		     "{\"cniVersion\":\"1.0.0\",\"name\":\"" NETWORK "\",\"type\":\"bridge\","
		     "\"ipam\":{\"type\":\"%s\",\"dataDir\":\"%s\","
		     "\"ranges\":[[{\"subnet\":\"10.128.0.0/16\"}]]}}",
		     ipam_type, datadir) < 0)
		die("out of memory");
	return c;
}

/* Run one plugin exec the way a runtime does.  Returns the wall time in ms,
 * or a negative value on failure (with the plugin's stdout in `out`). */
static double run_plugin(const struct plugin *p, const char *cmd, const char *cid, const char *conf,
			 char *out, size_t out_len)
{
	char e_cmd[64], e_cid[128], e_path[PATH_MAX + 16];
	char *envp[] = { e_cmd,
			 e_cid,
			 (char *)"CNI_NETNS=/var/run/netns/loom-bench",
			 (char *)"CNI_IFNAME=eth0",
			 e_path,
			 (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
			 NULL };
	char *argv[] = { (char *)p->path, NULL };
	int in[2], outp[2], status, devnull;
	size_t got = 0;
	bool timed_out = false;
	double t0, t1;
	pid_t pid;

	fmt(e_cmd, sizeof(e_cmd), "CNI_COMMAND=%s", cmd);
	fmt(e_cid, sizeof(e_cid), "CNI_CONTAINERID=%s", cid);
	fmt(e_path, sizeof(e_path), "CNI_PATH=%s", p->cni_path);
	out[0] = '\0';

	t0 = now_ms();
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0 || devnull < 0 ||
		    dup2(devnull, 2) < 0)
			_exit(127);
		execve(p->path, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	/* The config is far below the pipe buffer: this never blocks on the child. */
	if (write_all(in[1], conf, strlen(conf)) < 0 && errno != EPIPE)
		die("writing config to %s: %s", p->path, strerror(errno));
	close(in[1]);
	for (;;) {
		struct pollfd pfd = { .fd = outp[0], .events = POLLIN };
		int r = poll(&pfd, 1, EXEC_TIMEOUT_MS);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		n = read(outp[0], out + got, out_len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == out_len - 1)
			got = 0; /* keep draining; only a failure's text matters */
	}
	out[got] = '\0';
	close(outp[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	t1 = now_ms();
	if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return t1 - t0;
}

/* Median and nearest-rank 90th percentile; sorts v. */
static void stats(double *v, unsigned n, double *median, double *p90)
{
	unsigned k;

	qsort(v, n, sizeof(*v), cmp_double);
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	k = (unsigned)((9 * (uint64_t)n + 9) / 10); /* ceil(0.9 n) */
	*p90 = v[k ? k - 1 : 0];
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipam_bench [--loom PATH] [--ref PATH] [-n N] [--prefill N] [--out FILE]\n"
		"  --loom PATH    loom-ipam binary (default: loom-ipam next to this program)\n"
		"  --ref PATH     reference plugin (default " DEFAULT_REF ")\n"
		"  -n N           ADDs and DELs per cell (default 200)\n"
		"  --prefill N    reservations in the full store (default 5000, at most 65000)\n"
		"  --out FILE     also write the results as markdown to FILE\n"
		"  --dir DIR      where the temporary stores live (default " DEFAULT_DIR ",\n"
		"                 host-local's own default parent: the filesystem a node uses)\n");
}

struct cellres {
	double med[OP_COUNT], p90[OP_COUNT];
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "loom", required_argument, NULL, 'l' },
		{ "ref", required_argument, NULL, 'r' },
		{ "prefill", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plugin plugins[P_COUNT] = { { .label = "loom-ipam" }, { .label = "host-local" } };
	const char *out_file = NULL;
	const char *base_dir = DEFAULT_DIR;
	char self_dir[PATH_MAX], loom_default[PATH_MAX + 16], cid[64], out[OUT_MAX];
	unsigned n = 200, prefill = 5000;
	struct cell cells[S_COUNT][P_COUNT];
	struct cellres res[S_COUNT][P_COUNT];
	char *confs[S_COUNT][P_COUNT];
	char *md = NULL, *cmdline = NULL;
	size_t md_len = 0, cl_len = 0;
	FILE *mf, *cf;
	struct utsname un;
	int c;

	plugins[P_REF].path = DEFAULT_REF;
	ssize_t sl = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
	if (sl > 0) {
		self_dir[sl] = '\0';
		*strrchr(self_dir, '/') = '\0';
		fmt(loom_default, sizeof(loom_default), "%s/loom-ipam", self_dir);
		plugins[P_LOOM].path = loom_default;
	} else {
		plugins[P_LOOM].path = "./loom-ipam";
	}
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case 'l':
			plugins[P_LOOM].path = optarg;
			break;
		case 'r':
			plugins[P_REF].path = optarg;
			break;
		case 'o':
			out_file = optarg;
			break;
		case 'd':
			base_dir = optarg;
			break;
		case 'n':
		case 'p':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v > 65000 || (c == 'n' && v == 0))
				die("bad value for %s: %s", c == 'n' ? "-n" : "--prefill", optarg);
			if (c == 'n')
				n = (unsigned)v;
			else
				prefill = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (prefill + 2 * n + 8 > 65530)
		die("--prefill + 2n does not fit in the /16 range");

	for (int p = 0; p < P_COUNT; p++) {
		char *rp = realpath(plugins[p].path, NULL);

		if (!rp || access(rp, X_OK) < 0)
			die("%s: %s is not an executable (%s)", plugins[p].label, plugins[p].path,
			    rp ? strerror(errno) : "not found");
		plugins[p].path = rp; /* owned until exit */
		fmt(plugins[p].cni_path, sizeof(plugins[p].cni_path), "%s", rp);
		*strrchr(plugins[p].cni_path, '/') = '\0';
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (mkdir(base_dir, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", base_dir, strerror(errno));
	fmt(tmp_root, sizeof(tmp_root), "%s/loom-bench.XXXXXX", base_dir);
	if (!mkdtemp(tmp_root))
		die("mkdtemp: %s", strerror(errno));

	/* The reproduce line, with the options as given. */
	cf = open_memstream(&cmdline, &cl_len);
	fprintf(cf, "%s --loom %s --ref %s -n %u --prefill %u --dir %s", argv[0],
		plugins[P_LOOM].path, plugins[P_REF].path, n, prefill, base_dir);
	if (out_file)
		fprintf(cf, " --out %s", out_file);
	fclose(cf);
	uname(&un);
	printf("# IPAM benchmark: loom-ipam vs host-local\n\n"
	       "Reproduce (from a build dir, after `cmake --build`):\n\n    %s\n\n"
	       "Machine: %s %s, %ld CPUs. Each figure is the wall time of one exec "
	       "(fork + exec + stdin + wait) in ms.\n\n",
	       cmdline, un.sysname, un.release, sysconf(_SC_NPROCESSORS_ONLN));
	fflush(stdout);

	for (int s = 0; s < S_COUNT; s++)
		for (int p = 0; p < P_COUNT; p++) {
			char dd[PATH_MAX + 64];

			fmt(dd, sizeof(dd), "%s/%s-%d", tmp_root, s == S_EMPTY ? "empty" : "full",
			    p);
			make_store(dd, s == S_EMPTY ? 0 : prefill);
			confs[s][p] = make_config(p == P_LOOM ? "loom-ipam" : "host-local", dd);
			for (int op = 0; op < OP_COUNT; op++)
				cells[s][p].ms[op] = xcalloc(n, sizeof(double));
		}

	for (int s = 0; s < S_COUNT && !interrupted; s++) {
		const char *sname = s == S_EMPTY ? "empty store" : "full store";

		fprintf(stderr, "running %s: %u ADDs and %u DELs per plugin...\n", sname, n, n);
		/* One untimed ADD+DEL each: page cache and dynamic loader warm. */
		for (int p = 0; p < P_COUNT; p++)
			for (int op = 0; op < OP_COUNT; op++)
				if (run_plugin(&plugins[p], op == OP_ADD ? "ADD" : "DEL", "warmup",
					       confs[s][p], out, sizeof(out)) < 0)
					die("%s warm-up %s failed: %s", plugins[p].label,
					    op == OP_ADD ? "ADD" : "DEL", out);
		for (int op = 0; op < OP_COUNT && !interrupted; op++)
			for (unsigned i = 0; i < n && !interrupted; i++)
				for (int k = 0; k < P_COUNT; k++) {
					int p = (int)((i + (unsigned)k) % P_COUNT);
					double ms;

					fmt(cid, sizeof(cid), "bench%06u", i);
					ms = run_plugin(&plugins[p], op == OP_ADD ? "ADD" : "DEL",
							cid, confs[s][p], out, sizeof(out));
					if (ms < 0)
						die("%s %s #%u on the %s failed: %s",
						    plugins[p].label, op == OP_ADD ? "ADD" : "DEL",
						    i, sname, out);
					cells[s][p].ms[op][i] = ms;
				}
	}
	if (interrupted)
		die("interrupted");

	for (int s = 0; s < S_COUNT; s++)
		for (int p = 0; p < P_COUNT; p++)
			for (int op = 0; op < OP_COUNT; op++)
				stats(cells[s][p].ms[op], n, &res[s][p].med[op],
				      &res[s][p].p90[op]);

	mf = open_memstream(&md, &md_len);
	fprintf(mf, "| store | plugin | ADD median | ADD p90 | DEL median | DEL p90 |\n"
		    "|---|---|---:|---:|---:|---:|\n");
	for (int s = 0; s < S_COUNT; s++)
		for (int p = 0; p < P_COUNT; p++) {
			char sname[32];

			if (s == S_EMPTY)
				fmt(sname, sizeof(sname), "empty");
			else
				fmt(sname, sizeof(sname), "%u reservations", prefill);
			fprintf(mf, "| %s | %s | %.2f ms | %.2f ms | %.2f ms | %.2f ms |\n", sname,
				plugins[p].label, res[s][p].med[OP_ADD], res[s][p].p90[OP_ADD],
				res[s][p].med[OP_DEL], res[s][p].p90[OP_DEL]);
		}
	{
		double r_empty = res[S_EMPTY][P_LOOM].med[OP_ADD] / res[S_EMPTY][P_REF].med[OP_ADD];
		double r_full = res[S_FULL][P_LOOM].med[OP_ADD] / res[S_FULL][P_REF].med[OP_ADD];
		double r_self = res[S_FULL][P_LOOM].med[OP_ADD] / res[S_EMPTY][P_LOOM].med[OP_ADD];
		double d_empty = res[S_EMPTY][P_LOOM].med[OP_DEL] / res[S_EMPTY][P_REF].med[OP_DEL];
		double d_full = res[S_FULL][P_LOOM].med[OP_DEL] / res[S_FULL][P_REF].med[OP_DEL];

		fprintf(mf,
			"\n| ratio (medians) | value | goal |\n|---|---:|---|\n"
			"| ADD loom/host-local, empty store | %.3f | <= 0.25 %s |\n"
			"| ADD loom/host-local, %u reservations | %.3f | <= 0.05 %s |\n"
			"| ADD loom %u reservations / loom empty | %.2f | <= 2 %s |\n"
			"| DEL loom/host-local, empty store | %.3f | |\n"
			"| DEL loom/host-local, %u reservations | %.3f | |\n",
			r_empty, r_empty <= 0.25 ? "(met)" : "(MISSED)", prefill, r_full,
			r_full <= 0.05 ? "(met)" : "(MISSED)", prefill, r_self,
			r_self <= 2 ? "(met)" : "(MISSED)", d_empty, prefill, d_full);
	}
	fprintf(mf, "\nn = %u execs per cell, plugins alternating call by call.\n", n);
	fclose(mf);
	fputs(md, stdout);

	if (out_file) {
		FILE *f = fopen(out_file, "w");

		if (!f ||
		    fprintf(f,
			    "# IPAM benchmark: loom-ipam vs host-local\n\n"
			    "Command: `%s`\n\nMachine: %s %s, %ld CPUs.\n\n%s",
			    cmdline, un.sysname, un.release, sysconf(_SC_NPROCESSORS_ONLN),
			    md) < 0 ||
		    fclose(f) != 0)
			die("cannot write %s: %s", out_file, strerror(errno));
	}

	bench_cleanup();
	for (int s = 0; s < S_COUNT; s++)
		for (int p = 0; p < P_COUNT; p++) {
			free(confs[s][p]);
			for (int op = 0; op < OP_COUNT; op++)
				free(cells[s][p].ms[op]);
		}
	for (int p = 0; p < P_COUNT; p++)
		free((char *)plugins[p].path);
	free(md);
	free(cmdline);
	return 0;
}
