/* A stand-in for the kernel's table `inet loom`, for tests: it reads the
 * batches loom-policyd sends (the subset of nft syntax the compiler
 * writes) into an IR, refusing what the kernel would refuse (a missing
 * element deleted, a chain deleted while jumped to, a set deleted while a
 * rule uses it, a rule naming a missing set or chain), and evaluates a
 * packet over an IR as the forward hook would.  Shared by the policy unit
 * tests and tests/fuzz/fuzz_policy_incremental.c. */
#ifndef LOOM_TEST_NFTSIM_H
#define LOOM_TEST_NFTSIM_H

#include <stddef.h>

#include "ir.h"

/* Applies batch to ir line by line.  0, or -1 with why (the line and the
 * reason); ir is then half changed, as a failed transaction is not. */
int nftsim_apply(struct pir *ir, const char *batch, char *why, size_t len);

struct nftsim_pkt {
	const char *saddr, *daddr; /* same family */
	int proto;                 /* 6, 17, 132 */
	int dport;
};

/* A new connection through the forward hook of the node holding ir: 1
 * accepted, 0 dropped, -1 a rule the evaluator cannot read (why). */
int nftsim_eval(const struct pir *ir, const struct nftsim_pkt *p, char *why, size_t len);

#endif
