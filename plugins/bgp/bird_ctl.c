/* BIRD's control socket, spoken directly (no birdc): a reply is lines
 * "CODE-text" (more follow), " text" (continues the previous code) and
 * one last "CODE text".  Codes 8xxx and 9xxx are errors. */
#include "bird.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX (4u << 20) /* a status reply of thousands of peers fits */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read one whole reply into *buf (appending).  1 = last line's code
 * was an error, 0 = fine, -errno. */
static int read_reply(int fd, long long deadline, char **buf, size_t *len, size_t *cap)
{
	size_t scan = *len, line;

	for (;;) {
		char *nl;
		ssize_t r;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left;

		while ((nl = memchr(*buf + scan, '\n', *len - scan))) {
			line = scan;
			scan = (size_t)(nl - *buf) + 1;
			if (scan - line >= 5 && (*buf)[line + 4] == ' ' && (*buf)[line] != ' ')
				return (*buf)[line] == '8' || (*buf)[line] == '9';
		}
		if (*len + 4096 + 1 > *cap) {
			char *n;

			if (*cap >= REPLY_MAX)
				return -EMSGSIZE;
			n = realloc(*buf, *cap * 2);
			if (!n)
				return -ENOMEM;
			*buf = n;
			*cap *= 2;
		}
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		r = read(fd, *buf + *len, *cap - *len - 1);
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (r == 0)
			return -ECONNRESET;
		if (r > 0)
			*len += (size_t)r;
		(*buf)[*len] = '\0';
	}
}

/* Drop the codes: "1002-x" -> "x", " y" -> "y". */
static void strip_codes(char *s)
{
	char *in = s, *out = s;

	while (*in) {
		char *nl = strchr(in, '\n');
		size_t n = nl ? (size_t)(nl - in) + 1 : strlen(in);

		if (n >= 5 && in[0] != ' ' && (in[4] == '-' || in[4] == ' ')) {
			in += 5;
			n -= 5;
		} else if (in[0] == ' ') {
			in += 1;
			n -= 1;
		}
		memmove(out, in, n);
		out += n;
		in += n;
	}
	*out = '\0';
}

int loom_bird_cmd(const char *sock, const char *cmd, int timeout_ms, char **reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	size_t len = 0, cap = 8192, greet;
	char *buf = NULL;
	int fd, r;

	if (reply)
		*reply = NULL;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	buf = malloc(cap);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	buf[0] = '\0';
	r = read_reply(fd, deadline, &buf, &len, &cap); /* the "0001 BIRD ... ready." greeting */
	if (r != 0) {
		r = r < 0 ? r : -EPROTO;
		goto out;
	}
	greet = len;
	if (dprintf(fd, "%s\n", cmd) < 0) {
		r = -errno;
		goto out;
	}
	r = read_reply(fd, deadline, &buf, &len, &cap);
	if (r < 0)
		goto out;
	r = r ? -EPROTO : 0;
	memmove(buf, buf + greet, len - greet + 1);
	strip_codes(buf);
	if (reply) {
		*reply = buf;
		buf = NULL;
	}
out:
	free(buf);
	close(fd);
	return r;
}
