/* Watches on etcd: one streaming POST to /v3/watch per watch, driven by
 * curl's multi socket interface, so the watch is one fd an event loop can
 * poll: an epoll set holding the sockets curl asks for (CURLMOPT_SOCKET-
 * FUNCTION) and a timerfd armed for the earliest of curl's own timeout
 * (CURLMOPT_TIMERFUNCTION), the stream's idle limit and the pause before a
 * retry.  loom_etcd_watch_next is one non-blocking step: it hands curl the
 * sockets that are ready (curl_multi_socket_action), parses what arrived,
 * restarts a dropped stream, and rearms the timer.
 *
 * Position: `last_rev` is the revision of the newest event queued and
 * `n_at_last` how many events of that revision were queued (a lease expiry
 * deletes several keys in one revision).  A stream that drops (EOF, error,
 * member gone, canceled) is restarted on the next endpoint from last_rev
 * (skipping the n_at_last events already queued) so nothing is lost or
 * repeated.  A stream silent for ETCD_WATCH_IDLE_MS is restarted too: a
 * half-open connection to a vanished member would otherwise wait forever.
 *
 * Compaction: when etcd cancels the watch with compact_revision, the
 * revisions we need are gone; we list the prefix and queue PUTs for every
 * key and DELETEs for keys we had reported alive that are missing (the set
 * `keys`), then go on watching from the list's revision + 1. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/grow.h"
#include "base/strset.h"
#include "store/etcd_json.h"
#include "etcd_priv.h"

#define ETCD_WATCH_IDLE_MS 10000L
#define ETCD_WATCH_GIVEUP_MS 5000L /* every endpoint failing this long: report -1 */

struct etcd_watch {
	struct loom_watch base; /* first: the seam casts */
	struct etcd_store *s;   /* not owned: the store outlives its watches */
	char *prefix, *key_b64, *end_b64;
	CURLM *multi;
	CURL *h;
	int epfd, tfd;           /* the watch's fd: curl's sockets + the timer */
	struct timespec curl_at; /* curl's timeout, valid when curl_timer */
	bool curl_timer;
	bool running; /* h is in multi */
	bool created; /* this stream was accepted by etcd */
	bool drop;    /* this stream must end (error line, cancel) */
	bool need_resync;
	size_t ep; /* endpoint of the stream */
	char *in;  /* bytes received, not yet a complete line */
	size_t in_len, in_cap;
	int64_t last_rev;
	size_t n_at_last, skip; /* skip: events at last_rev the new stream repeats */
	struct loom_event *q;   /* FIFO of events not yet returned */
	size_t q_head, q_len, q_cap;
	struct loom_strset keys; /* keys reported alive (PUT queued, no DELETE since) */
	size_t fails;            /* streams in a row that ended before "created" */
	struct timespec first_fail, last_data, retry_at;
	char cerr[CURL_ERROR_SIZE];
	char last_error[256];
};

static struct etcd_watch *W(struct loom_watch *w)
{
	return (struct etcd_watch *)w;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void now(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static int oom(struct loom_err *err)
{
	return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "out of memory");
}

static long ms_until(const struct timespec *t)
{
	return -ms_since(t);
}

static void add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static void arm_in(struct etcd_watch *w, long ms);

/* curl: watch (or stop watching) socket s for `what` */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct etcd_watch *w = userp;
	struct epoll_event ee = { .data.fd = s };

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ee.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ee) < 0 && errno == ENOENT)
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, s, &ee);
	return 0;
}

/* curl: call socket_action(CURL_SOCKET_TIMEOUT) in timeout_ms (-1: never) */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct etcd_watch *w = userp;

	(void)multi;
	w->curl_timer = timeout_ms >= 0;
	if (w->curl_timer) {
		now(&w->curl_at);
		add_ms(&w->curl_at, timeout_ms);
	}
	return 0;
}

/* --- the event queue ----------------------------------------------------- */

