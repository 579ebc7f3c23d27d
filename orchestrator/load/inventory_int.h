/*
 * inventory_int.h — private to the inventory loader (inventory.c,
 * inventory_clusters.c).
 */
#ifndef CCR_INVENTORY_INT_H
#define CCR_INVENTORY_INT_H

#include "loader.h"

/* The inventory loader's context. */
struct invctx {
	struct yctx y;		 /* file, diag, error count */
	struct inventory *inv;	 /* being filled */
	struct nameidx hosts;	 /* host name -> index in inv->hosts */
	struct nameidx hosts_ci; /* the same, ignoring case (for duplicates) */
	struct nameidx members;	 /* host name -> index of the cluster it is a member of */
	struct nameidx clusters; /* cluster name, ignoring case -> index */
};

/* vars: NAME: scalar or list of scalars, appended to *out / *n (errors in c). */
void inv_read_values(struct yctx *c, const struct ynode *m, struct inv_value **out, int *n);
void inventory_index(struct inventory *inv);
void inv_values_release(struct inv_value *v, int n);

/* clusters: (a list) into inv->clusters; the hosts must already be read. */
void inv_read_clusters(struct invctx *x, const struct ynode *l);
void inv_cluster_release(struct cluster_def *cl);

/* notify: (a list, or absent) into inv->notify. */
void inv_read_notify(struct yctx *c, const struct ynode *l, struct inventory *inv);

#endif
