/* What anti-spoofing costs: CNI ADD median of loom-bridge+loom-ipam with
 * "antiSpoof": true against false, and iperf3 pod-to-pod throughput through
 * the filter against without it, in one run.  Goals (issue 8): ADD at most
 * 0.5 ms more, throughput within 2%.
 *
 *   antispoof_bench [-n PODS] [-t SECONDS] [--bin DIR] [--out FILE]
 *
 * Everything happens in namespaces named "asb<pid>-*" and a bpffs mounted
 * in a temp dir, all removed at exit.  ADDs alternate on/off so both see
 * the same machine noise; the first ADD with antiSpoof (which loads and
 * pins the program) is reported apart from the median. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_PODS 1000

static char prefix[32];
static char tmp[PATH_MAX];
static char bpffs[PATH_MAX + 8];
static char bin_dir[PATH_MAX] = ".";
static unsigned n_ns;
static pid_t server; /* a running iperf3 -s */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void cleanup(void)
{
	unsigned i;

	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	for (i = 0; i < n_ns; i++)
		sh("ip netns del %s%u 2>/dev/null", prefix, i);
	sh("ip netns del %snode 2>/dev/null", prefix);
	if (bpffs[0])
		umount(bpffs);
	if (tmp[0])
		sh("rm -rf '%s'", tmp);
}

static void on_signal(int sig)
{
	(void)sig;
	exit(130);
}

static void die(const char *msg)
{
	fprintf(stderr, "antispoof_bench: %s\n", msg);
	exit(1);
}

/* One CNI call of loom-bridge in the node netns: its duration, the
 * result in out (when not NULL). */
static double cni(const char *cmd, const char *conf, unsigned pod, char *out, size_t outlen)
{
	char env[6][PATH_MAX + 32], path[PATH_MAX + 16], nspath[PATH_MAX];
	char *envp[7], *argv[2];
	int in, pipefd[2], status, node;
	double t0, t;
	pid_t pid;
	size_t got = 0;
	ssize_t r;
	int i;

	snprintf(nspath, sizeof(nspath), "/var/run/netns/%snode", prefix);
	node = open(nspath, O_RDONLY | O_CLOEXEC);
	in = open(conf, O_RDONLY | O_CLOEXEC);
	if (node < 0 || in < 0 || pipe(pipefd) < 0)
		die("cannot open the node netns or the config");
	snprintf(env[0], sizeof(env[0]), "CNI_COMMAND=%s", cmd);
	snprintf(env[1], sizeof(env[1]), "CNI_CONTAINERID=asb-%u", pod);
	snprintf(env[2], sizeof(env[2]), "CNI_NETNS=/var/run/netns/%s%u", prefix, pod);
	snprintf(env[3], sizeof(env[3]), "CNI_IFNAME=eth0");
	snprintf(env[4], sizeof(env[4]), "CNI_PATH=%s", bin_dir);
	snprintf(env[5], sizeof(env[5]), "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	for (i = 0; i < 6; i++)
		envp[i] = env[i];
	envp[6] = NULL;
	snprintf(path, sizeof(path), "%s/loom-bridge", bin_dir);
	argv[0] = path;
	argv[1] = NULL;
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		if (setns(node, CLONE_NEWNET) < 0 || dup2(in, 0) < 0 || dup2(pipefd[1], 1) < 0)
			_exit(127);
		execve(path, argv, envp);
		_exit(127);
	}
	close(pipefd[1]);
	while ((r = read(pipefd[0], out ? out + got : path,
			 out ? outlen - 1 - got : sizeof(path))) > 0)
		if (out)
			got += (size_t)r;
	waitpid(pid, &status, 0);
	t = now_ms() - t0;
	if (out)
		out[got] = 0;
	close(pipefd[0]);
	close(in);
	close(node);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "antispoof_bench: %s of pod %u failed: %s\n", cmd, pod,
			out ? out : "");
		exit(1);
	}
	return t;
}

