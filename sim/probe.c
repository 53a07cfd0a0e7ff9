/* loom-probe: the smallest reliable client and server for reachability
 * matrices (busybox nc loses UDP replies and lingers).
 *
 *   loom-probe serve [--tcp PORT]... [--udp PORT]... [--ready-file PATH]
 *       answers every TCP connection and every UDP datagram with
 *       "loom-probe <hostname>\n"; creates PATH once every port is bound.
 *   loom-probe check ADDR PORT tcp|udp [--timeout MS]
 *       exit 0 when the reply came within the timeout (default 1000 ms),
 *       1 when not, 2 on a usage error, 3 when the probe could not even
 *       try (no socket: the machine ran out of files, buffers or memory —
 *       a fact about the simulator, not about the network). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_PORTS_MAX 64
#define PROBE_REPLY_PREFIX "loom-probe"
#define PROBE_CANNOT_TRY 3

static int usage(void)
{
	fputs("usage: loom-probe serve [--tcp PORT]... [--udp PORT]... [--ready-file PATH]\n"
	      "       loom-probe check ADDR PORT tcp|udp [--timeout MS]\n",
	      stderr);
	return 2;
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return (*end || end == s || v < 1 || v > 65535) ? -1 : (int)v;
}

/* An address of either family, for bind (any) or connect. */
static int sockaddr_for(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return AF_INET6;
	}
	return -1;
}

/* A dual-stack socket bound to [::]:port, or 0.0.0.0 when IPv6 is off. */
static int listen_on(int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int one = 1, zero = 0, fd;

	fd = socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		sockaddr_for("::", port, &ss, &len);
	} else {
		fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		sockaddr_for("0.0.0.0", port, &ss, &len);
	}
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		fprintf(stderr, "loom-probe: cannot listen on %s port %d: %s\n",
			type == SOCK_STREAM ? "tcp" : "udp", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int serve(int argc, char **argv)
{
	struct pollfd pfd[PROBE_PORTS_MAX];
	int is_tcp[PROBE_PORTS_MAX];
	const char *ready = NULL;
	char reply[128], host[64] = "";
	size_t rlen;
	int n = 0;

	for (int i = 0; i < argc; i++) {
		int port;

		if (!strcmp(argv[i], "--ready-file") && i + 1 < argc) {
			ready = argv[++i];
			continue;
		}
		if ((strcmp(argv[i], "--tcp") && strcmp(argv[i], "--udp")) || i + 1 >= argc ||
		    n >= PROBE_PORTS_MAX || (port = parse_port(argv[i + 1])) < 0)
			return usage();
		is_tcp[n] = !strcmp(argv[i], "--tcp");
		pfd[n].fd = listen_on(is_tcp[n] ? SOCK_STREAM : SOCK_DGRAM, port);
		pfd[n].events = POLLIN;
		if (pfd[n].fd < 0)
			return 1;
		n++;
		i++;
	}
	if (n == 0)
		return usage();
	gethostname(host, sizeof(host) - 1);
	rlen = (size_t)snprintf(reply, sizeof(reply), PROBE_REPLY_PREFIX " %s\n", host);
	signal(SIGPIPE, SIG_IGN);
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0) {
			fprintf(stderr, "loom-probe: %s: %s\n", ready, strerror(errno));
			return 1;
		}
		close(fd);
	}
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (is_tcp[i]) {
				int c;

				/* one short write, then close: no per-client state */
				while ((c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
					(void)!write(c, reply, rlen);
					close(c);
				}
			} else {
				struct sockaddr_storage from;
				socklen_t fl = sizeof(from);
				char buf[2048];

				while (recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
						(struct sockaddr *)&from, &fl) >= 0) {
					sendto(pfd[i].fd, reply, rlen, 0, (struct sockaddr *)&from,
					       fl);
					fl = sizeof(from);
				}
			}
		}
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait for fd to become readable; the answer must start with our prefix. */
static int read_reply(int fd, long deadline)
{
	char buf[256];
	size_t got = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long left = deadline - now_ms();
		ssize_t r;
		int pr;

		if (left <= 0)
			return 1;
		pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return 1;
		r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return 1;
		got += (size_t)r;
		if (got >= strlen(PROBE_REPLY_PREFIX))
			return strncmp(buf, PROBE_REPLY_PREFIX, strlen(PROBE_REPLY_PREFIX)) ? 1 : 0;
	}
}

static int check(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long timeout = 1000, deadline;
	int port, family, tcp, fd, rc;

	if (argc < 3)
		return usage();
	if (argc == 5 && !strcmp(argv[3], "--timeout"))
		timeout = strtol(argv[4], NULL, 10);
	else if (argc != 3)
		return usage();
	port = parse_port(argv[1]);
	family = sockaddr_for(argv[0], port, &ss, &len);
	tcp = !strcmp(argv[2], "tcp");
	if (port < 0 || family < 0 || (!tcp && strcmp(argv[2], "udp")) || timeout < 1 ||
	    timeout > 60000)
		return usage();
	deadline = now_ms() + timeout;
	fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return PROBE_CANNOT_TRY;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return e == ENOBUFS || e == ENOMEM || e == EAGAIN ? PROBE_CANNOT_TRY : 1;
	}
	if (!tcp) {
		/* A lost datagram is retried a few times within the timeout:
		 * the first one may wait for ARP on a fresh path. */
		rc = 1;
		while (rc && now_ms() < deadline) {
			long step = now_ms() + 250;

			(void)!send(fd, "probe\n", 6, 0);
			rc = read_reply(fd, step < deadline ? step : deadline);
		}
	} else {
		rc = read_reply(fd, deadline);
	}
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return serve(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return check(argc - 2, argv + 2);
	return usage();
}
