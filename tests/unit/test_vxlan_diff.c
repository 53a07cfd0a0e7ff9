/* The vxlan controller's decisions without a kernel: (desired peers, what
 * the device holds) -> operations, in the order they are applied. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/neighbour.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/vxlan/diff.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct loom_ip ip(const char *s)
{
	struct loom_ip a;

	assert_int_equal(loom_ip_parse(s, &a), 0);
	return a;
}

/* Peer k: block 10.244.k.0/24 behind 192.0.2.k, VTEP MAC 02:00:00:00:00:k
 * (mac_byte overrides the last byte). */
static struct loom_vxlan_peer peer(int k, int mac_byte)
{
	struct loom_vxlan_peer p = { .node = "n" };
	char buf[32];

	snprintf(buf, sizeof(buf), "10.244.%d.0/24", k);
	assert_int_equal(loom_prefix_parse(buf, &p.subnet), 0);
	p.gw = loom_prefix_first(&p.subnet);
	snprintf(buf, sizeof(buf), "192.0.2.%d", k);
	p.underlay = ip(buf);
	p.mac[0] = 0x02;
	p.mac[5] = (uint8_t)mac_byte;
	return p;
}

/* What the kernel lists once peer p is programmed. */
static struct loom_nl_route route_of(const struct loom_vxlan_peer *p)
{
	return (struct loom_nl_route){
		.dst = p->subnet, .gw = p->gw, .oif = 7, .protocol = LOOM_RTPROT, .onlink = true
	};
}

static struct loom_neigh neigh_of(const struct loom_vxlan_peer *p)
{
	struct loom_neigh n = {
		.ifindex = 7, .ip = p->gw, .has_mac = true, .state = NUD_PERMANENT
	};

	memcpy(n.mac, p->mac, LOOM_MAC_LEN);
	return n;
}

static struct loom_fdb fdb_of(const struct loom_vxlan_peer *p)
{
	struct loom_fdb f = { .ifindex = 7, .dst = p->underlay, .state = NUD_PERMANENT };

	memcpy(f.mac, p->mac, LOOM_MAC_LEN);
	return f;
}

/* The op types of a diff, as a string: "R N F +" (DEL_ROUTE, DEL_NEIGH,
 * DEL_FDB, ADD_PEER, '-' DEL_PEER). */
static void types(const struct loom_vxlan_op *ops, size_t n, char *buf)
{
	static const char t[] = { [LOOM_VXLAN_DEL_ROUTE] = 'R',
				  [LOOM_VXLAN_DEL_NEIGH] = 'N',
				  [LOOM_VXLAN_DEL_FDB] = 'F',
				  [LOOM_VXLAN_DEL_PEER] = '-',
				  [LOOM_VXLAN_ADD_PEER] = '+' };
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = t[ops[i].type];
	buf[n] = '\0';
}

static void diff(const struct loom_vxlan_peer *want, size_t n, const struct loom_vxlan_state *st,
		 const char *expect, struct loom_vxlan_op **ops)
{
	size_t n_ops = 0;
	char got[64];

	assert_int_equal(loom_vxlan_diff(want, n, st, ops, &n_ops), 0);
	assert_true(n_ops < sizeof(got));
	types(*ops, n_ops, got);
	assert_string_equal(got, expect);
}

static void test_empty_device(void **state)
{
	struct loom_vxlan_peer want[] = { peer(1, 1), peer(2, 2) };
	struct loom_vxlan_state st = { 0 };
	struct loom_vxlan_op *ops;

	(void)state;
	diff(want, N(want), &st, "++", &ops);
	assert_int_equal(ops[0].peer.mac[5], 1);
	assert_int_equal(ops[1].peer.mac[5], 2);
	free(ops);
	/* nothing wanted, nothing held */
	diff(NULL, 0, &st, "", &ops);
	free(ops);
}

static void test_right_device_untouched(void **state)
{
	struct loom_vxlan_peer want[] = { peer(1, 1), peer(2, 2) };
	struct loom_nl_route r[] = { route_of(&want[1]), route_of(&want[0]) };
	struct loom_neigh n[] = { neigh_of(&want[0]), neigh_of(&want[1]) };
	struct loom_fdb f[] = { fdb_of(&want[1]), fdb_of(&want[0]) };
	struct loom_vxlan_state st = { r, N(r), n, N(n), f, N(f) };
	struct loom_vxlan_op *ops;

	(void)state;
	diff(want, N(want), &st, "", &ops);
	free(ops);
}

