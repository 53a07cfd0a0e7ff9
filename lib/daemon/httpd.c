/* The HTTP server (httpd.h). */
#include "daemon/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct client {
	int fd; /* -1: slot free */
	int64_t deadline;
	char head[LOOM_HTTPD_HEAD_MAX];
	size_t head_len;
	char *out; /* the whole response, once built */
	size_t out_len, out_off;
};

struct loom_httpd {
	int fd;
	int port;
	loom_http_handler handler;
	void *handler_arg;
	loom_httpd_watch watch;
	void *loop;
	struct client clients[LOOM_HTTPD_MAX_CLIENTS];
};

const char *loom_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	}
	return "Unknown";
}

/* "HOST:PORT" or "[V6]:PORT" -> host, port. */
static int split_address(const char *address, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	size_t n;

	if (address[0] == '[') {
		const char *end = strchr(address, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - address - 1);
		colon = end + 1;
		if (n >= hlen)
			return -EINVAL;
		memcpy(host, address + 1, n);
	} else {
		colon = strrchr(address, ':');
		if (!colon || strchr(address, ':') != colon)
			return -EINVAL;
		n = (size_t)(colon - address);
		if (n >= hlen)
			return -EINVAL;
		memcpy(host, address, n);
	}
	host[n] = '\0';
	if (!colon[1] || strlen(colon + 1) >= plen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	snprintf(port, plen, "%s", colon + 1);
	return host[0] ? 0 : -EINVAL;
}

static int listen_on(const char *address, int *port_out)
{
	char host[256], port[8];
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, one = 1, e;

	if (split_address(address, host, sizeof(host), port, sizeof(port)) < 0 ||
	    getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
		if (ai)
			freeaddrinfo(ai);
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = -errno;
		freeaddrinfo(ai);
		return e;
	}
	/* A restarted daemon must get its port back while the old
	 * connections sit in TIME_WAIT. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		e = -errno;
		close(fd);
		freeaddrinfo(ai);
		return e;
	}
	freeaddrinfo(ai);
	*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

int loom_httpd_open(const char *address, loom_http_handler handler, void *handler_arg,
		    loom_httpd_watch watch, void *loop, struct loom_httpd **out)
{
	struct loom_httpd *h;
	int i, r;

	if (!address || !handler || !watch)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (i = 0; i < LOOM_HTTPD_MAX_CLIENTS; i++)
		h->clients[i].fd = -1;
	h->handler = handler;
	h->handler_arg = handler_arg;
	h->watch = watch;
	h->loop = loop;
	h->fd = listen_on(address, &h->port);
	if (h->fd < 0) {
		r = h->fd;
		free(h);
		return r;
	}
	r = watch(loop, h->fd, POLLIN);
	if (r < 0) {
		close(h->fd);
		free(h);
		return r;
	}
	*out = h;
	return 0;
}

int loom_httpd_port(const struct loom_httpd *h)
{
	return h->port;
}

static void client_close(struct loom_httpd *h, struct client *c)
{
	if (c->fd < 0)
		return;
	(void)h->watch(h->loop, c->fd, 0);
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->out_len = c->out_off = c->head_len = 0;
}

static struct client *client_of(struct loom_httpd *h, int fd)
{
	int i;

	for (i = 0; i < LOOM_HTTPD_MAX_CLIENTS; i++)
		if (h->clients[i].fd == fd)
			return &h->clients[i];
	return NULL;
}

static void on_accept(struct loom_httpd *h, int64_t now)
{
	for (;;) {
		struct client *c = client_of(h, -1);
		int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN: all taken; others: the peer left already */
		if (!c || h->watch(h->loop, fd, POLLIN) < 0) {
			/* Full: refuse rather than queue behind stuck clients. */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline = now + LOOM_HTTPD_TIMEOUT_MS;
	}
}

/* The response as one buffer: status line, headers, body (none for HEAD). */
static void respond(struct loom_httpd *h, struct client *c, int status, const char *type,
		    const char *body, size_t len, bool head_only)
{
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n",
		     status, loom_http_reason(status), type ? type : "text/plain; charset=utf-8",
		     len);
	if (head_only)
		len = 0;
	c->out = malloc((size_t)n + len);
	if (!c->out) {
		client_close(h, c);
		return;
	}
	memcpy(c->out, hdr, (size_t)n);
	if (len)
		memcpy(c->out + n, body, len);
	c->out_len = (size_t)n + len;
	c->out_off = 0;
	if (h->watch(h->loop, c->fd, POLLOUT) < 0)
		client_close(h, c);
}

