/* The node loomctl runs on (node.h). */
#include "node.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/bpf_antispoof.h"

#define CMDLINE_MAX 8192
#define HTTP_BODY_MAX (4 << 20)

/* ---- flags ---- */

struct flag {
	const char *name;
	size_t off, len;
};

#define F(n, field)                                                                        \
	{                                                                                  \
		n, offsetof(struct ctl_node, field), sizeof(((struct ctl_node *)0)->field) \
	}
static const struct flag flags[] = {
	F("--node", node),
	F("--network", network),
	F("--run-dir", run_dir),
	F("--state-dir", state_dir),
	F("--data-dir", data_dir),
	F("--cni-conf-dir", cni_dir),
	F("--bird-socket", bird_socket),
	F("--bpf-pin-dir", pin_dir),
	F("--metrics-address", loomd_metrics),
	F("--policyd-metrics-address", policyd_metrics),
};
#undef F

int ctl_node_flags(struct ctl_node *n, int argc, char **argv, int first, char **rest, int *n_rest)
{
	int i;
	size_t k;

	memset(n, 0, sizeof(*n));
	*n_rest = 0;
	for (i = first; i < argc; i++) {
		const char *val = NULL;

		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
			size_t l = strlen(flags[k].name);

			if (!strcmp(argv[i], flags[k].name)) {
				if (i + 1 == argc) {
					ctl_error("%s needs a value", flags[k].name);
					return -1;
				}
				val = argv[++i];
				break;
			}
			if (!strncmp(argv[i], flags[k].name, l) && argv[i][l] == '=') {
				val = argv[i] + l + 1;
				break;
			}
		}
		if (k == sizeof(flags) / sizeof(flags[0])) {
			rest[(*n_rest)++] = argv[i];
			continue;
		}
		if (!val[0] || strlen(val) >= flags[k].len) {
			ctl_error("%s: \"%.40s\" is empty or too long", flags[k].name, val);
			return -1;
		}
		snprintf((char *)n + flags[k].off, flags[k].len, "%s", val);
	}
	return 0;
}

/* ---- the daemons' processes ---- */

static void set_if_empty(char *dst, size_t len, const char *val)
{
	if (!dst[0] && val && val[0] && strlen(val) < len)
		snprintf(dst, len, "%s", val);
}

/* The value of --opt in a NUL-separated command line, or NULL. */
static const char *arg_of(const char *cmd, size_t len, const char *opt)
{
	const char *p, *end = cmd + len;
	size_t l = strlen(opt);

	for (p = cmd; p < end; p += strlen(p) + 1) {
		if (!strcmp(p, opt) && p + strlen(p) + 1 < end)
			return p + strlen(p) + 1;
		if (!strncmp(p, opt, l) && p[l] == '=')
			return p + l + 1;
	}
	return NULL;
}

static ssize_t read_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static bool same_netns(pid_t pid, const struct stat *self)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat(path, &st) == 0 && st.st_ino == self->st_ino && st.st_dev == self->st_dev;
}

/* Take what loomd's command line says, where loomctl's flags said nothing. */
static void from_loomd(struct ctl_node *n, const char *cmd, size_t len)
{
	set_if_empty(n->node, sizeof(n->node), arg_of(cmd, len, "--node"));
	set_if_empty(n->network, sizeof(n->network), arg_of(cmd, len, "--network"));
	set_if_empty(n->run_dir, sizeof(n->run_dir), arg_of(cmd, len, "--run-dir"));
	set_if_empty(n->state_dir, sizeof(n->state_dir), arg_of(cmd, len, "--state-dir"));
	set_if_empty(n->bird_socket, sizeof(n->bird_socket), arg_of(cmd, len, "--bird-socket"));
	set_if_empty(n->cni_dir, sizeof(n->cni_dir), arg_of(cmd, len, "--write-conflist"));
	set_if_empty(n->loomd_metrics, sizeof(n->loomd_metrics),
		     arg_of(cmd, len, "--metrics-address"));
	set_if_empty(n->store_url, sizeof(n->store_url), arg_of(cmd, len, "--store"));
}