/* Takes ownership of ev->kv's members (on success and on failure). */
static int queue_push(struct etcd_watch *w, struct loom_event *ev)
{
	int r = ev->type == LOOM_EV_PUT ? loom_strset_put(&w->keys, ev->kv.key, 0) : 0;

	if (r == 0 && ev->type == LOOM_EV_DELETE)
		loom_strset_del(&w->keys, ev->kv.key);
	if (r == 0 && w->q_head + w->q_len == w->q_cap) {
		if (w->q_head) {
			memmove(w->q, &w->q[w->q_head], w->q_len * sizeof(*w->q));
			w->q_head = 0;
		} else {
			size_t cap = w->q_cap ? w->q_cap * 2 : 16;
			struct loom_event *nq = realloc(w->q, cap * sizeof(*nq));

			if (!nq)
				r = -ENOMEM;
			else {
				w->q = nq;
				w->q_cap = cap;
			}
		}
	}
	if (r < 0) {
		loom_kv_clear(&ev->kv);
		return r;
	}
	w->q[w->q_head + w->q_len++] = *ev;
	memset(&ev->kv, 0, sizeof(ev->kv));
	return 0;
}

/* --- the stream ---------------------------------------------------------- */

static size_t on_stream(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct etcd_watch *w = userdata;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(w->last_error, sizeof(w->last_error), "%.200s answered HTTP %ld",
			 w->s->endpoints[w->ep], status);
		return 0;
	}
	/* one line may not exceed the response bound */
	if (n > LOOM_ETCD_RESPONSE_MAX - w->in_len) {
		snprintf(w->last_error, sizeof(w->last_error), "%.200s sent a line over %u bytes",
			 w->s->endpoints[w->ep], LOOM_ETCD_RESPONSE_MAX);
		return 0;
	}
	if (loom_grow(&w->in, &w->in_cap, w->in_len + n, 16384) < 0)
		return 0;
	memcpy(w->in + w->in_len, ptr, n);
	w->in_len += n;
	now(&w->last_data);
	return n;
}

static int start_stream(struct etcd_watch *w, struct loom_err *err)
{
	_cleanup_free_ char *body = NULL;
	char url[512], start[24];
	int64_t from = w->n_at_last ? w->last_rev : w->last_rev + 1;

	snprintf(start, sizeof(start), "%lld", (long long)from);
	if (asprintf(&body,
		     "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\","
		     "\"start_revision\":\"%s\",\"progress_notify\":true}}",
		     w->key_b64, w->end_b64, start) < 0) {
		body = NULL;
		return oom(err);
	}
	snprintf(url, sizeof(url), "%s/v3/watch", w->s->endpoints[w->ep]);
	curl_easy_reset(w->h);
	loom_etcd_easy_setup(w->s, w->h);
	curl_easy_setopt(w->h, CURLOPT_URL, url);
	curl_easy_setopt(w->h, CURLOPT_COPYPOSTFIELDS, body);
	curl_easy_setopt(w->h, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(w->h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->h, CURLOPT_ERRORBUFFER, w->cerr);
	w->cerr[0] = '\0';
	if (curl_multi_add_handle(w->multi, w->h) != CURLM_OK)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "curl refused the watch transfer");
	w->running = true;
	w->created = false;
	w->drop = false;
	w->skip = w->n_at_last;
	w->in_len = 0;
	now(&w->last_data);
	return 0;
}

/* End the stream; `advance`: the next one goes to the next endpoint. */
static void end_stream(struct etcd_watch *w, bool advance)
{
	if (!w->running)
		return;
	curl_multi_remove_handle(w->multi, w->h);
	w->running = false;
	w->in_len = 0;
	if (w->created) {
		w->fails = 0;
	} else {
		if (w->fails++ == 0)
			now(&w->first_fail);
		if (!w->last_error[0] || w->cerr[0])
			snprintf(w->last_error, sizeof(w->last_error), "%.100s: %.150s",
				 w->s->endpoints[w->ep],
				 w->cerr[0] ? w->cerr : "the stream ended before etcd accepted it");
		advance = true;
	}
	if (advance)
		w->ep = (w->ep + 1) % w->s->n_endpoints;
	/* a full round of refusals: pause before the next, the cluster may
	 * be electing a leader */
	now(&w->retry_at);
	if (w->fails && w->fails % w->s->n_endpoints == 0)
		add_ms(&w->retry_at, 200);
}

