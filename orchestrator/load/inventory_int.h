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

/* state: (a mapping, or absent) into inv->state. */
void inv_read_state(struct yctx *c, const struct ynode *m, struct inventory *inv);
void inv_state_free(struct state_def *s);

/* Shared checks (inventory.c). */
int inv_file_path_ok(const char *s);
int inv_user_ok(const char *s);

/* Transport keys (inventory_winrm.c).  INV_WINRM_KEYS lists them for ykeys(). */
#define INV_WINRM_KEYS                                                                             \
	"transport", "winrm_port", "winrm_scheme", "winrm_auth", "winrm_allow_unencrypted",        \
	    "winrm_operation_timeout", "winrm_password_file", "winrm_password_env",                \
	    "winrm_ca_file", "winrm_user", "winrm_server_name"
/* Overlay m's transport keys onto *t and *w (errors in c). */
void inv_read_winrm(struct yctx *c, const struct ynode *m, enum host_transport *t,
		    struct winrm_def *w);
void inv_winrm_defaults(struct winrm_def *w);
void inv_winrm_copy(struct winrm_def *dst, const struct winrm_def *src);
void inv_winrm_release(struct winrm_def *w);
/* A WinRM host has a password source and, for http, winrm_allow_unencrypted. */
void inv_check_winrm(struct yctx *c, const struct host_def *h);

#endif