/* Find loomd and loom-policyd in this netns: the one of --node when given,
 * else the first of each (and loom-policyd of loomd's node). */
static void find_daemons(struct ctl_node *n)
{
	struct stat self;
	struct dirent *e;
	char cmd[CMDLINE_MAX];
	DIR *d;
	int pass;

	if (stat("/proc/self/ns/net", &self) < 0)
		return;
	/* two passes: loomd first, so its --node picks loom-policyd */
	for (pass = 0; pass < 2; pass++) {
		d = opendir("/proc");
		if (!d)
			return;
		while ((e = readdir(d))) {
			char *endp;
			pid_t pid = (pid_t)strtol(e->d_name, &endp, 10);
			const char *base, *node;
			ssize_t len;

			if (*endp || pid <= 0 || pid == getpid())
				continue;
			len = read_cmdline(pid, cmd, sizeof(cmd));
			if (len < 0)
				continue;
			base = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
			if (strcmp(base, pass == 0 ? "loomd" : "loom-policyd") ||
			    !same_netns(pid, &self))
				continue;
			node = arg_of(cmd, (size_t)len, "--node");
			if (n->node[0] && (!node || strcmp(node, n->node)))
				continue;
			if (pass == 0 && !n->loomd_pid) {
				n->loomd_pid = pid;
				from_loomd(n, cmd, (size_t)len);
			} else if (pass == 1 && !n->policyd_pid) {
				n->policyd_pid = pid;
				set_if_empty(n->node, sizeof(n->node), node);
				/* loomd may be down: loom-policyd knows the store too */
				set_if_empty(n->store_url, sizeof(n->store_url),
					     arg_of(cmd, (size_t)len, "--store"));
				set_if_empty(n->policyd_metrics, sizeof(n->policyd_metrics),
					     arg_of(cmd, (size_t)len, "--metrics-address"));
			}
		}
		closedir(d);
	}
}

/* ---- the conflist ---- */

static bool is_loom_plugin(const json_t *p)
{
	const char *type = json_string_value(json_object_get(p, "type"));

	return type && !strncmp(type, "loom-", 5) && strcmp(type, "loom-ipam");
}