static void test_gone_node_removed(void **state)
{
	struct loom_vxlan_peer want[] = { peer(1, 1) }, gone = peer(3, 3);
	struct loom_nl_route r[] = { route_of(&gone), route_of(&want[0]) };
	struct loom_neigh n[] = { neigh_of(&want[0]), neigh_of(&gone) };
	struct loom_fdb f[] = { fdb_of(&gone), fdb_of(&want[0]) };
	struct loom_vxlan_state st = { r, N(r), n, N(n), f, N(f) };
	struct loom_vxlan_op *ops;
	char buf[LOOM_PREFIX_STRLEN];

	(void)state;
	/* removals first, route before neighbour before FDB entry */
	diff(want, N(want), &st, "RNF", &ops);
	assert_string_equal(loom_prefix_fmt(&ops[0].route.dst, buf), "10.244.3.0/24");
	assert_string_equal(loom_ip_fmt(&ops[1].ip, buf), "10.244.3.0");
	assert_int_equal(ops[2].mac[5], 3);
	assert_string_equal(loom_ip_fmt(&ops[2].dst, buf), "192.0.2.3");
	free(ops);
}

static void test_new_mac_reprogrammed(void **state)
{
	struct loom_vxlan_peer old = peer(1, 1), want[] = { peer(1, 9) };
	struct loom_nl_route r[] = { route_of(&old) };
	struct loom_neigh n[] = { neigh_of(&old) };
	struct loom_fdb f[] = { fdb_of(&old) };
	struct loom_vxlan_state st = { r, N(r), n, N(n), f, N(f) };
	struct loom_vxlan_op *ops;

	(void)state;
	/* The route is right, the neighbour is the peer's (replaced by the
	 * add), the old FDB entry is nobody's. */
	diff(want, N(want), &st, "F+", &ops);
	assert_int_equal(ops[0].mac[5], 1);
	assert_int_equal(ops[1].peer.mac[5], 9);
	free(ops);
}

static void test_kernel_entries_left_alone(void **state)
{
	struct loom_vxlan_peer want[] = { peer(1, 1) };
	struct loom_nl_route r[] = { route_of(&want[0]) };
	struct loom_neigh n[] = { neigh_of(&want[0]),
				  { .ifindex = 7, .ip = ip("10.244.5.1"), .state = NUD_STALE } };
	struct loom_fdb f[] = { fdb_of(&want[0]) };
	struct loom_vxlan_state st = { r, N(r), n, N(n), f, N(f) };
	struct loom_vxlan_op *ops;

	(void)state;
	diff(want, N(want), &st, "", &ops);
	free(ops);
	/* a route of a wrong gateway is not the peer's: replaced */
	r[0].gw = ip("10.244.1.7");
	diff(want, N(want), &st, "R+", &ops);
	free(ops);
}

static void test_change(void **state)
{
	struct loom_vxlan_peer a = peer(1, 1), b = peer(1, 2);
	struct loom_vxlan_op ops[2];

	(void)state;
	assert_int_equal(loom_vxlan_change(&a, &a, ops), 0);
	assert_int_equal(loom_vxlan_change(NULL, NULL, ops), 0);
	assert_int_equal(loom_vxlan_change(NULL, &a, ops), 1);
	assert_int_equal(ops[0].type, LOOM_VXLAN_ADD_PEER);
	assert_int_equal(loom_vxlan_change(&a, NULL, ops), 1);
	assert_int_equal(ops[0].type, LOOM_VXLAN_DEL_PEER);
	assert_int_equal(loom_vxlan_change(&a, &b, ops), 2);
	assert_int_equal(ops[0].type, LOOM_VXLAN_DEL_PEER);
	assert_int_equal(ops[0].peer.mac[5], 1);
	assert_int_equal(ops[1].type, LOOM_VXLAN_ADD_PEER);
	assert_int_equal(ops[1].peer.mac[5], 2);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_empty_device), cmocka_unit_test(test_right_device_untouched),
	       cmocka_unit_test(test_gone_node_removed),
	       cmocka_unit_test(test_new_mac_reprogrammed),
	       cmocka_unit_test(test_kernel_entries_left_alone), cmocka_unit_test(test_change))
