/* The endpoints on the event loop (serve.h). */
#include "daemon/serve.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/httpd.h"

#ifndef LOOM_VERSION_STRING
#define LOOM_VERSION_STRING "0.0.0"
#endif

struct loom_serve {
	struct loom_loop *loop;
	struct loom_httpd *h;
	struct loom_metrics *m;
	struct loom_serve_ops ops;
	void *arg;
	struct loom_timer *expire_t;
};

const double loom_apply_seconds_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					      0.05,   0.1,   0.25,   0.5,   1,    2.5 };
const size_t loom_apply_seconds_n_buckets =
	sizeof(loom_apply_seconds_buckets) / sizeof(loom_apply_seconds_buckets[0]);

static void rearm(struct loom_serve *s)
{
	int64_t next = loom_httpd_expire(s->h, loom_now_ms());

	if (next == INT64_MAX)
		loom_timer_disarm(s->expire_t);
	else
		loom_timer_arm_at(s->expire_t, next);
}

static void on_fd(struct loom_loop *l, int fd, short revents, void *arg)
{
	struct loom_serve *s = arg;

	(void)l;
	loom_httpd_handle_ready(s->h, fd, revents, loom_now_ms());
	rearm(s);
}

static void on_expire(struct loom_loop *l, void *arg)
{
	(void)l;
	rearm(arg);
}

/* httpd's watch callback: the loop's registration by fd. */
static int watch(void *arg, int fd, short events)
{
	struct loom_serve *s = arg;

	return loom_loop_watch(s->loop, fd, events, on_fd, s);
}

static void text_reply(struct loom_http_reply *r, int status, const char *text)
{
	r->status = status;
	r->body = strdup(text);
	r->len = r->body ? strlen(r->body) : 0;
}

static void handler(void *arg, const char *path, struct loom_http_reply *r)
{
	struct loom_serve *s = arg;
	char why[512] = "", line[600];

	if (!strcmp(path, "/healthz")) {
		text_reply(r, 200, "ok\n");
	} else if (!strcmp(path, "/readyz")) {
		if (s->ops.ready(s->arg, why, sizeof(why))) {
			text_reply(r, 200, "ok\n");
		} else {
			snprintf(line, sizeof(line), "not ready: %s\n", why[0] ? why : "starting");
			text_reply(r, 503, line);
		}
	} else if (!strcmp(path, "/metrics")) {
		if (s->ops.refresh)
			s->ops.refresh(s->arg);
		r->status = loom_metrics_render(s->m, &r->body, &r->len) == 0 ? 200 : 500;
		r->content_type = LOOM_METRICS_CONTENT_TYPE;
	} else {
		text_reply(r, 404, "not found\n");
	}
}

int loom_serve_open(struct loom_loop *l, const char *address, struct loom_metrics *m,
		    const struct loom_serve_ops *ops, void *arg, struct loom_serve **out)
{
	struct loom_serve *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->m = m;
	s->ops = *ops;
	s->arg = arg;
	r = loom_loop_add_timer(l, on_expire, s, &s->expire_t);
	if (r == 0)
		r = loom_httpd_open(address, handler, s, watch, s, &s->h);
	if (r < 0) {
		loom_serve_close(s);
		return r;
	}
	*out = s;
	return 0;
}

int loom_serve_port(const struct loom_serve *s)
{
	return loom_httpd_port(s->h);
}

void loom_serve_close(struct loom_serve *s)
{
	if (!s)
		return;
	loom_httpd_close(s->h); /* unwatches every fd through watch() */
	loom_timer_remove(s->expire_t);
	free(s);
}

int loom_serve_build_info(struct loom_metrics *m)
{
	const char *labels[] = { "version", LOOM_VERSION_STRING, NULL };
	struct loom_metric *b =
		loom_metrics_add(m, LOOM_METRIC_GAUGE, "loom_build_info",
				 "loom's version, as a label; always 1.", labels, NULL, 0);

	if (!b)
		return -errno;
	loom_metric_set(b, 1);
	return 0;
}