static void respond_text(struct loom_httpd *h, struct client *c, int status, bool head_only)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", loom_http_reason(status));

	respond(h, c, status, NULL, body, (size_t)n, head_only);
}

/* A whole head is in: parse the request line, ask the handler. */
static void on_request(struct loom_httpd *h, struct client *c)
{
	struct loom_http_reply reply = { 0 };
	char *sp1, *sp2, *q, *eol;
	bool head_only;

	eol = strstr(c->head, "\r\n");
	if (eol)
		*eol = '\0';
	sp1 = strchr(c->head, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!eol || !sp1 || !sp2 || sp1[1] != '/' || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		respond_text(h, c, 400, false);
		return;
	}
	*sp1 = *sp2 = '\0';
	head_only = strcmp(c->head, "HEAD") == 0;
	if (!head_only && strcmp(c->head, "GET") != 0) {
		respond_text(h, c, 405, false);
		return;
	}
	q = strchr(sp1 + 1, '?');
	if (q)
		*q = '\0';
	h->handler(h->handler_arg, sp1 + 1, &reply);
	if (reply.status < 100 || reply.status > 599)
		reply.status = 500;
	respond(h, c, reply.status, reply.content_type, reply.body, reply.body ? reply.len : 0,
		head_only);
	free(reply.body);
}

static void on_readable(struct loom_httpd *h, struct client *c)
{
	ssize_t n;

	for (;;) {
		if (c->head_len >= sizeof(c->head) - 1) {
			respond_text(h, c, 431, false);
			return;
		}
		n = read(c->fd, c->head + c->head_len, sizeof(c->head) - 1 - c->head_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(h, c); /* error, or the peer left before asking */
			return;
		}
		c->head_len += (size_t)n;
		c->head[c->head_len] = '\0';
		if (strstr(c->head, "\r\n\r\n")) {
			on_request(h, c);
			return;
		}
	}
}

static void on_writable(struct loom_httpd *h, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	/* Closing with unread bytes (the rest of a refused head) would send
	 * a reset that can overtake the answer at the client: read them. */
	{
		char sink[512];

		while (read(c->fd, sink, sizeof(sink)) > 0)
			;
	}
	client_close(h, c);
}

void loom_httpd_handle_ready(struct loom_httpd *h, int fd, short revents, int64_t now_ms)
{
	struct client *c;

	if (!h)
		return;
	if (fd == h->fd) {
		on_accept(h, now_ms);
		return;
	}
	c = client_of(h, fd);
	if (!c || fd < 0)
		return;
	if (c->out)
		on_writable(h, c);
	else if (revents & (POLLIN | POLLHUP | POLLERR))
		on_readable(h, c);
}

int64_t loom_httpd_expire(struct loom_httpd *h, int64_t now_ms)
{
	int64_t next = INT64_MAX;
	int i;

	for (i = 0; h && i < LOOM_HTTPD_MAX_CLIENTS; i++) {
		struct client *c = &h->clients[i];

		if (c->fd < 0)
			continue;
		if (now_ms >= c->deadline)
			client_close(h, c);
		else if (c->deadline < next)
			next = c->deadline;
	}
	return next;
}

void loom_httpd_close(struct loom_httpd *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < LOOM_HTTPD_MAX_CLIENTS; i++)
		client_close(h, &h->clients[i]);
	(void)h->watch(h->loop, h->fd, 0);
	close(h->fd);
	free(h);
}
