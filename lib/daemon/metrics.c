/* The metrics registry (metrics.h). */
#include "daemon/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

struct loom_metric {
	struct family *fam;
	char *labels;    /* rendered: `a="x",b="y"` (escaped), "" for none */
	double value;    /* counter, gauge; a histogram's sum */
	double count;    /* histogram: observations */
	double *buckets; /* histogram: per-bound counts (not cumulative) */
	struct loom_metric *next;
};

struct family {
	char *name, *help;
	enum loom_metric_type type;
	double *bounds;
	size_t n_bounds;
	struct loom_metric *series, **tail;
	struct family *next;
};

struct loom_metrics {
	struct family *families, **tail;
};

struct loom_metrics *loom_metrics_new(void)
{
	struct loom_metrics *m = calloc(1, sizeof(*m));

	if (m)
		m->tail = &m->families;
	return m;
}

static void series_free(struct loom_metric *s)
{
	free(s->labels);
	free(s->buckets);
	free(s);
}

void loom_metrics_free(struct loom_metrics *m)
{
	struct family *f, *fn;
	struct loom_metric *s, *sn;

	if (!m)
		return;
	for (f = m->families; f; f = fn) {
		fn = f->next;
		for (s = f->series; s; s = sn) {
			sn = s->next;
			series_free(s);
		}
		free(f->name);
		free(f->help);
		free(f->bounds);
		free(f);
	}
	free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; labels without ':'. */
static bool name_valid(const char *s, bool label)
{
	size_t i;

	if (!s || !s[0])
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A growable string; `failed` sticks after the first ENOMEM. */
struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void buf_grow(struct buf *b, size_t need)
{
	if (!b->failed && loom_grow(&b->p, &b->cap, b->len + need + 1, 256) < 0)
		b->failed = true;
}

static void buf_put(struct buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	if (b->failed)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		buf_put(b, tmp, (size_t)n);
		return;
	}
	buf_grow(b, (size_t)n);
	if (b->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Label values escape \ " and newline; help text \ and newline. */
static void buf_escaped(struct buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_put(b, "\\\\", 2);
		else if (*s == '\n')
			buf_put(b, "\\n", 2);
		else if (quote && *s == '"')
			buf_put(b, "\\\"", 2);
		else
			buf_put(b, s, 1);
	}
}

/* The shortest of %.15g / %.17g that reads back as the same double;
 * Prometheus' spellings of the infinities and NaN. */
static void buf_value(struct buf *b, double v)
{
	char tmp[64];

	if (isnan(v)) {
		buf_put(b, "NaN", 3);
		return;
	}
	if (isinf(v)) {
		buf_printf(b, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	buf_printf(b, "%s", tmp);
}

static char *render_labels(const char *const *labels, const struct family *f)
{
	struct buf b = { 0 };
	size_t i;

	buf_put(&b, "", 0);
	for (i = 0; labels && labels[i]; i += 2) {
		if (!labels[i + 1] || !name_valid(labels[i], true) ||
		    strncmp(labels[i], "__", 2) == 0 ||
		    (f->type == LOOM_METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0)) {
			free(b.p);
			errno = EINVAL;
			return NULL;
		}
		buf_printf(&b, "%s%s=\"", i ? "," : "", labels[i]);
		buf_escaped(&b, labels[i + 1], true);
		buf_put(&b, "\"", 1);
	}
	if (b.failed) {
		free(b.p);
		errno = ENOMEM;
		return NULL;
	}
	return b.p;
}

static struct family *family_get(struct loom_metrics *m, enum loom_metric_type type,
				 const char *name, const char *help, const double *bounds,
				 size_t n_bounds)
{
	struct family *f;
	size_t i;

	for (f = m->families; f; f = f->next) {
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->type != type || strcmp(f->help, help) != 0 || f->n_bounds != n_bounds ||
		    (n_bounds && memcmp(f->bounds, bounds, n_bounds * sizeof(*bounds)) != 0)) {
			errno = EINVAL;
			return NULL;
		}
		return f;
	}
	for (i = 1; i < n_bounds; i++)
		if (!(bounds[i] > bounds[i - 1])) {
			errno = EINVAL;
			return NULL;
		}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->name = strdup(name)) || !(f->help = strdup(help)) ||
	    (n_bounds && !(f->bounds = malloc(n_bounds * sizeof(*bounds))))) {
		if (f) {
			free(f->name);
			free(f->help);
		}
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	if (n_bounds)
		memcpy(f->bounds, bounds, n_bounds * sizeof(*bounds));
	f->n_bounds = n_bounds;
	f->type = type;
	f->tail = &f->series;
	*m->tail = f;
	m->tail = &f->next;
	return f;
}

struct loom_metric *loom_metrics_add(struct loom_metrics *m, enum loom_metric_type type,
				     const char *name, const char *help, const char *const *labels,
				     const double *bounds, size_t n_bounds)
{
	struct family *f;
	struct loom_metric *s;
	char *lb;

	/* The suffixes promtool reserves: a counter ends in _total, nothing
	 * else does, and a histogram's own series names are not free. */
	if (!m || !name_valid(name, false) || !help ||
	    (type == LOOM_METRIC_COUNTER) != ends_with(name, "_total") ||
	    (type == LOOM_METRIC_HISTOGRAM) != (bounds && n_bounds > 0) ||
	    ends_with(name, "_bucket") || ends_with(name, "_count") || ends_with(name, "_sum")) {
		errno = EINVAL;
		return NULL;
	}
	f = family_get(m, type, name, help, bounds, n_bounds);
	if (!f)
		return NULL;
	lb = render_labels(labels, f);
	if (!lb)
		return NULL;
	for (s = f->series; s; s = s->next)
		if (strcmp(s->labels, lb) == 0) {
			free(lb);
			return s;
		}
	s = calloc(1, sizeof(*s));
	if (!s || (n_bounds && !(s->buckets = calloc(n_bounds, sizeof(*s->buckets))))) {
		free(s);
		free(lb);
		errno = ENOMEM;
		return NULL;
	}
	s->fam = f;
	s->labels = lb;
	*f->tail = s;
	f->tail = &s->next;
	return s;
}

void loom_metric_inc(struct loom_metric *s)
{
	loom_metric_add(s, 1);
}

void loom_metric_add(struct loom_metric *s, double v)
{
	if (s && v >= 0)
		s->value += v;
}

void loom_metric_set(struct loom_metric *s, double v)
{
	if (s)
		s->value = v;
}

void loom_metric_observe(struct loom_metric *s, double v)
{
	size_t i;

	if (!s || s->fam->type != LOOM_METRIC_HISTOGRAM)
		return;
	s->value += v;
	s->count += 1;
	for (i = 0; i < s->fam->n_bounds; i++)
		if (v <= s->fam->bounds[i]) {
			s->buckets[i] += 1;
			break;
		}
}

double loom_metric_value(const struct loom_metric *s)
{
	if (!s)
		return 0;
	return s->fam->type == LOOM_METRIC_HISTOGRAM ? s->count : s->value;
}

static const char *type_name(enum loom_metric_type t)
{
	return t == LOOM_METRIC_COUNTER ? "counter"
	       : t == LOOM_METRIC_GAUGE ? "gauge"
					: "histogram";
}

/* name{labels} or name{labels,extra} */
static void buf_series(struct buf *b, const char *name, const char *suffix, const char *labels,
		       const char *extra)
{
	bool any = labels[0] || extra;

	buf_printf(b, "%s%s%s%s%s%s%s ", name, suffix, any ? "{" : "", labels,
		   labels[0] && extra ? "," : "", extra ? extra : "", any ? "}" : "");
}

static void render_histogram(struct buf *b, const struct family *f, const struct loom_metric *s)
{
	double cum = 0;
	size_t i;

	for (i = 0; i < f->n_bounds; i++) {
		struct buf le = { 0 };

		cum += s->buckets[i];
		buf_put(&le, "le=\"", 4);
		buf_value(&le, f->bounds[i]);
		buf_put(&le, "\"", 1);
		if (le.failed) {
			b->failed = true;
			free(le.p);
			return;
		}
		buf_series(b, f->name, "_bucket", s->labels, le.p);
		free(le.p);
		buf_value(b, cum);
		buf_put(b, "\n", 1);
	}
	buf_series(b, f->name, "_bucket", s->labels, "le=\"+Inf\"");
	buf_value(b, s->count);
	buf_put(b, "\n", 1);
	buf_series(b, f->name, "_sum", s->labels, NULL);
	buf_value(b, s->value);
	buf_put(b, "\n", 1);
	buf_series(b, f->name, "_count", s->labels, NULL);
	buf_value(b, s->count);
	buf_put(b, "\n", 1);
}

int loom_metrics_render(const struct loom_metrics *m, char **out, size_t *len)
{
	struct buf b = { 0 };
	const struct family *f;
	const struct loom_metric *s;

	buf_put(&b, "", 0);
	for (f = m ? m->families : NULL; f; f = f->next) {
		buf_printf(&b, "# HELP %s ", f->name);
		buf_escaped(&b, f->help, false);
		buf_printf(&b, "\n# TYPE %s %s\n", f->name, type_name(f->type));
		for (s = f->series; s; s = s->next) {
			if (f->type == LOOM_METRIC_HISTOGRAM) {
				render_histogram(&b, f, s);
				continue;
			}
			buf_series(&b, f->name, "", s->labels, NULL);
			buf_value(&b, s->value);
			buf_put(&b, "\n", 1);
		}
	}
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
