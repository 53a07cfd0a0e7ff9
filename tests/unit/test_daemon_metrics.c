/* lib/daemon/metrics.c: the text format a Prometheus server reads, and the
 * names it would refuse, refused at registration. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"
#include "test_main.h"

static const double BOUNDS[] = { 0.001, 0.01, 0.1, 1 };

static void test_render(void **state)
{
	struct loom_metrics *m = loom_metrics_new();
	const char *peer1[] = { "peer", "192.0.2.1", NULL },
		   *peer2[] = { "peer", "192.0.2.2", NULL };
	const char *odd[] = { "range", "a\"b\\c\nd", NULL };
	struct loom_metric *c, *g1, *g2, *h, *e;
	char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(m);
	c = loom_metrics_add(m, LOOM_METRIC_COUNTER, "loom_dataplane_apply_errors_total",
			     "Dataplane applies that failed.", NULL, NULL, 0);
	g1 = loom_metrics_add(m, LOOM_METRIC_GAUGE, "loom_bgp_peer_up",
			      "1 when the BGP session is up.", peer1, NULL, 0);
	g2 = loom_metrics_add(m, LOOM_METRIC_GAUGE, "loom_bgp_peer_up",
			      "1 when the BGP session is up.", peer2, NULL, 0);
	h = loom_metrics_add(m, LOOM_METRIC_HISTOGRAM, "loom_dataplane_apply_duration_seconds",
			     "Time to apply a change.\nIn seconds \\ wall clock.", NULL, BOUNDS, 4);
	e = loom_metrics_add(m, LOOM_METRIC_GAUGE, "loom_ipam_addresses_in_use", "Addresses held.",
			     odd, NULL, 0);
	assert_non_null(c);
	assert_non_null(g1);
	assert_non_null(g2);
	assert_non_null(h);
	assert_non_null(e);
	/* the same series again is the same series */
	assert_ptr_equal(loom_metrics_add(m, LOOM_METRIC_GAUGE, "loom_bgp_peer_up",
					  "1 when the BGP session is up.", peer1, NULL, 0),
			 g1);
	loom_metric_inc(c);
	loom_metric_add(c, 2);
	loom_metric_add(c, -5); /* a counter never goes down */
	loom_metric_set(g1, 1);
	loom_metric_set(e, 0.1);
	loom_metric_observe(h, 0.0005);
	loom_metric_observe(h, 0.05);
	loom_metric_observe(h, 0.05);
	loom_metric_observe(h, 7);
	assert_true(loom_metric_value(c) == 3);
	assert_true(loom_metric_value(h) == 4);
	assert_int_equal(loom_metrics_render(m, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	assert_string_equal(
		out,
		"# HELP loom_dataplane_apply_errors_total Dataplane applies that failed.\n"
		"# TYPE loom_dataplane_apply_errors_total counter\n"
		"loom_dataplane_apply_errors_total 3\n"
		"# HELP loom_bgp_peer_up 1 when the BGP session is up.\n"
		"# TYPE loom_bgp_peer_up gauge\n"
		"loom_bgp_peer_up{peer=\"192.0.2.1\"} 1\n"
		"loom_bgp_peer_up{peer=\"192.0.2.2\"} 0\n"
		"# HELP loom_dataplane_apply_duration_seconds Time to apply a change.\\nIn seconds \\\\ wall clock.\n"
		"# TYPE loom_dataplane_apply_duration_seconds histogram\n"
		"loom_dataplane_apply_duration_seconds_bucket{le=\"0.001\"} 1\n"
		"loom_dataplane_apply_duration_seconds_bucket{le=\"0.01\"} 1\n"
		"loom_dataplane_apply_duration_seconds_bucket{le=\"0.1\"} 3\n"
		"loom_dataplane_apply_duration_seconds_bucket{le=\"1\"} 3\n"
		"loom_dataplane_apply_duration_seconds_bucket{le=\"+Inf\"} 4\n"
		"loom_dataplane_apply_duration_seconds_sum 7.1005\n"
		"loom_dataplane_apply_duration_seconds_count 4\n"
		"# HELP loom_ipam_addresses_in_use Addresses held.\n"
		"# TYPE loom_ipam_addresses_in_use gauge\n"
		"loom_ipam_addresses_in_use{range=\"a\\\"b\\\\c\\nd\"} 0.1\n");
	free(out);
	loom_metrics_free(m);
}

static void test_special_values(void **state)
{
	struct loom_metrics *m = loom_metrics_new();
	struct loom_metric *g = loom_metrics_add(m, LOOM_METRIC_GAUGE, "x", "x", NULL, NULL, 0);
	char *out;
	size_t len;

	(void)state;
	loom_metric_set(g, INFINITY);
	assert_int_equal(loom_metrics_render(m, &out, &len), 0);
	assert_non_null(strstr(out, "\nx +Inf\n"));
	free(out);
	loom_metric_set(g, NAN);
	assert_int_equal(loom_metrics_render(m, &out, &len), 0);
	assert_non_null(strstr(out, "\nx NaN\n"));
	free(out);
	loom_metric_set(g, 1e-300);
	assert_int_equal(loom_metrics_render(m, &out, &len), 0);
	assert_non_null(strstr(out, "\nx 1e-300\n"));
	free(out);
	loom_metrics_free(m);
}

static void test_refused(void **state)
{
	struct loom_metrics *m = loom_metrics_new();
	const char *bad_label[] = { "1x", "v", NULL }, *reserved[] = { "__x", "v", NULL };
	const char *le[] = { "le", "1", NULL }, *odd[] = { "a", NULL };
	const double down[] = { 1, 0.5 };

	(void)state;
#define REFUSED(...)                                           \
	do {                                                   \
		errno = 0;                                     \
		assert_null(loom_metrics_add(m, __VA_ARGS__)); \
		assert_int_equal(errno, EINVAL);               \
	} while (0)
	REFUSED(LOOM_METRIC_COUNTER, "loom_restarts", "no _total", NULL, NULL, 0);
	REFUSED(LOOM_METRIC_GAUGE, "loom_things_total", "_total on a gauge", NULL, NULL, 0);
	REFUSED(LOOM_METRIC_GAUGE, "9lives", "bad name", NULL, NULL, 0);
	REFUSED(LOOM_METRIC_GAUGE, "loom-x", "bad name", NULL, NULL, 0);
	REFUSED(LOOM_METRIC_GAUGE, "loom_x_count", "reserved suffix", NULL, NULL, 0);
	REFUSED(LOOM_METRIC_GAUGE, "loom_x", "h", bad_label, NULL, 0);
	REFUSED(LOOM_METRIC_GAUGE, "loom_x", "h", reserved, NULL, 0);
	REFUSED(LOOM_METRIC_GAUGE, "loom_x", "h", odd, NULL, 0);
	REFUSED(LOOM_METRIC_HISTOGRAM, "loom_h_seconds", "h", le, BOUNDS, 4);
	REFUSED(LOOM_METRIC_HISTOGRAM, "loom_h_seconds", "no buckets", NULL, NULL, 0);
	REFUSED(LOOM_METRIC_HISTOGRAM, "loom_h_seconds", "h", NULL, down, 2);
	assert_non_null(loom_metrics_add(m, LOOM_METRIC_GAUGE, "loom_x", "h", NULL, NULL, 0));
	/* one family, one type and one help */
	REFUSED(LOOM_METRIC_COUNTER, "loom_x", "h", NULL, NULL, 0);
	REFUSED(LOOM_METRIC_GAUGE, "loom_x", "other help", NULL, NULL, 0);
	loom_metrics_free(m);
	loom_metrics_free(NULL);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_render), cmocka_unit_test(test_special_values),
	       cmocka_unit_test(test_refused))
