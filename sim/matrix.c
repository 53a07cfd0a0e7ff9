/* loom-sim matrix: every pod probes every pod (loom-probe check run inside
 * the source pod's netns), a bounded number at a time.
 *
 * A verdict is only reported when the probe could tell.  Every node of the
 * simulator shares one kernel, so a probe can fail because the simulator ran
 * out of something a real cluster has per node: the neighbour table
 * (shared by every namespace; its table_fulls counter rises when the kernel
 * refused an entry and dropped the packet waiting on it), processes, files
 * or socket buffers.  Such cells are "inconclusive", shown as '?', never as
 * a policy or dataplane X. */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MATRIX_PARALLEL 16

enum cell {
	CELL_UNREACHABLE = 0,
	CELL_REACHABLE = 1,
	CELL_INCONCLUSIVE = 2
};

/* Sum of the table_fulls column (the last) over every CPU's line of
 * /proc/net/stat/<table>; -1 when unreadable. */
static long table_fulls(const char *table)
{
	char path[64], line[512];
	long sum = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/net/stat/%s", table);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *last = strrchr(line, ' ');

		sum += strtol(last ? last + 1 : line, NULL, 16);
	}
	fclose(f);
	return sum;
}

/* loom-probe's exit status as a cell: 0 reached, 1 not; anything else
 * (killed, no socket, setns or exec failed) says nothing of the network. */
static enum cell cell_of(int status)
{
	if (!WIFEXITED(status))
		return CELL_INCONCLUSIVE;
	if (WEXITSTATUS(status) == 0)
		return CELL_REACHABLE;
	if (WEXITSTATUS(status) == 1)
		return CELL_UNREACHABLE;
	return CELL_INCONCLUSIVE;
}

static long neigh_overflows(void)
{
	long v4 = table_fulls("arp_cache"), v6 = table_fulls("ndisc_cache");

	return (v4 < 0 ? 0 : v4) + (v6 < 0 ? 0 : v6);
}
#define MATRIX_TIMEOUT_MS "1000"

struct check {
	pid_t pid;
	int src, dst;
};

/* Fork a check from inside pod `src`'s netns; no `ip netns exec`: this
 * runs N² times and needs no mount namespace. */
