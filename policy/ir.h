/* The policy compiler's intermediate representation: table `inet loom` as
 * sets (and verdict maps) with elements and chains with rules, the text of
 * each piece exactly as nft receives it.
 *
 * The engine keeps the IR it last committed; a flush compiles the dirty
 * part of the model into a change set (pir_changes), renders it as one nft
 * batch and only then applies it to the IR.  Anything that fails on the
 * way returns -ENOMEM and the engine starts over with a whole-table
 * replace: no half-applied change, no dropped element.  Tests read a batch
 * back into an IR (tests/policy/nftsim.c) and evaluate packets over it.
 *
 * Owns: the IR structs, their canonical dump, the change set, its
 * rendering and its application.  Uses only util.c's containers (no
 * model, no kernel). */
#ifndef LOOM_POL_IR_H
#define LOOM_POL_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A named set or verdict map.  Elements are the text nft takes between
 * the braces ("10.0.0.5", "10.0.0.5 . tcp . 80", "10.0.0.5 : jump X");
 * the value counts the model objects that want the element, so a shared
 * address leaves a set only when its last user does. */
struct pir_set {
	char *name;
	char *decl;          /* "{ type ipv4_addr; }" */
	bool map;            /* elements are "key : verdict" */
	struct pm_map elems; /* element -> (uintptr_t) users */
};

/* Ranks order chain deletion: a chain jumps only to chains of a higher
 * rank, and the kernel refuses (EBUSY) to delete a chain still jumped to. */
enum pir_rank {
	PIR_BASE,
	PIR_DISPATCH,
	PIR_POLICY
};

struct pir_chain {
	char *name;
	char *decl;   /* "{ comment \"...\"; }" or a base chain's hook */
	int rank;     /* enum pir_rank */
	char **rules; /* text after "add rule inet loom NAME " */
	size_t nrules;
	bool flush; /* set by pir_diff: it exists, flush before refilling */
};

struct pir {
	struct pm_map sets;   /* name -> struct pir_set * */
	struct pm_map chains; /* name -> struct pir_chain * */
	size_t nrules, nelems;
};

void pir_clear(struct pir *ir);
struct pir_set *pir_set_new(const char *name, const char *decl, bool map);
void pir_set_free(struct pir_set *s);
void pir_chain_free(struct pir_chain *c);
/* Appends a rule (takes rule; frees it on failure).  0 or -ENOMEM. */
int pir_chain_add_rule(struct pir_chain *c, char *rule);
bool pir_chain_same_rules(const struct pir_chain *a, const struct pir_chain *b);

/* A text of the whole IR, sorted, for comparing two IRs (users ignored).
 * malloc()ed; NULL on out of memory. */
char *pir_dump(const struct pir *ir);

/* What one flush changes.  Everything listed is owned by the change set
 * until pir_apply moves it into the IR. */
struct pir_elem_delta {
	char *set, *elem;
	long delta; /* users gained (> 0) or lost (< 0) */
	int op;     /* set by pir_diff: +1 add, -1 delete, 0 nothing */
};
struct pir_changes {
	bool replace;              /* whole table: the IR starts empty */
	struct pir_set **add_sets; /* new sets, no elements yet */
	size_t nadd_sets;
	char **del_sets;
	size_t ndel_sets;
	struct pir_chain **chains; /* new chains, or existing ones with new rules */
	size_t nchains;
	struct pir_chain_ref {
		char *name;
		int rank;
	} * del_chains;
	size_t ndel_chains;
	struct pir_elem_delta *elems;
	size_t nelems;
	/* capacities */
	size_t cadd_sets, cdel_sets, cchains, cdel_chains, celems;
};

void pir_changes_free(struct pir_changes *c);
/* Each takes ownership of what it is given (freed on failure); -ENOMEM. */
int pir_changes_add_set(struct pir_changes *c, struct pir_set *s);
int pir_changes_del_set(struct pir_changes *c, char *name);
int pir_changes_chain(struct pir_changes *c, struct pir_chain *ch);
int pir_changes_del_chain(struct pir_changes *c, char *name, int rank);
int pir_changes_elem(struct pir_changes *c, char *set, char *elem, long delta);

/* The diff of `ir` + `c` against `ir`: sorts c's lists, drops chains whose
 * rules did not change, marks existing chains for a flush and decides per
 * element whether its users cross zero (add or delete).  Allocates
 * nothing. */
void pir_diff(const struct pir *ir, struct pir_changes *c);
/* The nft batch for a diffed change set, in an order the kernel accepts
 * in one transaction.  *out malloc()ed ("" when nothing changes); 0 or
 * -ENOMEM. */
int pir_render(const struct pir_changes *c, char **out);
/* Moves c into ir.  0, or -ENOMEM with ir half changed: the caller drops
 * it and rebuilds. */
int pir_apply(struct pir *ir, struct pir_changes *c);

#endif
