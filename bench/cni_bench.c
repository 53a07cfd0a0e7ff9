/* CNI latency benchmark: loom-bridge + loom-ipam against the reference
 * bridge + host-local, same run, same machine, same driver.
 *
 * Everything happens in namespaces the bench makes and removes ("lb<pid>-*"):
 * one host netns per plugin (each with its own bridge, store and state dir)
 * and, made before any timing, one pod netns per pod.  A plugin runs as a
 * runtime in the host netns would run it: fork, setns() into the host netns,
 * exec with the CNI_* environment, the config written to its stdin from
 * memory, its stdout read to EOF, wait.  That whole span is one sample.
 *
 * Phases:
 *   1. warm-up: one untimed ADD+DEL per plugin (creates the bridges);
 *   2. N ADDs per plugin and N of the floor (cni_floor: the same kernel and
 *      file work as one ADD, done by one minimal program exec'd the same
 *      way), interleaved call by call (which goes first rotates), so
 *      machine noise hits all alike;
 *   3. N DELs per plugin, interleaved the same way with two kernel floors:
 *      deleting a bare veth pair of the same shape (host end in a host
 *      netns, peer in a pod netns) over netlink from the bench itself, and
 *      the same with `ip link del` exec'd the way the plugins are;
 *   4. pods per second: P ADDs per plugin in waves of 8, then of 32, started
 *      at once (then their DELs, untimed), two rounds in alternating order.
 * Any failed exec stops the run with the plugin's output. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "cni_bench"
#include "bench.h"

#include "kernel/netns.h"
#include "kernel/nl.h"

#define DEFAULT_REF_DIR "/usr/lib/cni"
#define OUT_MAX 65536
#define EXEC_TIMEOUT_MS 30000
#define N_WIDTHS 2
static const unsigned par_widths[N_WIDTHS] = { 8, 32 };
#define MAX_WIDTH 32

/* The two plugins, then the floor, which takes part in the ADD phase only. */
enum {
	P_LOOM,
	P_REF,
	P_PLUGINS,
	P_FLOOR = P_PLUGINS,
	P_COUNT
};
enum {
	F_NETLINK,
	F_EXEC,
	F_COUNT
};

struct plugin {
	const char *label;
	char path[PATH_MAX];
	char cni_path[2 * PATH_MAX + 2];
	char host[64]; /* host netns name */
	int host_fd;
	char *conf; /* network config (heap) */
	double *add_ms, *del_ms;
	double par_pods_s[N_WIDTHS];
};

static char prefix[32];
static char tmp_root[PATH_MAX];
static char run_root[PATH_MAX]; /* loom's endpoint records: tmpfs, as the default /run/loom */
static unsigned n_ns_made;      /* namespaces made, for cleanup */
static char (*ns_made)[64];
static unsigned ns_cap;

