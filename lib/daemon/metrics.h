/* A Prometheus metrics registry and its text exposition format (0.0.4),
 * for the daemons' /metrics.
 *
 * Owns: metric families (counter, gauge, histogram), their series (one per
 * label set) and rendering them.  Names are checked when registered, the
 * way `promtool check metrics` would: a valid name, counters ending in
 * _total, one type and help per family, label names valid and not
 * reserved ("le" belongs to histograms).  Values are plain doubles
 * updated by the one thread that owns the registry (the daemon's loop).
 *
 * May use libc only; never prints. */
#ifndef LOOM_DAEMON_METRICS_H
#define LOOM_DAEMON_METRICS_H

#include <stddef.h>

enum loom_metric_type {
	LOOM_METRIC_COUNTER,
	LOOM_METRIC_GAUGE,
	LOOM_METRIC_HISTOGRAM
};

struct loom_metrics; /* the registry */
struct loom_metric;  /* one series: a family and a set of label values */

/* NULL on ENOMEM. */
struct loom_metrics *loom_metrics_new(void);
/* Frees every family and series.  NULL-safe. */
void loom_metrics_free(struct loom_metrics *m);

/* Register a series (or find it again: same name, type, help and labels
 * return the same series).  labels: NULL, or name/value pairs ending in
 * NULL ({"peer", "192.0.2.1", NULL}).  For a histogram, `bounds` are the
 * upper bounds of its buckets, strictly increasing (+Inf is implied);
 * counters and gauges pass NULL, 0.  The series is owned by the registry.
 * NULL with errno EINVAL (a bad name, a counter without _total, a family
 * registered with another type, help or bounds, a bad label) or ENOMEM. */
struct loom_metric *loom_metrics_add(struct loom_metrics *m, enum loom_metric_type type,
				     const char *name, const char *help, const char *const *labels,
				     const double *bounds, size_t n_bounds);

/* Counters: add a non-negative amount (a negative one is ignored). */
void loom_metric_inc(struct loom_metric *s);
void loom_metric_add(struct loom_metric *s, double v);
/* Gauges. */
void loom_metric_set(struct loom_metric *s, double v);
/* Histograms: one observation. */
void loom_metric_observe(struct loom_metric *s, double v);
/* A counter's or gauge's value; a histogram's count. */
double loom_metric_value(const struct loom_metric *s);

/* The registry in the text format: families in registration order, each
 * with its # HELP and # TYPE, series in registration order.  *out is
 * malloc()ed and NUL-terminated, *len its length.  0 or -ENOMEM. */
int loom_metrics_render(const struct loom_metrics *m, char **out, size_t *len);

#define LOOM_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