static int handle_event(struct etcd_watch *w, struct loom_event *ev)
{
	int64_t rev = ev->kv.mod_revision;

	if (rev < w->last_rev || (rev == w->last_rev && w->skip)) {
		if (rev == w->last_rev)
			w->skip--;
		loom_kv_clear(&ev->kv);
		return 0;
	}
	if (rev == w->last_rev) {
		w->n_at_last++;
	} else {
		w->last_rev = rev;
		w->n_at_last = 1;
		w->skip = 0;
	}
	return queue_push(w, ev);
}

static int handle_line(struct etcd_watch *w, const char *line, size_t len, struct loom_err *err)
{
	struct loom_etcd_watch_msg m;
	struct loom_err perr;
	size_t i;

	if (len == 0)
		return 0;
	if (loom_etcd_parse_watch_line(line, len, &m, &perr) < 0) {
		/* a bad line or an error from etcd: this stream is done, the
		 * next one resumes from what we have */
		snprintf(w->last_error, sizeof(w->last_error), "%.100s: %.150s",
			 w->s->endpoints[w->ep], perr.msg);
		w->drop = true;
		return 0;
	}
	if (m.created)
		w->created = true;
	if (m.compact_revision > 0) {
		w->need_resync = true;
		w->drop = true;
	} else if (m.canceled) {
		snprintf(w->last_error, sizeof(w->last_error), "%.100s canceled the watch: %.120s",
			 w->s->endpoints[w->ep],
			 m.cancel_reason[0] ? m.cancel_reason : "no reason given");
		w->drop = true;
	}
	for (i = 0; i < m.n_events && !w->drop; i++) {
		if (handle_event(w, &m.events[i]) < 0) {
			loom_etcd_watch_msg_clear(&m);
			return oom(err);
		}
	}
	/* a progress notification: everything through its revision was sent */
	if (!w->drop && !m.created && m.n_events == 0 && m.revision > w->last_rev && w->skip == 0) {
		w->last_rev = m.revision;
		w->n_at_last = 0;
	}
	loom_etcd_watch_msg_clear(&m);
	return 0;
}

static int handle_lines(struct etcd_watch *w, struct loom_err *err)
{
	size_t off = 0;
	char *nl;

	while (!w->drop && off < w->in_len && (nl = memchr(w->in + off, '\n', w->in_len - off))) {
		size_t len = (size_t)(nl - (w->in + off));

		if (handle_line(w, w->in + off, len, err) < 0)
			return -1;
		off += len + 1;
	}
	if (off) {
		memmove(w->in, w->in + off, w->in_len - off);
		w->in_len -= off;
	}
	return 0;
}

static int resync(struct etcd_watch *w, struct loom_err *err)
{
	struct loom_kv *kvs = NULL;
	struct loom_strset old = w->keys;
	size_t n = 0, i;
	int64_t rev;

	if (loom_etcd_list(&w->s->base, w->prefix, &kvs, &n, &rev, err) < 0) {
		loom_err_prefix(err, "watch resync after compaction");
		return -1;
	}
	/* the new set is rebuilt by queue_push; deletes come from the old */
	memset(&w->keys, 0, sizeof(w->keys));
	int r = 0;
	for (i = 0; i < n; i++) {
		struct loom_event ev = { .type = LOOM_EV_PUT, .kv = kvs[i] };

		memset(&kvs[i], 0, sizeof(kvs[i]));
		if (r == 0)
			r = queue_push(w, &ev);
		else
			loom_kv_clear(&ev.kv);
	}
	for (i = 0; i < old.n && r == 0; i++) {
		if (!loom_strset_has(&w->keys, old.keys[i])) {
			struct loom_event ev = { .type = LOOM_EV_DELETE };

			ev.kv.key = old.keys[i];
			old.keys[i] = NULL;
			ev.kv.value = strdup("");
			ev.kv.mod_revision = rev;
			r = ev.kv.value ? queue_push(w, &ev) : -ENOMEM;
			if (r < 0)
				loom_kv_clear(&ev.kv);
		}
	}
	loom_strset_clear(&old);
	free(kvs);
	if (r < 0)
		return oom(err);
	w->last_rev = rev;
	w->n_at_last = 0;
	w->need_resync = false;
	return 0;
}

