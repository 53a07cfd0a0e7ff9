/* A stand-in daemon for test_metrics.sh: lib/daemon/httpd.c serving
 * /healthz, /readyz (503 with its reason until SIGUSR1) and /metrics from
 * a lib/daemon/metrics.c registry holding every kind of metric loom's
 * daemons export, so `promtool check metrics` can judge the real output.
 *
 *   httpd_demo HOST:PORT     prints "port N" once listening; SIGTERM ends it */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/httpd.h"
#include "daemon/metrics.h"

#define MAXFD 32

static struct pollfd fds[MAXFD];
static size_t nfds;
static int ready;
static struct loom_metrics *reg;
static struct loom_metric *scrapes;

static int watch(void *arg, int fd, short events)
{
	size_t i;

	(void)arg;
	for (i = 0; i < nfds && fds[i].fd != fd; i++)
		;
	if (events == 0) {
		if (i < nfds)
			fds[i] = fds[--nfds];
		return 0;
	}
	if (i == nfds && nfds++ == MAXFD)
		return nfds--, -ENOSPC;
	fds[i] = (struct pollfd){ .fd = fd, .events = events };
	return 0;
}

static void handler(void *arg, const char *path, struct loom_http_reply *r)
{
	(void)arg;
	if (strcmp(path, "/metrics") == 0) {
		loom_metric_inc(scrapes);
		r->status = loom_metrics_render(reg, &r->body, &r->len) == 0 ? 200 : 500;
		r->content_type = LOOM_METRICS_CONTENT_TYPE;
		return;
	}
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0) {
		bool ok = path[1] == 'h' || ready;

		r->status = ok ? 200 : 503;
		r->body = strdup(ok ? "ok\n" : "not ready: waiting for SIGUSR1\n");
		r->len = r->body ? strlen(r->body) : 0;
		return;
	}
	r->status = 404;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sample(void)
{
	static const double secs[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				       0.05,   0.1,   0.25,   0.5,   1,    2.5 };
	const char *build[] = { "version", "0.1.0", NULL };
	const char *ok[] = { "result", "success", NULL }, *bad[] = { "result", "failure", NULL };
	const char *peer[] = { "peer", "192.0.2.12", NULL },
		   *range[] = { "range", "10.244.3.0/24", NULL };
	struct loom_metric *h;

	loom_metric_set(loom_metrics_add(reg, LOOM_METRIC_GAUGE, "loom_build_info",
					 "loom's version, as a label; always 1.", build, NULL, 0),
			1);
	h = loom_metrics_add(reg, LOOM_METRIC_HISTOGRAM, "loom_dataplane_apply_duration_seconds",
			     "Time to apply one change to the dataplane.", NULL, secs,
			     sizeof(secs) / sizeof(secs[0]));
	loom_metric_observe(h, 0.0031);
	loom_metric_observe(h, 0.2);
	loom_metrics_add(reg, LOOM_METRIC_COUNTER, "loom_dataplane_apply_errors_total",
			 "Dataplane changes that failed to apply.", NULL, NULL, 0);
	loom_metric_add(loom_metrics_add(reg, LOOM_METRIC_COUNTER, "loom_lease_renewals_total",
					 "Node lease renewals, by result.", ok, NULL, 0),
			42);
	loom_metrics_add(reg, LOOM_METRIC_COUNTER, "loom_lease_renewals_total",
			 "Node lease renewals, by result.", bad, NULL, 0);
	loom_metric_set(loom_metrics_add(reg, LOOM_METRIC_GAUGE, "loom_bgp_peer_up",
					 "1 when the BGP session to the peer is established.", peer,
					 NULL, 0),
			1);
	loom_metric_set(loom_metrics_add(reg, LOOM_METRIC_GAUGE, "loom_ipam_addresses_in_use",
					 "Pod addresses held, per range.", range, NULL, 0),
			7);
	loom_metric_set(loom_metrics_add(reg, LOOM_METRIC_GAUGE, "loom_ipam_addresses_capacity",
					 "Pod addresses a range can hold.", range, NULL, 0),
			253);
	scrapes = loom_metrics_add(reg, LOOM_METRIC_COUNTER, "loom_http_requests_total",
				   "Scrapes of /metrics served.", NULL, NULL, 0);
}

int main(int argc, char **argv)
{
	struct loom_httpd *h = NULL;
	sigset_t mask;
	int sfd, r;

	if (argc != 2) {
		fputs("usage: httpd_demo HOST:PORT\n", stderr);
		return 2;
	}
	reg = loom_metrics_new();
	if (!reg)
		return 1;
	sample();
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r = loom_httpd_open(argv[1], handler, NULL, watch, NULL, &h);
	if (sfd < 0 || r < 0) {
		fprintf(stderr, "httpd_demo: %s: %s\n", argv[1], strerror(r < 0 ? -r : errno));
		return 1;
	}
	printf("port %d\n", loom_httpd_port(h));
	fflush(stdout);
	for (;;) {
		struct pollfd ready_fds[MAXFD + 1];
		size_t i, n = nfds;
		int64_t next = loom_httpd_expire(h, now_ms()), now = now_ms();

		memcpy(ready_fds, fds, n * sizeof(fds[0]));
		ready_fds[n] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (poll(ready_fds, n + 1, next == INT64_MAX ? -1 : (int)(next - now)) < 0 &&
		    errno != EINTR)
			break;
		if (ready_fds[n].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGUSR1)
				break;
			ready = 1;
		}
		for (i = 0; i < n; i++)
			if (ready_fds[i].revents)
				loom_httpd_handle_ready(h, ready_fds[i].fd, ready_fds[i].revents,
							now_ms());
	}
	loom_httpd_close(h);
	loom_metrics_free(reg);
	close(sfd);
	return 0;
}
