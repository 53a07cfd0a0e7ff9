/* lib/daemon/serve.c: the three endpoints on a real loom_loop, asked by a
 * plain socket client in the same thread (the loop turns until the answer
 * is complete): /healthz always 200, /readyz 503 with the daemon's reason
 * then 200, /metrics refreshed before it renders, 404 elsewhere; an
 * address that does not parse is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/httpd.h"
#include "daemon/serve.h"

struct fake {
	bool ready;
	int refreshed;
	struct loom_metric *gauge;
};

static bool ready(void *arg, char *why, size_t len)
{
	struct fake *f = arg;

	if (!f->ready)
		snprintf(why, len, "store unreachable");
	return f->ready;
}

static void refresh(void *arg)
{
	struct fake *f = arg;

	loom_metric_set(f->gauge, ++f->refreshed);
}

static int connect_to(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* GET path; turn the loop until the server closes: the whole answer. */
static char *get(struct loom_loop *l, int port, const char *path)
{
	static char buf[16384];
	char req[256];
	size_t len = 0;
	int fd = connect_to(port), i;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (i = 0; i < 1000; i++) {
		ssize_t n;

		loom_loop_run_once(l, 10);
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static void test_endpoints(void **state)
{
	static const struct loom_serve_ops ops = { .ready = ready, .refresh = refresh };
	struct loom_metrics *m = loom_metrics_new();
	struct fake f = { 0 };
	struct loom_loop *l = NULL;
	struct loom_serve *s = NULL;
	int port;
	char *r;

	(void)state;
	assert_non_null(m);
	assert_int_equal(loom_serve_build_info(m), 0);
	f.gauge = loom_metrics_add(m, LOOM_METRIC_GAUGE, "loom_test_refreshes", "Refreshes.", NULL,
				   NULL, 0);
	assert_int_equal(loom_loop_new(&l), 0);
	assert_int_equal(loom_serve_open(l, "127.0.0.1:0", m, &ops, &f, &s), 0);
	port = loom_serve_port(s);
	assert_true(port > 0);

	r = get(l, port, "/healthz");
	assert_non_null(strstr(r, "HTTP/1.1 200 "));
	r = get(l, port, "/readyz");
	assert_non_null(strstr(r, "HTTP/1.1 503 "));
	assert_non_null(strstr(r, "\r\n\r\nnot ready: store unreachable\n"));
	f.ready = true;
	r = get(l, port, "/readyz");
	assert_non_null(strstr(r, "HTTP/1.1 200 "));
	r = get(l, port, "/metrics");
	assert_non_null(strstr(r, "HTTP/1.1 200 "));
	assert_non_null(strstr(r, "loom_build_info{version=\""));
	assert_non_null(strstr(r, "\nloom_test_refreshes 1\n"));
	r = get(l, port, "/nope");
	assert_non_null(strstr(r, "HTTP/1.1 404 "));

	loom_serve_close(s);
	loom_loop_free(l);
	loom_metrics_free(m);
}

static void test_bad_address(void **state)
{
	static const struct loom_serve_ops ops = { .ready = ready };
	struct loom_metrics *m = loom_metrics_new();
	struct loom_loop *l = NULL;
	struct loom_serve *s = NULL;

	(void)state;
	assert_int_equal(loom_loop_new(&l), 0);
	assert_int_equal(loom_serve_open(l, "nowhere", m, &ops, NULL, &s), -EINVAL);
	assert_null(s);
	loom_loop_free(l);
	loom_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
