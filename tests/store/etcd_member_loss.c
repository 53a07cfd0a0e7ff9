/* The etcd backend under loss: driven by tests/integration/test_store_etcd.sh.
 *
 *   etcd_member_loss loss URL PREFIX DIR
 *     watches PREFIX, writes N keys one after another, reading each back;
 *     a third of the way it creates DIR/ready and waits for DIR/go (the
 *     script kills a member meanwhile).  Passes when every key was read back
 *     and the watch saw every write exactly once, in order.
 *
 *   etcd_member_loss compact URL PREFIX DIR
 *     writes a0 a1 a2, opens a watch, then (the watch not read: behind)
 *     deletes a1, rewrites a0, writes a3, and asks the script to compact
 *     to the current revision (DIR/compact holds it; DIR/go answers).  The
 *     watch must then resync: PUT a0 (new value), a2, a3, DELETE a1, and
 *     go on live (a4).
 *
 * Prints figures (put/get latency) on stdout; exits 0 on success. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define N_KEYS 300

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int die(const char *what, const struct loom_err *err)
{
	fprintf(stderr, "FAIL %s: %s%s%s\n", what, err ? err->msg : "",
		err && err->details[0] ? ": " : "", err ? err->details : "");
	return 1;
}

static void touch(const char *dir, const char *name, const char *content)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

/* bounded wait for the script's answer */
static int wait_file(const char *dir, const char *name, int seconds)
{
	char p[4096];
	int i;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	for (i = 0; i < seconds * 20; i++) {
		if (access(p, F_OK) == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

struct seen {
	int next; /* index of the next key the watch must show */
};

/* Check one watch event against the write order. */
static int check_event(const struct loom_event *ev, const char *prefix, struct seen *s)
{
	char want[256], val[32];

	snprintf(want, sizeof(want), "%s%05d", prefix, s->next);
	snprintf(val, sizeof(val), "v%d", s->next);
	if (ev->type != LOOM_EV_PUT || strcmp(ev->kv.key, want) != 0 ||
	    strcmp(ev->kv.value, val) != 0) {
		fprintf(stderr, "FAIL watch: expected PUT %s=%s, got %s %s=%s\n", want, val,
			ev->type == LOOM_EV_PUT ? "PUT" : "DELETE", ev->kv.key, ev->kv.value);
		return -1;
	}
	s->next++;
	return 0;
}

static int drain(struct loom_watch *w, const char *prefix, struct seen *s, int upto, int timeout_ms)
{
	struct loom_event ev;
	struct loom_err err;
	double end = now_ms() + timeout_ms;

	while (s->next < upto) {
		int left = (int)(end - now_ms()), r;

		if (left < 0)
			left = 0;
		r = loom_watch_next(w, &ev, left, &err);
		if (r < 0) {
			/* the watch may report a round of refusals; it stays usable */
			fprintf(stderr, "note: watch: %s (retrying)\n", err.msg);
			if (now_ms() > end)
				return -1;
			continue;
		}
		if (r == 0)
			return timeout_ms ? -1 : 0;
		r = check_event(&ev, prefix, s);
		loom_kv_clear(&ev.kv);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int run_loss(const char *url, const char *prefix, const char *dir)
{
	static double put_ms[N_KEYS], get_ms[N_KEYS];
	struct loom_store *st = NULL;
	struct loom_watch *w = NULL;
	struct loom_err err;
	struct seen s = { 0 };
	int i, rc = 1, retries = 0;

	if (loom_store_open(url, &st, &err) < 0)
		return die("open", &err);
	if (loom_store_watch(st, prefix, 0, &w, &err) < 0) {
		rc = die("watch", &err);
		goto out;
	}
	for (i = 0; i < N_KEYS; i++) {
		char key[256], val[32];
		struct loom_kv kv;
		double t;
		int r;

		snprintf(key, sizeof(key), "%s%05d", prefix, i);
		snprintf(val, sizeof(val), "v%d", i);
		if (i == N_KEYS / 3) {
			touch(dir, "ready", "");
			if (wait_file(dir, "go", 20) < 0) {
				fprintf(stderr, "FAIL the script never answered\n");
				goto out;
			}
		}
		t = now_ms();
		/* an unconditional put is safe to retry: the store's own
		 * failover waits out an election; this covers a longer one */
		while (loom_store_put(st, key, val, strlen(val), 0, NULL, &err) < 0) {
			if (++retries > 20) {
				rc = die("put", &err);
				goto out;
			}
			fprintf(stderr, "note: put %s: %s (retrying)\n", key, err.msg);
			usleep(200000);
		}
		put_ms[i] = now_ms() - t;
		t = now_ms();
		r = loom_store_get(st, key, &kv, &err);
		get_ms[i] = now_ms() - t;
		if (r != 1 || strcmp(kv.value, val) != 0) {
			rc = r < 0 ? die("get", &err)
				   : die("get: key missing or wrong value", NULL);
			if (r == 1)
				loom_kv_clear(&kv);
			goto out;
		}
		loom_kv_clear(&kv);
		if (drain(w, prefix, &s, i + 1, 0) < 0)
			goto out;
	}
	if (drain(w, prefix, &s, N_KEYS, 15000) < 0) {
		fprintf(stderr, "FAIL watch saw %d of %d writes\n", s.next, N_KEYS);
		goto out;
	}
	/* nothing more: no duplicates after the last one */
	{
		struct loom_event ev;
		int r = loom_watch_next(w, &ev, 300, &err);

		if (r == 1) {
			fprintf(stderr, "FAIL watch delivered an extra event: %s\n", ev.kv.key);
			loom_kv_clear(&ev.kv);
			goto out;
		}
	}
	qsort(put_ms, N_KEYS, sizeof(double), cmp_double);
	qsort(get_ms, N_KEYS, sizeof(double), cmp_double);
	printf("loss: %d writes read back and watched in order; put p50 %.2f ms p99 %.2f ms max %.0f ms; "
	       "get p50 %.2f ms p99 %.2f ms\n",
	       N_KEYS, put_ms[N_KEYS / 2], put_ms[N_KEYS * 99 / 100], put_ms[N_KEYS - 1],
	       get_ms[N_KEYS / 2], get_ms[N_KEYS * 99 / 100]);
	rc = 0;
out:
	loom_watch_close(w);
	loom_store_close(st);
	return rc;
}

struct want {
	enum loom_event_type type;
	const char *key, *value;
};

static int run_compact(const char *url, const char *prefix, const char *dir)
{
	struct loom_store *st = NULL;
	struct loom_watch *w = NULL;
	struct loom_err err;
	char k[8][256], buf[32];
	int64_t rev = 0;
	int i, rc = 1;
	struct want want[] = {
		{ LOOM_EV_PUT, k[0], "new" }, /* list order: by key */
		{ LOOM_EV_PUT, k[2], "old" }, { LOOM_EV_PUT, k[3], "new" },
		{ LOOM_EV_DELETE, k[1], "" }, { LOOM_EV_PUT, k[4], "live" },
	};
	size_t got = 0;

	for (i = 0; i < 8; i++)
		snprintf(k[i], sizeof(k[i]), "%sa%d", prefix, i);
	if (loom_store_open(url, &st, &err) < 0)
		return die("open", &err);
	for (i = 0; i < 3; i++)
		if (loom_store_put(st, k[i], "old", 3, 0, NULL, &err) < 0) {
			rc = die("put", &err);
			goto out;
		}
	if (loom_store_watch(st, prefix, 0, &w, &err) < 0) {
		rc = die("watch", &err);
		goto out;
	}
	if (loom_store_delete(st, k[1], NULL, &err) != 1 ||
	    loom_store_put(st, k[0], "new", 3, 0, NULL, &err) < 0 ||
	    loom_store_put(st, k[3], "new", 3, 0, &rev, &err) < 0) {
		rc = die("writes while the watch is behind", &err);
		goto out;
	}
	snprintf(buf, sizeof(buf), "%lld\n", (long long)rev);
	touch(dir, "compact", buf);
	if (wait_file(dir, "go", 20) < 0) {
		fprintf(stderr, "FAIL the script never compacted\n");
		goto out;
	}
	while (got < sizeof(want) / sizeof(want[0])) {
		struct loom_event ev;
		int r = loom_watch_next(w, &ev, 5000, &err);

		if (r <= 0) {
			rc = r < 0 ? die("watch", &err) : die("watch: timed out", NULL);
			goto out;
		}
		if (ev.type != want[got].type || strcmp(ev.kv.key, want[got].key) != 0 ||
		    strcmp(ev.kv.value, want[got].value) != 0) {
			fprintf(stderr, "FAIL resync event %zu: expected %s %s=%s, got %s %s=%s\n",
				got, want[got].type == LOOM_EV_PUT ? "PUT" : "DELETE",
				want[got].key, want[got].value,
				ev.type == LOOM_EV_PUT ? "PUT" : "DELETE", ev.kv.key, ev.kv.value);
			loom_kv_clear(&ev.kv);
			goto out;
		}
		loom_kv_clear(&ev.kv);
		got++;
		/* after the resync, a live write must come through */
		if (got == 4 && loom_store_put(st, k[4], "live", 4, 0, NULL, &err) < 0) {
			rc = die("put after resync", &err);
			goto out;
		}
	}
	printf("compact: watch behind a compaction resynced (3 PUTs, 1 DELETE) and went on live\n");
	rc = 0;
out:
	loom_watch_close(w);
	loom_store_close(st);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "loss"))
		return run_loss(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "compact"))
		return run_compact(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: %s loss|compact STORE-URL PREFIX DIR\n", argv[0]);
	return 2;
}
