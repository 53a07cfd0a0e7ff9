/* A small HTTP/1.1 server for a daemon's /healthz, /readyz and /metrics,
 * driven by the daemon's own event loop: it never blocks and owns no loop.
 *
 * The server tells the loop which fds to watch through `watch` (events 0:
 * stop watching; the idea of libcurl's socket callback), and the loop
 * hands every ready fd back with loom_httpd_handle_ready().  One request
 * per connection (answered with Connection: close), GET and HEAD only,
 * request heads up to 8 KiB, at most LOOM_HTTPD_MAX_CLIENTS at once, each
 * closed after LOOM_HTTPD_TIMEOUT_MS without finishing: a stuck scraper
 * can cost the daemon a few fds, never its loop.
 *
 * May use libc only; never prints. */
#ifndef LOOM_DAEMON_HTTPD_H
#define LOOM_DAEMON_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#define LOOM_HTTPD_MAX_CLIENTS 16
#define LOOM_HTTPD_TIMEOUT_MS 5000
#define LOOM_HTTPD_HEAD_MAX 8192

struct loom_httpd;

/* What a handler answers: status (200, 404, 503 ...), the content type
 * (a static string; NULL = text/plain), and a malloc()ed body the server
 * frees (NULL = empty). */
struct loom_http_reply {
	int status;
	const char *content_type;
	char *body;
	size_t len;
};

/* Called once per request with its path (query string removed). */
typedef void (*loom_http_handler)(void *arg, const char *path, struct loom_http_reply *reply);

/* Watch fd for `events` (POLLIN, POLLOUT), replacing what was watched
 * before; events 0 = stop watching (the fd is about to be closed).
 * 0 or -errno. */
typedef int (*loom_httpd_watch)(void *loop, int fd, short events);

/* Listen on "HOST:PORT" ("127.0.0.1:9650", "0.0.0.0:9650", "[::1]:9650";
 * port 0 picks a free one).  The listening fd is handed to watch at once.
 * 0 or -errno (-EINVAL for an address that does not parse). */
int loom_httpd_open(const char *address, loom_http_handler handler, void *handler_arg,
		    loom_httpd_watch watch, void *loop, struct loom_httpd **out);
/* The port listened on. */
int loom_httpd_port(const struct loom_httpd *h);
/* An fd the server watches is ready (revents from poll). */
void loom_httpd_handle_ready(struct loom_httpd *h, int fd, short revents, int64_t now_ms);
/* Close connections idle past their deadline; the next deadline
 * (INT64_MAX when no connection is open).  Any monotonic ms clock. */
int64_t loom_httpd_expire(struct loom_httpd *h, int64_t now_ms);
/* Close everything (unwatching each fd).  NULL-safe. */
void loom_httpd_close(struct loom_httpd *h);

/* "OK", "Not Found" ... for the status line. */
const char *loom_http_reason(int status);

#endif