int loom_etcd_watch(struct loom_store *base, const char *prefix, int64_t from,
		    struct loom_watch **out, struct loom_err *err)
{
	struct etcd_store *s = (struct etcd_store *)base;
	struct etcd_watch *w;

	if (!prefix || strlen(prefix) > LOOM_STORE_KEY_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "watch prefix is too long");
	if (from < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "watch revision %lld is negative",
				    (long long)from);
	w = calloc(1, sizeof(*w));
	if (!w)
		return oom(err);
	w->epfd = w->tfd = -1;
	w->base.ops = base->ops;
	w->s = s;
	w->ep = s->cur;
	w->prefix = strdup(prefix);
	w->key_b64 = *prefix ? loom_etcd_b64_encode(prefix, strlen(prefix))
			     : loom_etcd_b64_encode("", 1);
	w->end_b64 = loom_etcd_prefix_end_b64(prefix);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	w->multi = curl_multi_init();
	w->h = curl_easy_init();
	if (!w->prefix || !w->key_b64 || !w->end_b64 || !w->multi || !w->h) {
		loom_etcd_watch_close(&w->base);
		return oom(err);
	}
	struct epoll_event ee = { .events = EPOLLIN, .data.fd = w->tfd };
	if (w->epfd < 0 || w->tfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &ee) < 0) {
		loom_err_errno(err, LOOM_ERR_STORE, errno, "etcd watch on %s: cannot set up its fd",
			       prefix);
		loom_etcd_watch_close(&w->base);
		return -1;
	}
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	/* The set of keys reported alive starts with what exists now, so a
	 * resync also reports deletes of keys the caller found by listing
	 * (a superset only costs a DELETE for a key the caller does not have).
	 * "from now on" is pinned to this list's revision, or a stream that
	 * drops before its first event could not be resumed. */
	struct loom_kv *kvs = NULL;
	size_t n = 0, i;
	int64_t rev;
	int r = 0;

	if (loom_etcd_list(base, prefix, &kvs, &n, &rev, err) < 0) {
		loom_etcd_watch_close(&w->base);
		return -1;
	}
	for (i = 0; i < n && r == 0; i++)
		r = loom_strset_put(&w->keys, kvs[i].key, 0);
	loom_kvs_free(kvs, n);
	if (r < 0) {
		loom_etcd_watch_close(&w->base);
		return oom(err);
	}
	w->last_rev = (from ? from : rev + 1) - 1;
	/* the stream starts on the first step: make the fd readable for it */
	arm_in(w, 0);
	*out = &w->base;
	return 0;
}

static bool queue_pop(struct etcd_watch *w, struct loom_event *ev)
{
	if (!w->q_len)
		return false;
	*ev = w->q[w->q_head++];
	w->q_len--;
	if (!w->q_len)
		w->q_head = 0;
	return true;
}

