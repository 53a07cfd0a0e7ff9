/* lib/daemon/httpd.c driven the way a daemon's loop drives it: the
 * server's watch callback fills a small fd table, a poll over that table
 * hands ready fds back.  The client is a plain socket in the same thread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/httpd.h"
#include "test_main.h"

#define MAXFD 32

struct loop {
	struct pollfd fds[MAXFD];
	size_t n;
};

static int watch(void *arg, int fd, short events)
{
	struct loop *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->fds[i].fd == fd)
			break;
	if (events == 0) {
		if (i < l->n)
			l->fds[i] = l->fds[--l->n];
		return 0;
	}
	if (i == l->n) {
		if (l->n == MAXFD)
			return -ENOSPC;
		l->n++;
	}
	l->fds[i] = (struct pollfd){ .fd = fd, .events = events };
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One loop turn, waiting at most `ms`. */
static void turn(struct loom_httpd *h, struct loop *l, int ms)
{
	struct pollfd ready[MAXFD];
	size_t i, n = l->n;

	memcpy(ready, l->fds, sizeof(ready));
	if (poll(ready, n, ms) <= 0)
		return;
	for (i = 0; i < n; i++)
		if (ready[i].revents)
			loom_httpd_handle_ready(h, ready[i].fd, ready[i].revents, now_ms());
}

static int ready_flag;

static void handler(void *arg, const char *path, struct loom_http_reply *r)
{
	(void)arg;
	if (strcmp(path, "/healthz") == 0) {
		r->status = 200;
		r->body = strdup("ok\n");
		r->len = 3;
	} else if (strcmp(path, "/readyz") == 0) {
		r->status = ready_flag ? 200 : 503;
		r->body = strdup(ready_flag ? "ok\n" : "not ready: no lease yet\n");
		r->len = strlen(r->body);
	} else if (strcmp(path, "/big") == 0) {
		r->status = 200;
		r->len = 1 << 20;
		r->body = malloc(r->len);
		memset(r->body, 'x', r->len);
	} else {
		r->status = 404;
	}
}

static int connect_to(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Send `req`, run the loop until the server closes, return what came back. */
static char *exchange(struct loom_httpd *h, struct loop *l, const char *req, size_t *len_out)
{
	int fd = connect_to(loom_httpd_port(h));
	size_t cap = 1 << 21, len = 0;
	char *buf = malloc(cap);
	int i;

	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (i = 0; i < 2000; i++) {
		ssize_t n;

		turn(h, l, 5);
		while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
			len += (size_t)n;
		if (n == 0)
			break;
	}
	close(fd);
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

static void test_endpoints(void **state)
{
	struct loop l = { .n = 0 };
	struct loom_httpd *h = NULL;
	char *r;
	size_t len;

	(void)state;
	assert_int_equal(loom_httpd_open("127.0.0.1:0", handler, NULL, watch, &l, &h), 0);
	assert_true(loom_httpd_port(h) > 0);
	assert_int_equal(l.n, 1);

	r = exchange(h, &l, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "Content-Length: 3\r\n"));
	assert_non_null(strstr(r, "Connection: close\r\n"));
	assert_non_null(strstr(r, "\r\n\r\nok\n"));
	free(r);

	ready_flag = 0;
	r = exchange(h, &l, "GET /readyz?verbose=1 HTTP/1.1\r\n\r\n", NULL);
	assert_non_null(strstr(r, "HTTP/1.1 503 Service Unavailable\r\n"));
	assert_non_null(strstr(r, "not ready: no lease yet"));
	free(r);
	ready_flag = 1;
	r = exchange(h, &l, "GET /readyz HTTP/1.0\r\n\r\n", NULL);
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	free(r);

	r = exchange(h, &l, "HEAD /healthz HTTP/1.1\r\n\r\n", &len);
	assert_non_null(strstr(r, "Content-Length: 3\r\n"));
	assert_true(len >= 4 && strcmp(r + len - 4, "\r\n\r\n") == 0); /* no body */
	free(r);

	r = exchange(h, &l, "GET /nope HTTP/1.1\r\n\r\n", NULL);
	assert_non_null(strstr(r, "HTTP/1.1 404 Not Found\r\n"));
	free(r);
	r = exchange(h, &l, "POST /healthz HTTP/1.1\r\n\r\n", NULL);
	assert_non_null(strstr(r, "HTTP/1.1 405 Method Not Allowed\r\n"));
	free(r);
	r = exchange(h, &l, "garbage\r\n\r\n", NULL);
	assert_non_null(strstr(r, "HTTP/1.1 400 Bad Request\r\n"));
	free(r);

	/* a body bigger than a socket buffer goes out in pieces (POLLOUT) */
	r = exchange(h, &l, "GET /big HTTP/1.1\r\n\r\n", &len);
	assert_non_null(strstr(r, "Content-Length: 1048576\r\n"));
	assert_true(len > (1u << 20));
	free(r);

	/* every client fd was unwatched: only the listener is left */
	assert_int_equal(l.n, 1);
	loom_httpd_close(h);
	assert_int_equal(l.n, 0);
}

static void test_limits(void **state)
{
	struct loop l = { .n = 0 };
	struct loom_httpd *h = NULL;
	char *big = malloc(LOOM_HTTPD_HEAD_MAX + 64), *r;
	int fd, i;

	(void)state;
	assert_int_equal(loom_httpd_open("[::1]:0", handler, NULL, watch, &l, &h) == 0 ||
				 loom_httpd_open("127.0.0.1:0", handler, NULL, watch, &l, &h) == 0,
			 1);
	loom_httpd_close(h);
	assert_int_equal(loom_httpd_open("127.0.0.1:0", handler, NULL, watch, &l, &h), 0);

	/* a head that never ends within the limit */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', LOOM_HTTPD_HEAD_MAX + 50);
	big[LOOM_HTTPD_HEAD_MAX + 55] = '\0';
	r = exchange(h, &l, big, NULL);
	assert_non_null(strstr(r, "HTTP/1.1 431 "));
	free(r);
	free(big);

	/* a client that never asks is dropped at its deadline */
	fd = connect_to(loom_httpd_port(h));
	for (i = 0; i < 50 && l.n < 2; i++)
		turn(h, &l, 10);
	assert_int_equal(l.n, 2);
	assert_true(loom_httpd_expire(h, now_ms()) != INT64_MAX);
	loom_httpd_expire(h, now_ms() + LOOM_HTTPD_TIMEOUT_MS + 1);
	assert_int_equal(l.n, 1);
	assert_int_equal(loom_httpd_expire(h, now_ms()), INT64_MAX);
	close(fd);
	loom_httpd_close(h);

	/* addresses that do not parse */
	assert_int_equal(loom_httpd_open("9650", handler, NULL, watch, &l, &h), -EINVAL);
	assert_int_equal(loom_httpd_open("localhost:9650", handler, NULL, watch, &l, &h), -EINVAL);
	assert_int_equal(loom_httpd_open("::1:9650", handler, NULL, watch, &l, &h), -EINVAL);
	assert_int_equal(loom_httpd_open("127.0.0.1:", handler, NULL, watch, &l, &h), -EINVAL);
	loom_httpd_close(NULL);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_endpoints), cmocka_unit_test(test_limits))