static void write_conf(const char *path, const char *name, const char *br, const char *subnet,
		       int anti)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write a config");
	fprintf(f,
		"{\"cniVersion\":\"1.0.0\",\"name\":\"%s\",\"type\":\"loom-bridge\",\"bridge\":\"%s\","
		"\"isGateway\":true,\"antiSpoof\":%s,\"bpfPinDir\":\"%s/loom\",\"stateDir\":\"%s/state-%s\","
		"\"ipam\":{\"type\":\"loom-ipam\",\"dataDir\":\"%s/ipam-%s\",\"ranges\":[[{\"subnet\":\"%s\"}]]}}\n",
		name, br, anti ? "true" : "false", bpffs, tmp, name, tmp, name, subnet);
	fclose(f);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void first_ip(const char *result, char *ip, size_t len)
{
	json_t *r = json_loads(result, 0, NULL);
	const char *a = json_string_value(
		json_object_get(json_array_get(json_object_get(r, "ips"), 0), "address"));

	snprintf(ip, len, "%s", a ? a : "");
	ip[strcspn(ip, "/")] = 0;
	json_decref(r);
}

/* iperf3 from pod `from` to the server in pod `to`: Gbit/s received. */
static double iperf(unsigned from, unsigned to, const char *to_ip, int secs)
{
	char cmd[512], buf[1 << 16];
	size_t got;
	double bps;
	json_t *r;
	FILE *p;

	char ns[64];

	snprintf(ns, sizeof(ns), "%s%u", prefix, to);
	server = fork();
	if (server == 0) {
		int dn = open("/dev/null", O_WRONLY);

		dup2(dn, 1);
		dup2(dn, 2);
		execlp("ip", "ip", "netns", "exec", ns, "iperf3", "-s", "-1", "-p", "5299",
		       (char *)NULL);
		_exit(127);
	}
	usleep(300 * 1000);
	snprintf(cmd, sizeof(cmd), "ip netns exec %s%u iperf3 -c %s -p 5299 -t %d -J 2>/dev/null",
		 prefix, from, to_ip, secs);
	p = popen(cmd, "r");
	if (!p)
		die("cannot run iperf3");
	got = fread(buf, 1, sizeof(buf) - 1, p);
	buf[got] = 0;
	pclose(p);
	kill(server, SIGTERM); /* gone already after its one test */
	waitpid(server, NULL, 0);
	server = 0;
	r = json_loads(buf, 0, NULL);
	bps = json_number_value(
		json_object_get(json_object_get(json_object_get(r, "end"), "sum_received"),
				"bits_per_second"));
	json_decref(r);
	if (bps <= 0)
		die("iperf3 gave no figure (is iperf3 installed?)");
	return bps / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bin", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned n = 50, i;
	int secs = 5, c;
	const char *outpath = NULL;
	char conf_on[PATH_MAX + 16], conf_off[PATH_MAX + 16], res[1 << 14];
	char ip_on[64], ip_off[64];
	double *t_on, *t_off, first = 0, m_on, m_off, g_on = 0, g_off = 0, ratio;
	FILE *out;

	while ((c = getopt_long(argc, argv, "n:t:b:o:", opts, NULL)) != -1) {
		if (c == 'n')
			n = (unsigned)atoi(optarg);
		else if (c == 't')
			secs = atoi(optarg);
		else if (c == 'b')
			snprintf(bin_dir, sizeof(bin_dir), "%s", optarg);
		else if (c == 'o')
			outpath = optarg;
		else
			return 2;
	}
	if (n < 3 || n > MAX_PODS / 2 || secs < 1 || secs > 30)
		die("-n must be 3..500, -t 1..30");
	if (strcmp(bin_dir, ".") == 0) {
		/* Default: the binaries next to this one. */
		char self[PATH_MAX];
		ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (l > 0) {
			self[l] = 0;
			*strrchr(self, '/') = 0;
			snprintf(bin_dir, sizeof(bin_dir), "%s", self);
		}
	}
	snprintf(prefix, sizeof(prefix), "asb%d-", (int)getpid());
	snprintf(tmp, sizeof(tmp), "/tmp/antispoof-bench.XXXXXX");
	if (!mkdtemp(tmp))
		die("mkdtemp failed");
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(bpffs, sizeof(bpffs), "%s/bpf", tmp);
	if (sh("mkdir -p %s && mount -t bpf bpf %s", bpffs, bpffs) != 0) {
		bpffs[0] = 0;
		die("cannot mount a bpffs");
	}
	if (sh("ip netns add %snode && ip -n %snode link set lo up", prefix, prefix) != 0)
		die("cannot create the node netns");
	for (i = 0; i < 2 * n; i++, n_ns++)
		if (sh("ip netns add %s%u", prefix, i) != 0)
			die("cannot create a pod netns");
	snprintf(conf_on, sizeof(conf_on), "%s/on.json", tmp);
	snprintf(conf_off, sizeof(conf_off), "%s/off.json", tmp);
	write_conf(conf_on, "as-on", "br-on", "10.50.0.0/20", 1);
	write_conf(conf_off, "as-off", "br-off", "10.51.0.0/20", 0);

	t_on = calloc(n, sizeof(double));
	t_off = calloc(n, sizeof(double));
	if (!t_on || !t_off)
		die("out of memory");
	/* Bridges made and the program pinned before the timed runs. */
	first = cni("ADD", conf_on, 0, res, sizeof(res));
	first_ip(res, ip_on, sizeof(ip_on));
	cni("ADD", conf_off, n, res, sizeof(res));
	first_ip(res, ip_off, sizeof(ip_off));
	for (i = 1; i < n; i++) {
		char *r1 = i == 1 ? res : NULL;

		t_on[i - 1] = cni("ADD", conf_on, i, NULL, 0);
		t_off[i - 1] = cni("ADD", conf_off, n + i, r1, r1 ? sizeof(res) : 0);
	}
	m_on = median(t_on, n - 1);
	m_off = median(t_off, n - 1);

	/* pod 1 -> pod 0 (antiSpoof), pod n+1 -> pod n (none); alternated. */
	for (i = 0; i < 2; i++) {
		g_on += iperf(1, 0, ip_on, secs) / 2;
		g_off += iperf(n + 1, n, ip_off, secs) / 2;
	}
	for (i = 0; i < 2 * n; i++)
		cni("DEL", i < n ? conf_on : conf_off, i, NULL, 0);

	ratio = g_on / g_off;
	out = outpath ? fopen(outpath, "w") : stdout;
	if (!out)
		die("cannot write --out");
	fprintf(out,
		"# antiSpoof cost (loom-bridge + loom-ipam, %u ADDs each, iperf3 2x%d s each)\n\n",
		n - 1, secs);
	fprintf(out, "| measure | antiSpoof on | off | difference | goal | met |\n");
	fprintf(out, "|---|---|---|---|---|---|\n");
	fprintf(out, "| ADD median | %.2f ms | %.2f ms | %+.2f ms | <= +0.5 ms | %s |\n", m_on,
		m_off, m_on - m_off, m_on - m_off <= 0.5 ? "yes" : "no");
	fprintf(out,
		"| iperf3 pod to pod | %.2f Gbit/s | %.2f Gbit/s | %+.1f%% | within 2%% | %s |\n",
		g_on, g_off, (ratio - 1) * 100, ratio >= 0.98 ? "yes" : "no");
	fprintf(out,
		"\nFirst ADD with antiSpoof on the node (loads, verifies and pins the program): "
		"%.2f ms.\n",
		first);
	if (out != stdout) {
		fclose(out);
		printf("wrote %s\n", outpath);
	}
	free(t_on);
	free(t_off);
	return 0;
}