/* Run `ip ARGS...` quietly; 0 when it exited 0. */
static int run_ip(const char *a1, const char *a2, const char *a3)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execlp("ip", "ip", a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void bench_cleanup(void)
{
	for (unsigned i = 0; i < n_ns_made; i++)
		run_ip("netns", "del", ns_made[i]);
	n_ns_made = 0;
	rm_scratch(tmp_root);
	rm_scratch(run_root);
}

/* Make netns PREFIX+short and remember it for cleanup. */
static void ns_make(const char *shortname, char *name, size_t len)
{
	fmt(name, len, "%s%s", prefix, shortname);
	if (n_ns_made == ns_cap) {
		ns_cap = ns_cap ? 2 * ns_cap : 64;
		ns_made = realloc(ns_made, ns_cap * sizeof(*ns_made));
		if (!ns_made)
			die("out of memory");
	}
	if (run_ip("netns", "add", name) < 0)
		die("ip netns add %s failed (root and iproute2 needed)", name);
	fmt(ns_made[n_ns_made++], sizeof(ns_made[0]), "%s", name);
}

static int ns_open(const char *name)
{
	char path[128];
	int fd;

	fmt(path, sizeof(path), "/var/run/netns/%s", name);
	fd = loom_netns_open(path);
	if (fd < 0)
		die("cannot open %s: %s", path, strerror(-fd));
	return fd;
}

/* ---- one exec, as a runtime does it ---- */

struct job {
	pid_t pid;
	int in_fd, out_fd;
	const char *stdin_buf;
	size_t stdin_len, stdin_off;
	char out[OUT_MAX];
	size_t out_len;
	double t0;
	int status;
};

/* Start argv[0] in the netns host_fd with env; conf goes to its stdin. */
static void job_start(struct job *j, int host_fd, char *const argv[], char *const env[],
		      const char *conf)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	j->t0 = now_ms();
	j->pid = fork();
	if (j->pid < 0)
		die("fork: %s", strerror(errno));
	if (j->pid == 0) {
		/* The plugin is exec'd inside the host netns: it is what a
		 * runtime running there would do (no `ip netns exec`, whose
		 * own mount-namespace work would be timed too). */
		if (setns(host_fd, CLONE_NEWNET) < 0)
			_exit(126);
		dup2(in[0], 0);
		dup2(out[1], 1);
		execve(argv[0], argv, env);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	j->in_fd = in[1];
	j->out_fd = out[0];
	j->stdin_buf = conf;
	j->stdin_len = conf ? strlen(conf) : 0;
	j->stdin_off = 0;
	j->out_len = 0;
	fcntl(j->in_fd, F_SETFL, O_NONBLOCK);
	if (j->stdin_len == 0) {
		close(j->in_fd);
		j->in_fd = -1;
	}
}

/* Drive every job of `jobs` until all have exited; returns when done and
 * fills each job's status and duration (ms) in dur[]. */
static void jobs_wait(struct job *jobs, unsigned n, double *dur)
{
	unsigned left = n;

	while (left > 0) {
		struct pollfd pf[2 * MAX_WIDTH + 2];
		struct job *owner[2 * MAX_WIDTH + 2];
		unsigned np = 0;

		for (unsigned i = 0; i < n; i++) {
			struct job *j = &jobs[i];

			if (j->in_fd >= 0) {
				pf[np] = (struct pollfd){ .fd = j->in_fd, .events = POLLOUT };
				owner[np++] = j;
			}
			if (j->out_fd >= 0) {
				pf[np] = (struct pollfd){ .fd = j->out_fd, .events = POLLIN };
				owner[np++] = j;
			}
		}
		if (np > 0 && poll(pf, np, EXEC_TIMEOUT_MS) <= 0 && errno != EINTR)
			die("a plugin did not answer within %d ms", EXEC_TIMEOUT_MS);
		for (unsigned k = 0; k < np; k++) {
			struct job *j = owner[k];

			if (!pf[k].revents)
				continue;
			if (pf[k].fd == j->in_fd) {
				ssize_t w = write(j->in_fd, j->stdin_buf + j->stdin_off,
						  j->stdin_len - j->stdin_off);

				if (w > 0)
					j->stdin_off += (size_t)w;
				if (w < 0 && errno != EAGAIN && errno != EINTR)
					j->stdin_off = j->stdin_len; /* EPIPE: it stopped reading */
				if (j->stdin_off >= j->stdin_len) {
					close(j->in_fd);
					j->in_fd = -1;
				}
			} else {
				ssize_t r = read(j->out_fd, j->out + j->out_len,
						 sizeof(j->out) - 1 - j->out_len);

				if (r > 0) {
					j->out_len += (size_t)r;
				} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
					close(j->out_fd);
					j->out_fd = -1;
				}
			}
		}
		for (unsigned i = 0; i < n; i++) {
			struct job *j = &jobs[i];

			if (j->pid > 0 && j->in_fd < 0 && j->out_fd < 0) {
				while (waitpid(j->pid, &j->status, 0) < 0 && errno == EINTR)
					;
				if (dur)
					dur[i] = now_ms() - j->t0;
				j->out[j->out_len] = '\0';
				j->pid = 0;
				left--;
			}
		}
	}
}

static bool job_ok(const struct job *j)
{
	return WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0;
}

struct env_buf {
	char cmd[32], cid[96], netns[160], ifname[32], path[2 * PATH_MAX + 16];
	char floor_dir[PATH_MAX + 32];
	char *envp[8];
};

