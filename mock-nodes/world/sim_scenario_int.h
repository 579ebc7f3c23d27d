/*
 * sim_scenario_int.h — the scenario loader's state, shared by the settings
 * and hosts part (sim_scenario.c) and the clusters part
 * (sim_scenario_cluster.c).
 */
#ifndef CCR_SIM_SCENARIO_INT_H
#define CCR_SIM_SCENARIO_INT_H

#include "sim_cmd_int.h"
#include "sim_yaml.h"

#define SIM_HTTP_PORT_OFFSET 10000 /* an HT/CAS's default HTTP port: its SSH port + this */
#define SIM_PORT_MAX	     32767 /* every listening port stays below the ephemeral range */

struct sim_scn {
	struct sim_yaml y;   /* the document and the error */
	struct sim_world *w; /* the world being built */
	char suffix[16];     /* "" or "-001" for fleet copy 1 */
	int host_base;	     /* world index of this copy's first host */
	int fleet;	     /* 1: every host on its own address (sim_fleet_addr) */
	int default_port;    /* top-level base_port */
	int max_sessions;    /* top-level max_sessions, the hosts' default */
};

/* The host of the current copy named by scalar n; -1 with a located error. */
int sim_scn_host_ref(struct sim_scn *s, yaml_node_t *n, const char *what);
/* Build the current copy's clusters and bind every host to its role.  0 or -1. */
int sim_scn_clusters(struct sim_scn *s, yaml_node_t *root);
/* A host's services: mapping (sim_scenario_svc.c).  0 or -1 with a located error. */
int sim_scn_services(struct sim_scn *s, struct sim_host *h, yaml_node_t *svcs);
/* sim_scenario_msi.c: rollup media and the organisation; a host's installer state.  0 or -1. */
int sim_scn_msi_world(struct sim_scn *s, yaml_node_t *root);
int sim_scn_msi_host(struct sim_scn *s, struct sim_host *h, yaml_node_t *map);
/* The fleet address of world host index: 127.0.0.1, ... 127.0.0.254, 127.0.1.1, ... */
void sim_fleet_addr(int index, char *buf, size_t len);

#endif