/* The first *.conflist (by name) in the dir that chains a loom plugin. */
static void find_conflist(struct ctl_node *n)
{
	struct dirent **names = NULL;
	int i, count = scandir(n->cni_dir, &names, NULL, alphasort);

	for (i = 0; i < count; i++) {
		const char *f = names[i]->d_name;
		size_t l = strlen(f);
		char path[PATH_MAX];
		json_t *conf, *p;
		size_t k;

		if (n->conf || l < 9 || strcmp(f + l - 9, ".conflist") ||
		    snprintf(path, sizeof(path), "%s/%s", n->cni_dir, f) >= (int)sizeof(path))
			continue;
		conf = json_load_file(path, 0, NULL);
		json_array_foreach(json_object_get(conf, "plugins"), k, p) {
			if (is_loom_plugin(p)) {
				n->conf = conf;
				n->plugin = p;
				snprintf(n->conflist, sizeof(n->conflist), "%s", path);
				break;
			}
		}
		if (!n->conf)
			json_decref(conf);
	}
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int ctl_node_discover(struct ctl *c, struct ctl_node *n)
{
	const json_t *ipam;
	json_t *as;

	find_daemons(n);
	set_if_empty(n->cni_dir, sizeof(n->cni_dir), "/etc/cni/net.d");
	find_conflist(n);
	ipam = json_object_get(n->plugin, "ipam");
	set_if_empty(n->network, sizeof(n->network),
		     json_string_value(json_object_get(n->conf, "name")));
	set_if_empty(n->network, sizeof(n->network), "default");
	set_if_empty(n->run_dir, sizeof(n->run_dir),
		     json_string_value(json_object_get(n->plugin, "runDir")));
	set_if_empty(n->run_dir, sizeof(n->run_dir), "/run/loom");
	set_if_empty(n->state_dir, sizeof(n->state_dir),
		     json_string_value(json_object_get(n->plugin, "stateDir")));
	set_if_empty(n->state_dir, sizeof(n->state_dir), "/run/loom/endpoints");
	set_if_empty(n->data_dir, sizeof(n->data_dir),
		     json_string_value(json_object_get(n->plugin, "dataDir")));
	set_if_empty(n->data_dir, sizeof(n->data_dir),
		     json_string_value(json_object_get(ipam, "dataDir")));
	set_if_empty(n->data_dir, sizeof(n->data_dir), "/var/lib/cni/networks");
	set_if_empty(n->pin_dir, sizeof(n->pin_dir),
		     json_string_value(json_object_get(n->plugin, "bpfPinDir")));
	set_if_empty(n->pin_dir, sizeof(n->pin_dir), LOOM_ANTISPOOF_DEFAULT_PIN_DIR);
	if (!n->bird_socket[0])
		snprintf(n->bird_socket, sizeof(n->bird_socket), "%.*s/bird-%.*s.ctl", 2048,
			 n->run_dir, 1024, n->network);
	as = json_object_get(n->plugin, "antiSpoof");
	n->anti_spoof = !json_is_false(as);
	if (!c->url && !getenv("LOOM_STORE") && n->store_url[0])
		c->url = n->store_url;
	if (!n->node[0]) {
		char host[CTL_NAME_MAX];

		if (gethostname(host, sizeof(host)) < 0 || !host[0]) {
			ctl_error("no loomd runs here and no --node was given");
			return -1;
		}
		snprintf(n->node, sizeof(n->node), "%s", host);
	}
	return 0;
}

void ctl_node_free(struct ctl_node *n)
{
	json_decref(n->conf);
	n->conf = NULL;
	n->plugin = NULL;
}

/* ---- HTTP ---- */

/* "HOST:PORT", "[V6]:PORT" -> a sockaddr; the wildcard is reached on loopback. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[CTL_ADDR_MAX];
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char *end;
	long port;

	if (!colon || strlen(addr) >= sizeof(host))
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			in6->sin6_addr = in6addr_loopback;
		*sl = sizeof(*in6);
		return 0;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -EINVAL;
	if (in->sin_addr.s_addr == htonl(INADDR_ANY))
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*sl = sizeof(*in);
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events until the deadline: 0 or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - mono_ms();
	int r;

	if (left <= 0)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)left);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

int ctl_http_get(const char *addr, const char *path, int timeout_ms, char **body)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int64_t deadline = mono_ms() + timeout_ms;
	char req[512], *buf = NULL, *p;
	size_t len = 0, cap = 0, off = 0;
	int fd, r, status;

	*body = NULL;
	r = parse_addr(addr, &ss, &sl);
	if (r < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	r = wait_fd(fd, POLLOUT, deadline);
	if (r == 0) {
		int soerr = 0;
		socklen_t l = sizeof(soerr);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
		r = -soerr;
	}
	if (r < 0)
		goto out;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
		 addr);
	while (off < strlen(req)) {
		ssize_t n = send(fd, req + off, strlen(req) - off, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			r = -errno;
			goto out;
		}
		if (n > 0)
			off += (size_t)n;
		else if ((r = wait_fd(fd, POLLOUT, deadline)) < 0)
			goto out;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = len + 4096 > HTTP_BODY_MAX ? NULL : realloc(buf, cap + 65536);

			if (!nb) {
				r = len + 4096 > HTTP_BODY_MAX ? -EFBIG : -ENOMEM;
				goto out;
			}
			buf = nb;
			cap += 65536;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == 0)
			break;
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR) {
			r = -errno;
			goto out;
		}
		if ((r = wait_fd(fd, POLLIN, deadline)) < 0)
			goto out;
	}
	buf[len] = '\0';
	/* httpd.c answers one request and closes: no chunking to undo */
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !(p = strstr(buf, "\r\n\r\n"))) {
		r = -EPROTO;
		goto out;
	}
	*body = strdup(p + 4);
	r = *body ? status : -ENOMEM;
out:
	free(buf);
	close(fd);
	return r;
}
