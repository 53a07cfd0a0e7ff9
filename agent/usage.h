/* How full a node's pod blocks are: what loomd exports as
 * loom_ipam_addresses_in_use/_capacity and `loomctl status` prints.
 *
 * Two sources, one answer: loomd counts the addresses of its endpoint
 * records (the state dir it already follows); loomctl counts the address
 * files of the IPAM store (<dataDir>/<network>/, ipam_store.h), which is
 * what the allocator itself sees.  Both only read; neither takes the
 * IPAM store's lock (a count a moment old is fine for a gauge).
 *
 * Pure apart from reading directories; never prints. */
#ifndef LOOMD_USAGE_H
#define LOOMD_USAGE_H

#include <stdint.h>

#include "base/ip.h"

/* Addresses loom-ipam may hand out of a node block with the plugins'
 * default range (ipam/config.c): all but the network address, the
 * gateway (.1) and, for IPv4, the broadcast; saturating at UINT64_MAX. */
uint64_t loomd_block_capacity(const struct loom_prefix *block);

/* Addresses inside block held by the endpoint records of `network` in
 * state_dir.  0 and *used, or -errno (a missing dir counts 0). */
int loomd_block_used_records(const char *state_dir, const char *network,
			     const struct loom_prefix *block, uint64_t *used);

/* Addresses inside block reserved in the IPAM store <data_dir>/<network>/.
 * 0 and *used, or -errno (a missing dir counts 0). */
int loomd_block_used_ipam(const char *data_dir, const char *network,
			  const struct loom_prefix *block, uint64_t *used);

#endif