static void env_fill(struct env_buf *e, const struct plugin *p, const char *cmd, const char *cid,
		     const char *pod)
{
	fmt(e->cmd, sizeof(e->cmd), "CNI_COMMAND=%s", cmd);
	fmt(e->cid, sizeof(e->cid), "CNI_CONTAINERID=%s", cid);
	fmt(e->netns, sizeof(e->netns), "CNI_NETNS=/var/run/netns/%s", pod);
	fmt(e->ifname, sizeof(e->ifname), "CNI_IFNAME=eth0");
	fmt(e->path, sizeof(e->path), "CNI_PATH=%s", p->cni_path);
	e->envp[0] = e->cmd;
	e->envp[1] = e->cid;
	e->envp[2] = e->netns;
	e->envp[3] = e->ifname;
	e->envp[4] = e->path;
	e->envp[5] = (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	e->envp[6] = NULL;
	if (strcmp(p->label, "floor") == 0) {
		fmt(e->floor_dir, sizeof(e->floor_dir), "CNI_FLOOR_DIR=%s/floor/ipam", tmp_root);
		e->envp[6] = e->floor_dir;
		e->envp[7] = NULL;
	}
}

/* One timed plugin call; dies on failure. */
static double cni_call(const struct plugin *p, const char *cmd, const char *cid, const char *pod)
{
	struct env_buf e;
	char *argv[] = { (char *)p->path, NULL };
	struct job j;
	double ms = 0;

	env_fill(&e, p, cmd, cid, pod);
	job_start(&j, p->host_fd, argv, e.envp, p->conf);
	jobs_wait(&j, 1, &ms);
	if (!job_ok(&j))
		die("%s %s %s (pod %s) failed (status %d): %s", p->label, cmd, cid, pod, j.status,
		    j.out);
	return ms;
}

/* ---- statistics ---- */

/* Nearest-rank percentile of n samples (sorted in place). */
static double pct(double *v, unsigned n, double q)
{
	unsigned k;

	qsort(v, n, sizeof(*v), cmp_double);
	k = (unsigned)ceil(q * n);
	if (k < 1)
		k = 1;
	return v[k - 1];
}

/* ---- setup ---- */

static char *make_conf(const char *type, const char *ipam, const char *bridge, const char *dir,
		       bool loom)
{
	char *c;

	if (asprintf(&c,
		     "{\"cniVersion\":\"1.0.0\",\"name\":\"bench\",\"type\":\"%s\","
		     "\"bridge\":\"%s\",\"isGateway\":true%s%s%s%s,"
		     "\"ipam\":{\"type\":\"%s\",\"dataDir\":\"%s/ipam\","
		     "\"ranges\":[[{\"subnet\":\"10.128.0.0/16\"}]],"
		     "\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}}",
		     type, bridge, loom ? ",\"stateDir\":\"" : "", loom ? run_root : "",
		     loom ? "/state\"" : "",
		     /* like for like with the reference, which has no anti-spoofing
		      * (its cost is antispoof_bench's job); and no bpffs mounted on
		      * the machine by a benchmark */
		     loom ? ",\"antiSpoof\":false" : "", ipam, dir) < 0)
		die("out of memory");
	return c;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cni_bench [-n N] [--par-pods P] [--loom-dir DIR] [--ref-dir DIR] [--out FILE]\n"
		"  -n N          ADDs and DELs per plugin (default 100, at least 100 for the README)\n"
		"  --par-pods P  pods per round in the 8- and 32-at-once phases (default 64, <= N)\n"
		"  --loom-dir    dir with loom-bridge and loom-ipam (default: next to cni_bench)\n"
		"  --ref-dir     dir with the reference bridge and host-local (default " DEFAULT_REF_DIR
		")\n"
		"  --out FILE    also write the result table as markdown\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "loom-dir", required_argument, NULL, 'l' },
		{ "ref-dir", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "par-pods", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char loom_dir[PATH_MAX] = "", ref_dir[PATH_MAX] = DEFAULT_REF_DIR;
	const char *out_path = NULL;
	unsigned n = 100, par = 64, par_given = 0;
	struct plugin pl[P_COUNT];
	double *floor_ms[F_COUNT], *noop_ms;
	char(*pods)[P_COUNT][64];
	char(*floor_pods)[64];
	char floor_host[64];
	int floor_fd, c;
	struct sigaction sa = { .sa_handler = on_signal };

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			par = (unsigned)strtoul(optarg, NULL, 10);
			par_given = 1;
			break;
		case 'l':
			fmt(loom_dir, sizeof(loom_dir), "%s", optarg);
			break;
		case 'r':
			fmt(ref_dir, sizeof(ref_dir), "%s", optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (par_given == 0 && par > n)
		par = n; /* the default fits a small -n */
	if (n < 1 || n > 2000 || par < 1 || par > n)
		die("-n must be 1..2000 and --par-pods 1..n");
	if (!loom_dir[0]) {
		char self[PATH_MAX];
		ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (len < 0)
			die("cannot find my own directory: %s", strerror(errno));
		self[len] = '\0';
		fmt(loom_dir, sizeof(loom_dir), "%s", self);
		*strrchr(loom_dir, '/') = '\0';
	}
	if (geteuid() != 0)
		die("needs root (it makes network namespaces)");

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fmt(prefix, sizeof(prefix), "lb%d-", (int)getpid());
	/* The IPAM stores live where host-local's default store does (its
	 * filesystem decides what creating a reservation costs); loom's
	 * endpoint records where loom-bridge's default stateDir does. */
	mkdir("/var/lib/cni", 0755);
	fmt(tmp_root, sizeof(tmp_root), "/var/lib/cni/loom-cni-bench.XXXXXX");
	if (!mkdtemp(tmp_root))
		die("mkdtemp: %s", strerror(errno));
	fmt(run_root, sizeof(run_root), "/run/loom-cni-bench.XXXXXX");
	if (!mkdtemp(run_root))
		die("mkdtemp: %s", strerror(errno));

	pl[P_LOOM] = (struct plugin){ .label = "loom-bridge + loom-ipam" };
	pl[P_REF] = (struct plugin){ .label = "bridge + host-local (reference)" };
	fmt(pl[P_LOOM].path, sizeof(pl[P_LOOM].path), "%s/loom-bridge", loom_dir);
	fmt(pl[P_REF].path, sizeof(pl[P_REF].path), "%s/bridge", ref_dir);
	fmt(pl[P_LOOM].cni_path, sizeof(pl[P_LOOM].cni_path), "%s:%s", loom_dir, ref_dir);
	fmt(pl[P_REF].cni_path, sizeof(pl[P_REF].cni_path), "%s", ref_dir);
	pl[P_FLOOR] = (struct plugin){ .label = "floor" };
	{
		/* cni_floor is built beside cni_bench, wherever the plugins are. */
		char self[PATH_MAX];
		ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (len < 0)
			die("cannot find my own directory: %s", strerror(errno));
		self[len] = '\0';
		*strrchr(self, '/') = '\0';
		fmt(pl[P_FLOOR].path, sizeof(pl[P_FLOOR].path), "%s/cni_floor", self);
		fmt(pl[P_FLOOR].cni_path, sizeof(pl[P_FLOOR].cni_path), "%s", self);
	}
	for (int p = 0; p < P_COUNT; p++) {
		char dir[PATH_MAX + 16], sub[PATH_MAX + 32];
		bool loom = p != P_REF; /* the floor reads loom's config */
		static const char *const dirs[P_COUNT] = { "loom", "ref", "floor" };
		static const char *const hosts[P_COUNT] = { "hl", "hr", "ha" };

		if (access(pl[p].path, X_OK) < 0)
			die("%s: %s", pl[p].path, strerror(errno));
		fmt(dir, sizeof(dir), "%s/%s", tmp_root, dirs[p]);
		mkdir(dir, 0700);
		fmt(sub, sizeof(sub), "%s/state", dir);
		mkdir(sub, 0700);
		pl[p].conf = make_conf(loom ? "loom-bridge" : "bridge",
				       loom ? "loom-ipam" : "host-local", loom ? "lbbr0" : "lbbr1",
				       dir, loom);
		ns_make(hosts[p], pl[p].host, sizeof(pl[p].host));
		pl[p].host_fd = ns_open(pl[p].host);
		pl[p].add_ms = xcalloc(n, sizeof(double));
		pl[p].del_ms = xcalloc(n, sizeof(double));
	}
	for (int f = 0; f < F_COUNT; f++)
		floor_ms[f] = xcalloc(n, sizeof(double));
	noop_ms = xcalloc(n, sizeof(double));

	/* Every namespace is made now, before any timing. */
	fprintf(stderr, "cni_bench: making %u namespaces...\n", 4 * n + 7);
	pods = xcalloc(n, sizeof(*pods));
	floor_pods = xcalloc(n, sizeof(*floor_pods));
	for (unsigned i = 0; i < n && !interrupted; i++) {
		char s[32];

		fmt(s, sizeof(s), "pl%u", i);
		ns_make(s, pods[i][P_LOOM], sizeof(pods[i][P_LOOM]));
		fmt(s, sizeof(s), "pr%u", i);
		ns_make(s, pods[i][P_REF], sizeof(pods[i][P_REF]));
		fmt(s, sizeof(s), "pa%u", i);
		ns_make(s, pods[i][P_FLOOR], sizeof(pods[i][P_FLOOR]));
		fmt(s, sizeof(s), "pf%u", i);
		ns_make(s, floor_pods[i], sizeof(floor_pods[i]));
	}
	ns_make("hf", floor_host, sizeof(floor_host));
	floor_fd = ns_open(floor_host);

	/* 1. warm-up */
	for (int p = 0; p < P_COUNT; p++) {
		char s[32], pod[64];

		fmt(s, sizeof(s), "w%d", p);
		ns_make(s, pod, sizeof(pod));
		cni_call(&pl[p], "ADD", "warmup", pod);
		if (p != P_FLOOR) /* the floor has no DEL: its pods go with their netns */
			cni_call(&pl[p], "DEL", "warmup", pod);
	}

	/* 2. ADDs, interleaved, with the exec floor: /bin/true started exactly
	 * as a plugin is (fork, setns, exec, config on stdin, wait), the part
	 * of every sample no plugin can save. */
	fprintf(stderr, "cni_bench: %u ADDs per plugin...\n", n);
	for (unsigned i = 0; i < n && !interrupted; i++) {
		char cid[32];

		fmt(cid, sizeof(cid), "bench-%u", i);
		for (int k = 0; k < P_COUNT; k++) {
			int p = (int)((i + (unsigned)k) % P_COUNT);

			pl[p].add_ms[i] = cni_call(&pl[p], "ADD", cid, pods[i][p]);
		}
		{
			char *targv[] = { (char *)"/bin/true", NULL };
			char *tenv[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
			struct job j;

			job_start(&j, pl[P_LOOM].host_fd, targv, tenv, pl[P_LOOM].conf);
			jobs_wait(&j, 1, &noop_ms[i]);
			if (!job_ok(&j))
				die("/bin/true failed");
		}
	}

	/* The floor's veth pairs: host end in hf, peer in its own pod netns,
	 * as a pod's pair is; made untimed, deleted timed below. */
	{
		struct loom_nl *nl = NULL;
		int r = loom_nl_open_netns(floor_fd, &nl);

		if (r < 0)
			die("netlink socket in %s: %s", floor_host, strerror(-r));
		for (unsigned i = 0; i < n && !interrupted; i++) {
			int pfd = ns_open(floor_pods[i]);

			for (int f = 0; f < F_COUNT; f++) {
				char name[IFNAMSIZ], peer[IFNAMSIZ];
				struct loom_veth_req req = { .name = name,
							     .peer_name = peer,
							     .peer_netns_fd = pfd,
							     .up = true };

				fmt(name, sizeof(name), "lbf%u%c", i, f == F_NETLINK ? 'n' : 'x');
				fmt(peer, sizeof(peer), "eth%d", f);
				r = loom_veth_create(nl, &req, NULL);
				if (r < 0)
					die("cannot create veth %s: %s", name, strerror(-r));
			}
			close(pfd);
		}

		/* 3. DELs, interleaved with the floors */
		fprintf(stderr, "cni_bench: %u DELs per plugin and kernel floors...\n", n);
		for (unsigned i = 0; i < n && !interrupted; i++) {
			char cid[32], name[IFNAMSIZ];
			char *ipargv[] = { (char *)"/usr/sbin/ip", (char *)"link", (char *)"del",
					   name, NULL };
			char *ipenv[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
			struct job j;
			double t0;

			fmt(cid, sizeof(cid), "bench-%u", i);
			for (int k = 0; k < P_PLUGINS; k++) {
				int p = (int)((i + (unsigned)k) % P_PLUGINS);

				pl[p].del_ms[i] = cni_call(&pl[p], "DEL", cid, pods[i][p]);
			}
			fmt(name, sizeof(name), "lbf%un", i);
			t0 = now_ms();
			r = loom_link_del_name(nl, name, false);
			floor_ms[F_NETLINK][i] = now_ms() - t0;
			if (r < 0)
				die("cannot delete veth %s: %s", name, strerror(-r));
			fmt(name, sizeof(name), "lbf%ux", i);
			job_start(&j, floor_fd, ipargv, ipenv, NULL);
			jobs_wait(&j, 1, &floor_ms[F_EXEC][i]);
			if (!job_ok(&j))
				die("ip link del %s failed: %s", name, j.out);
		}
		loom_nl_close(nl);
	}

	/* 4. pods per second, 8 then 32 in flight; two rounds, order swapped */
	for (int wi = 0; wi < N_WIDTHS && !interrupted; wi++) {
		unsigned width = par_widths[wi];
		double total_ms[P_PLUGINS] = { 0 };

		fprintf(stderr, "cni_bench: %u pods per plugin per round, %u at once...\n", par,
			width);
		for (int round = 0; round < 2 && !interrupted; round++) {
			for (int k = 0; k < P_PLUGINS; k++) {
				int p = (k + round) % P_PLUGINS;

				for (int cmdi = 0; cmdi < 2; cmdi++) {
					const char *cmd = cmdi == 0 ? "ADD" : "DEL";
					static struct job jobs[MAX_WIDTH];
					static struct env_buf envs[MAX_WIDTH];
					char cids[MAX_WIDTH][32];
					char *argv1[] = { pl[p].path, NULL };
					double t0 = now_ms();

					/* Waves of `width` calls started together, the
					 * next wave when the whole wave has answered: what
					 * a node sees when a burst of pods lands at once. */
					for (unsigned start = 0; start < par && !interrupted;
					     start += width) {
						unsigned nb =
							par - start < width ? par - start : width;

						for (unsigned s = 0; s < nb; s++) {
							fmt(cids[s], sizeof(cids[s]), "par%u-%d-%u",
							    width, round, start + s);
							env_fill(&envs[s], &pl[p], cmd, cids[s],
								 pods[start + s][p]);
							job_start(&jobs[s], pl[p].host_fd, argv1,
								  envs[s].envp, pl[p].conf);
						}
						jobs_wait(jobs, nb, NULL);
						for (unsigned s = 0; s < nb; s++)
							if (!job_ok(&jobs[s]))
								die("%s parallel %s %s failed: %s",
								    pl[p].label, cmd, cids[s],
								    jobs[s].out);
					}
					if (cmdi == 0)
						total_ms[p] += now_ms() - t0;
				}
			}
		}
		for (int p = 0; p < P_PLUGINS; p++)
			pl[p].par_pods_s[wi] =
				total_ms[p] > 0 ? 2.0 * par / (total_ms[p] / 1e3) : 0;
	}
	if (interrupted)
		die("interrupted");

	/* ---- report ---- */
	{
		double add_med[P_COUNT], add_p90[P_COUNT], del_med[P_PLUGINS], del_p90[P_PLUGINS];
		double fl_med[F_COUNT], fl_p90[F_COUNT];
		char table[8192];
		size_t off = 0;
		struct utsname u;

		for (int p = 0; p < P_COUNT; p++) {
			add_med[p] = pct(pl[p].add_ms, n, 0.5);
			add_p90[p] = pct(pl[p].add_ms, n, 0.9);
		}
		for (int p = 0; p < P_PLUGINS; p++) {
			del_med[p] = pct(pl[p].del_ms, n, 0.5);
			del_p90[p] = pct(pl[p].del_ms, n, 0.9);
		}
		for (int f = 0; f < F_COUNT; f++) {
			fl_med[f] = pct(floor_ms[f], n, 0.5);
			fl_p90[f] = pct(floor_ms[f], n, 0.9);
		}
		uname(&u);
#define ADDF(...) off += (size_t)snprintf(table + off, sizeof(table) - off, __VA_ARGS__)
		ADDF("CNI bridge latency, %u pods per plugin, kernel %s, %ld CPUs\n\n", n,
		     u.release, sysconf(_SC_NPROCESSORS_ONLN));
		ADDF("| plugin | ADD median | ADD p90 | DEL median | DEL p90 | pods/s, %u ADDs at once "
		     "| pods/s, %u at once |\n",
		     par_widths[0], par_widths[1]);
		ADDF("|---|---|---|---|---|---|---|\n");
		for (int p = 0; p < P_PLUGINS; p++)
			ADDF("| %s | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.0f | %.0f |\n",
			     pl[p].label, add_med[p], add_p90[p], del_med[p], del_p90[p],
			     pl[p].par_pods_s[0], pl[p].par_pods_s[1]);
		ADDF("| floor: cni_floor, the same kernel work as one ADD in one process | %.2f ms | "
		     "%.2f ms | | | | |\n",
		     add_med[P_FLOOR], add_p90[P_FLOOR]);
		ADDF("| floor: exec of /bin/true the same way | %.2f ms | %.2f ms | | | | |\n",
		     pct(noop_ms, n, 0.5), pct(noop_ms, n, 0.9));
		ADDF("| floor: veth pair delete, netlink from the bench | | | %.2f ms | %.2f ms | | |\n",
		     fl_med[F_NETLINK], fl_p90[F_NETLINK]);
		ADDF("| floor: veth pair delete, `ip link del` exec'd | | | %.2f ms | %.2f ms | | |\n\n",
		     fl_med[F_EXEC], fl_p90[F_EXEC]);
		ADDF("| ratio | value | goal |\n|---|---|---|\n");
		ADDF("| ADD median loom / reference | %.3f | <= 0.25: %s |\n",
		     add_med[P_LOOM] / add_med[P_REF],
		     add_med[P_LOOM] <= 0.25 * add_med[P_REF] ? "met" : "MISSED");
		ADDF("| ADD median loom / floor (cni_floor) | %.3f | <= 1.3: %s |\n",
		     add_med[P_LOOM] / add_med[P_FLOOR],
		     add_med[P_LOOM] <= 1.3 * add_med[P_FLOOR] ? "met" : "MISSED");
		ADDF("| DEL median loom / reference | %.3f | |\n",
		     del_med[P_LOOM] / del_med[P_REF]);
		ADDF("| DEL median loom / netlink veth delete | %.3f | <= 1.2: %s |\n",
		     del_med[P_LOOM] / fl_med[F_NETLINK],
		     del_med[P_LOOM] <= 1.2 * fl_med[F_NETLINK] ? "met" : "MISSED");
		ADDF("| DEL median loom / exec'd `ip link del` | %.3f | |\n",
		     del_med[P_LOOM] / fl_med[F_EXEC]);
		for (int wi = 0; wi < N_WIDTHS; wi++)
			ADDF("| pods/s loom / reference, %u at once | %.2f | %s |\n",
			     par_widths[wi], pl[P_LOOM].par_pods_s[wi] / pl[P_REF].par_pods_s[wi],
			     wi > 0 ? ""
			     : pl[P_LOOM].par_pods_s[wi] >= 4 * pl[P_REF].par_pods_s[wi]
				     ? ">= 4: met"
				     : ">= 4: MISSED");
#undef ADDF
		fputs(table, stdout);
		if (out_path) {
			FILE *f = fopen(out_path, "w");

			if (!f || fputs(table, f) < 0 || fclose(f) != 0)
				die("cannot write %s: %s", out_path, strerror(errno));
		}
	}

	for (int p = 0; p < P_COUNT; p++) {
		close(pl[p].host_fd);
		free(pl[p].conf);
		free(pl[p].add_ms);
		free(pl[p].del_ms);
	}
	close(floor_fd);
	for (int f = 0; f < F_COUNT; f++)
		free(floor_ms[f]);
	free(noop_ms);
	free(pods);
	free(floor_pods);
	bench_cleanup();
	free(ns_made);
	return 0;
}