/* Hand curl what is due: the sockets epoll reports ready, its timeout. */
static void drive_curl(struct etcd_watch *w)
{
	struct epoll_event evs[8];
	int n, i, still = 0;
	uint64_t ticks;

	while (read(w->tfd, &ticks, sizeof(ticks)) > 0) {
	}
	n = epoll_wait(w->epfd, evs, 8, 0);
	for (i = 0; i < n; i++) {
		int mask = 0;

		if (evs[i].data.fd == w->tfd)
			continue;
		if (evs[i].events & EPOLLIN)
			mask |= CURL_CSELECT_IN;
		if (evs[i].events & EPOLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			mask |= CURL_CSELECT_ERR;
		curl_multi_socket_action(w->multi, evs[i].data.fd, mask, &still);
	}
	if (w->curl_timer && ms_until(&w->curl_at) <= 0) {
		w->curl_timer = false;
		curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &still);
	}
}

static void arm_in(struct etcd_watch *w, long ms)
{
	loom_store_timerfd_in(w->tfd, ms);
}

/* The timer for the earliest of: curl's timeout, the stream's idle limit
 * (running) or the end of the pause before the next stream (not). */
static void arm_timer(struct etcd_watch *w)
{
	long t = w->running ? ETCD_WATCH_IDLE_MS - ms_since(&w->last_data) : ms_until(&w->retry_at);

	if (w->curl_timer && ms_until(&w->curl_at) < t)
		t = ms_until(&w->curl_at);
	arm_in(w, t);
}

int loom_etcd_watch_next(struct loom_watch *base, struct loom_event *ev, struct loom_err *err)
{
	struct etcd_watch *w = W(base);
	int r = 0;

	for (;;) {
		int still = 0;
		CURLMsg *msg;

		if (queue_pop(w, ev)) {
			r = 1;
			break;
		}
		if (w->need_resync) {
			if (resync(w, err) < 0) {
				r = -1;
				break;
			}
			continue;
		}
		if (w->fails >= w->s->n_endpoints &&
		    ms_since(&w->first_fail) >= ETCD_WATCH_GIVEUP_MS) {
			w->fails = 0;
			r = loom_err_set(
				err, LOOM_ERR_STORE,
				"etcd watch on %s: no endpoint accepted the stream (last: %s)",
				w->prefix, w->last_error);
			break;
		}
		if (!w->running) {
			if (ms_until(&w->retry_at) > 0)
				break;
			w->last_error[0] = '\0';
			if (start_stream(w, err) < 0) {
				r = -1;
				break;
			}
		}
		drive_curl(w);
		if (handle_lines(w, err) < 0) {
			r = -1;
			break;
		}
		while ((msg = curl_multi_info_read(w->multi, &still)))
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == w->h) {
				/* the last line may lack its newline */
				if (!w->drop && w->in_len &&
				    handle_line(w, w->in, w->in_len, err) < 0)
					return -1;
				w->in_len = 0;
				w->drop = true;
			}
		if (w->drop) {
			end_stream(w, !w->need_resync);
			continue;
		}
		if (w->q_len)
			continue;
		if (ms_since(&w->last_data) >= ETCD_WATCH_IDLE_MS) {
			end_stream(w, false);
			continue;
		}
		/* a timeout curl set while we drove it and that is due already */
		if (w->curl_timer && ms_until(&w->curl_at) <= 0)
			continue;
		break;
	}
	arm_timer(w);
	return r;
}

int loom_etcd_watch_fd(const struct loom_watch *base)
{
	return ((const struct etcd_watch *)base)->epfd;
}

void loom_etcd_watch_close(struct loom_watch *base)
{
	struct etcd_watch *w = W(base);
	size_t i;

	if (!w)
		return;
	if (w->running)
		curl_multi_remove_handle(w->multi, w->h);
	if (w->h)
		curl_easy_cleanup(w->h);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->tfd >= 0)
		close(w->tfd);
	for (i = 0; i < w->q_len; i++)
		loom_kv_clear(&w->q[w->q_head + i].kv);
	free(w->q);
	loom_strset_clear(&w->keys);
	free(w->in);
	free(w->prefix);
	free(w->key_b64);
	free(w->end_b64);
	free(w);
}
