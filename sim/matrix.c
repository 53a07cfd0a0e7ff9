/* loom-sim matrix: every pod probes every pod (loom-probe check run inside
 * the source pod's netns), a bounded number at a time. */
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
	while (done < n * n) {
		while (nrun < MATRIX_PARALLEL && next < n * n) {
			json_t *src = json_array_get(pods, next / n), *dst = json_array_get(pods, next % n);
			const char *addr = json_string_value(json_object_get(dst, "address"));
			pid_t pid = -1;

			if (addr && addr[0])
				pid = start_check(probe, json_string_value(json_object_get(src, "netns")),
						  addr, port, proto);
			if (pid < 0) {
				res[next++] = 0;
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
					WIFEXITED(st) && WEXITSTATUS(st) == 0;
				running[k] = running[--nrun];
				done++;
				break;
			}
		}
	}
	for (i = 0; i < n * n; i++)
		ok += res[i] != 0;

	if (json) {
		json_t *out = json_pack("{s:i, s:s, s:i, s:i, s:[], s:[]}", "port", atoi(port),
					"proto", proto, "reachable", (int)ok, "total", (int)(n * n),
					"pods", "results");
		json_t *plist = json_object_get(out, "pods"), *rl = json_object_get(out, "results");
		char *txt;

		for (i = 0; i < n; i++) {
			json_t *p = json_array_get(pods, i), *row = json_array();

			json_array_append_new(plist, json_pack("{s:O, s:O, s:O}", "pod",
							       json_object_get(p, "pod"), "node",
							       json_object_get(p, "node"), "address",
							       json_object_get(p, "address")));
			for (j = 0; j < n; j++)
				json_array_append_new(row, json_boolean(res[i * n + j]));
			json_array_append_new(rl, row);
		}
		txt = json_dumps(out, JSON_INDENT(2));
		if (txt)
			puts(txt);
		free(txt);
		json_decref(out);
	} else {
		printf("%s/%s: %zu of %zu reachable (row: from, column: to)\n", proto, port, ok, n * n);
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
				bool y = res[i * n + j];

				if (color)
					printf("   %s\033[0m", y ? "\033[32m\u2713" : "\033[31m\u2717");
				else
					printf("   %c", y ? '.' : 'X');
			}
			putchar('\n');
		}
	}
	free(res);
	json_decref(pods);
	return rc;
}