static pid_t start_check(const char *probe, const char *netns, const char *addr, const char *port,
			 const char *proto)
{
	pid_t pid = fork();

	if (pid == 0) {
		char path[320];
		int fd;

		snprintf(path, sizeof(path), "/var/run/netns/%s", netns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(126);
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(probe, probe, "check", addr, port, proto, "--timeout", MATRIX_TIMEOUT_MS,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

int sim_matrix(struct sim *s, int argc, char **argv)
{
	const char *port = "80", *proto = "tcp";
	bool json = false, color = isatty(1);
	json_t *pods = sim_pods(s);
	size_t n = json_array_size(pods), done = 0, next = 0, ok = 0, i, j;
	struct check running[MATRIX_PARALLEL];
	int nrun = 0, rc = 0;
	size_t inconclusive = 0, cannot_run = 0;
	long overflows;
	char probe[320];
	char *res;

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--json"))
			json = true;
		else if (!strcmp(argv[a], "--port") && a + 1 < argc)
			port = argv[++a];
		else if (!strcmp(argv[a], "--proto") && a + 1 < argc)
			proto = argv[++a];
		else
			return json_decref(pods),
			       sim_err("usage: loom-sim matrix [--port P] [--proto tcp|udp] [--json]"),
			       2;
	}
	if ((strcmp(proto, "tcp") && strcmp(proto, "udp")) || atoi(port) < 1 || atoi(port) > 65535)
		return json_decref(pods), sim_err("matrix: bad --port or --proto"), 2;
	snprintf(probe, sizeof(probe), "%s/loom-probe", s->bin);
	res = calloc(n * n + 1, 1);
	if (!res)
		return json_decref(pods), 1;
	fflush(stdout);
	overflows = neigh_overflows();
	while (done < n * n) {
		while (nrun < MATRIX_PARALLEL && next < n * n) {
			json_t *src = json_array_get(pods, next / n),
			       *dst = json_array_get(pods, next % n);
			const char *addr = json_string_value(json_object_get(dst, "address"));
			pid_t pid = -1;

			if (addr && addr[0])
				pid = start_check(probe,
						  json_string_value(json_object_get(src, "netns")),
						  addr, port, proto);
			if (pid < 0) {
				/* no address: the pod is not wired (a verdict); no
				 * fork: the simulator ran out of processes */
				res[next++] =
					addr && addr[0] ? CELL_INCONCLUSIVE : CELL_UNREACHABLE;
				done++;
				continue;
			}
			running[nrun++] = (struct check){ pid, (int)(next / n), (int)(next % n) };
			next++;
		}
		if (nrun == 0)
			continue;
		{
			int st;
			pid_t pid = wait(&st);

			if (pid < 0 && errno == EINTR)
				continue;
			if (pid < 0)
				break;
			for (int k = 0; k < nrun; k++) {
				if (running[k].pid != pid)
					continue;
				res[(size_t)running[k].src * n + (size_t)running[k].dst] =
					(char)cell_of(st);
				running[k] = running[--nrun];
				done++;
				break;
			}
		}
	}
	for (i = 0; i < n * n; i++)
		cannot_run += res[i] == CELL_INCONCLUSIVE;
	/* A failure while the kernel was refusing neighbour entries may be
	 * that refusal, whatever the policy says: no verdict for any. */
	overflows = neigh_overflows() - overflows;
	for (i = 0; i < n * n; i++) {
		if (overflows > 0 && res[i] == CELL_UNREACHABLE)
			res[i] = CELL_INCONCLUSIVE;
		ok += res[i] == CELL_REACHABLE;
		inconclusive += res[i] == CELL_INCONCLUSIVE;
	}
	if (inconclusive)
		rc = 3;

	if (json) {
		json_t *out =
			json_pack("{s:i, s:s, s:i, s:i, s:i, s:i, s:i, s:[], s:[]}", "port",
				  atoi(port), "proto", proto, "reachable", (int)ok, "total",
				  (int)(n * n), "inconclusive", (int)inconclusive,
				  "neighbourTableOverflows", (int)(overflows > 0 ? overflows : 0),
				  "probesNotRun", (int)cannot_run, "pods", "results");
		json_t *plist = json_object_get(out, "pods"), *rl = json_object_get(out, "results");
		char *txt;

		for (i = 0; i < n; i++) {
			json_t *p = json_array_get(pods, i), *row = json_array();

			json_array_append_new(plist,
					      json_pack("{s:O, s:O, s:O}", "pod",
							json_object_get(p, "pod"), "node",
							json_object_get(p, "node"), "address",
							json_object_get(p, "address")));
			for (j = 0; j < n; j++)
				json_array_append_new(row, res[i * n + j] == CELL_INCONCLUSIVE
								   ? json_null()
								   : json_boolean(res[i * n + j]));
			json_array_append_new(rl, row);
		}
		txt = json_dumps(out, JSON_INDENT(2));
		if (txt)
			puts(txt);
		free(txt);
		json_decref(out);
	} else {
		printf("%s/%s: %zu of %zu reachable (row: from, column: to)\n", proto, port, ok,
		       n * n);
		if (inconclusive)
			printf("%zu inconclusive (?): the simulator, not the network, failed them — %s%s"
			       "run `loom-sim check --nodes N` for the settings this machine needs\n",
			       inconclusive,
			       overflows > 0 ? "the kernel's neighbour table (shared by every node "
					       "namespace) overflowed during the run; "
					     : "",
			       cannot_run ? "some probes could not run (out of processes, files or "
					    "buffers); "
					  : "");
		printf("%-4s %-24s %-4s %-16s", "", "FROM", "NODE", "ADDRESS");
		for (j = 0; j < n; j++)
			printf(" %3zu", j + 1);
		putchar('\n');
		for (i = 0; i < n; i++) {
			json_t *p = json_array_get(pods, i);

			printf("%3zu  %-24s %-4s %-16s", i + 1,
			       json_string_value(json_object_get(p, "pod")),
			       json_string_value(json_object_get(p, "node")),
			       json_string_value(json_object_get(p, "address")));
			for (j = 0; j < n; j++) {
				char c = res[i * n + j];

				if (c == CELL_INCONCLUSIVE)
					printf("   %s", color ? "\033[33m?\033[0m" : "?");
				else if (color)
					printf("   %s\033[0m",
					       c ? "\033[32m\u2713" : "\033[31m\u2717");
				else
					printf("   %c", c ? '.' : 'X');
			}
			putchar('\n');
		}
	}
	free(res);
	json_decref(pods);
	return rc;
}
