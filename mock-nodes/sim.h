/*
 * sim.h — the seam between ccrsim's world (scenario, world model, rules,
 * command interpreter, faults: sim_world.c, sim_cmd*.c, sim_scenario.c) and
 * its I/O (libssh server, event loop, reboots on the wire, control socket:
 * sim_server.c, sim_ctl.c, sim_main.c).
 *
 * The world is pure: it never touches a socket or a clock.  The server owns
 * time and passes "now" (milliseconds on the world clock, which the server
 * advances from CLOCK_MONOTONIC and stops while paused) into every call.
 * Durations in the scenario are real-world durations; the world multiplies
 * them by the time scale when it schedules them, so time scale 0 makes every
 * long action instant.  Not thread-safe: one thread (the event loop) calls
 * all of this.
 *
 * Calling sequence (server):
 *   w = sim_world_load(path, scale, err)      or sim_world_fleet(path, n, scale, err)
 *   for each host i < sim_world_nhosts(w): listen on sim_host_addr/port(w, i)
 *   on exec request: a = sim_exec(w, i, cmdline, now)
 *       loop: sim_action_poll(a, now, &out, &err, &exit) writes due output and
 *             reports completion; sleep until sim_action_next_ms(a) or I/O;
 *             honour sim_action_drop_after(a) and sim_action_slow_ms(a);
 *             sim_action_take_log(a, log) for -v
 *       on client gone before completion: sim_action_abort(a, now)
 *       sim_action_free(a)
 *   periodically (and before accepting): sim_world_tick(w, now)
 *       then sim_host_power(w, i, now): UP accept; DOWN refuse / close sessions
 *       a session opened in boot epoch e is closed when sim_host_boot_epoch() != e
 *   control socket: sim_world_dump(w, now) / sim_fault_add / sim_fault_clear / sim_world_set
 */
#ifndef CCR_SIM_H
#define CCR_SIM_H

#include <jansson.h>
#include <stdint.h>

#include "util.h"

struct sim_world;
struct sim_action;

enum sim_power {
	SIM_UP,	  /* accepts SSH connections */
	SIM_DOWN, /* rebooting (or never coming back): refuse connections */
};

/*
 * Load a scenario file (docs/ccrsim.md).  time_scale >= 0 multiplies every
 * duration.  Returns the world, or NULL with "FILE:LINE:COL: message" in err.
 */
struct sim_world *sim_world_load(const char *path, double time_scale, char *err, size_t errlen);
/*
 * A fleet: n copies of the scenario's clusters, hosts renamed with a
 * numeric suffix and given distinct loopback addresses/ports.
 */
struct sim_world *sim_world_fleet(const char *path, int n, double time_scale, char *err,
				  size_t errlen);
void sim_world_free(struct sim_world *w);

/* Hosts, in scenario order (fleet: copy-major). */
int sim_world_nhosts(const struct sim_world *w);
const char *sim_host_name(const struct sim_world *w, int host);
const char *sim_host_addr(const struct sim_world *w, int host); /* loopback IPv4 */
int sim_host_port(const struct sim_world *w, int host);
/*
 * sshd's MaxSessions for the host (scenario `max_sessions`, default 10): the
 * session channels one connection may have open; the next is refused.
 */
int sim_world_max_sessions(const struct sim_world *w, int host);
/* Index of a host by name (case-insensitive), or -1. */
int sim_host_find(const struct sim_world *w, const char *name);

/* Advance timed world events (reboots finishing, replication catching up) up to now. */
void sim_world_tick(struct sim_world *w, int64_t now);
/* Earliest pending timed event, or INT64_MAX: the server may sleep until then. */
int64_t sim_world_next_event(const struct sim_world *w);
enum sim_power sim_host_power(const struct sim_world *w, int host, int64_t now);
/* Increments on every boot; a session opened in an older epoch must be closed. */
int sim_host_boot_epoch(const struct sim_world *w, int host);
/* 1 if the host must present a new host key when it next comes up (fault), then cleared. */
int sim_host_take_new_key(struct sim_world *w, int host);

/*
 * Run a command line on a host: one remote command (an SSH exec request or
 * a WinRM Command), counted in the host's `requests`.  Never NULL: unknown
 * commands produce the Windows "is not recognized" action with exit 9009, as
 * cmd.exe.  Faults matching (host, command, call count) shape the action.
 * `cmd [/v:on] /c A & B & ...` runs its segments in order within the one
 * action, each counted, faulted and timed as if it had come alone
 * (docs/ccrsim.md, Compound lines).  The caller owns the action.
 */
struct sim_action *sim_exec(struct sim_world *w, int host, const char *cmdline, int64_t now);
/*
 * Append to out/err the output due by now and apply world effects due by
 * now.  Returns 1 when the command has finished (exit status in *exit_code),
 * 0 while it is still running.  A "hang" fault never finishes.
 */
int sim_action_poll(struct sim_action *a, int64_t now, struct sbuf *out, struct sbuf *err,
		    int *exit_code);
/* When the next output or completion is due (INT64_MAX: never, e.g. hang). */
int64_t sim_action_next_ms(const struct sim_action *a);
/*
 * Drop the connection after this many output bytes (fault), or -1.  The
 * bytes count from the first poll at which it is no longer -1 (for a single
 * command: from its start; in a compound line: from the start of the
 * segment the fault matched); the server keeps that base.
 */
int64_t sim_action_drop_after(const struct sim_action *a);
/*
 * The slow fault's delay per output chunk, 0 without one.  Informational: the
 * world already adds it to sim_action_next_ms, so the server needs no timer.
 */
int64_t sim_action_slow_ms(const struct sim_action *a);
/*
 * A compound line's log lines not yet taken ("[2] exec sc query X\n",
 * "[2] exit 0\n": each segment's start and exit status, for -v), appended
 * to log; nothing for a single command.
 */
void sim_action_take_log(struct sim_action *a, struct sbuf *log);
/* The client went away mid-command: apply the interruption (e.g. setup watermark). */
void sim_action_abort(struct sim_action *a, int64_t now);
void sim_action_free(struct sim_action *a);

/*
 * HTTP (Client Access, docs/ccrsim.md).  An HT/CAS host serves Outlook Web
 * Access on its address, port sim_host_http_port (0: the host serves no
 * HTTP, e.g. a cluster node).  sim_cas_owa_online: 1 if the CMS of a
 * cluster the host serves (it is in the cluster's hub_cas) is Online, else
 * 0; appends to why one "E2K7CCR (CLUS1) is Offline" per cluster it serves,
 * separated by "; ".  sim_host_http_count counts one answered request.
 */
int sim_host_http_port(const struct sim_world *w, int host);
int sim_cas_owa_online(const struct sim_world *w, int host, struct sbuf *why);
void sim_host_http_count(struct sim_world *w, int host);

/*
 * WinRM (docs/ccrsim.md, WinRM): the account every host's WS-Management
 * endpoint accepts with Basic authentication, from the scenario's
 * `winrm: {user, password}` (defaults below).  Owned by the world.
 */
#define SIM_WINRM_USER	   "administrator"
#define SIM_WINRM_PASSWORD "Ccrsim-WinRM-1"
const char *sim_winrm_user(const struct sim_world *w);
const char *sim_winrm_password(const struct sim_world *w);

/*
 * Control interface.  sim_world_dump returns a new JSON object (caller
 * decrefs): clusters (CMS owner, state, version, outage intervals and total
 * outage ms), hosts (binaries version, services, pending reboot, boot id and
 * epoch, power, command counts), faults.
 */
json_t *sim_world_dump(const struct sim_world *w, int64_t now);
/* Add a fault from its JSON form (docs/ccrsim.md).  0, or -1 with err. */
int sim_fault_add(struct sim_world *w, const json_t *fault, char *err, size_t errlen);
/*
 * Add a scheduled event from its JSON form (docs/ccrsim.md, Events): at a
 * world time or on a command, doing a set, reboot, crash, power_off,
 * power_on or failover.  0, or -1 with err.  sim_event_clear removes all.
 */
int sim_event_add(struct sim_world *w, const json_t *event, char *err, size_t errlen);
void sim_event_clear(struct sim_world *w);
/* Remove all faults (host NULL) or those of one host. */
void sim_fault_clear(struct sim_world *w, const char *host);
/* Set a world field ("NODE2.pending_reboot" = "1", "CLUS1.copy_queue" = "40"). 0 or -1/err. */
int sim_world_set(struct sim_world *w, const char *path, const char *value, int64_t now, char *err,
		  size_t errlen);

/*
 * Clusters, for the generated ccrup inventory (STATE/inventory.yml, written by
 * the server at start-up, before any command ran).  Indices run over
 * [0, sim_world_nclusters) in scenario order (fleet: copy-major, names with
 * the same suffix as their hosts).  Every string is owned by the world and
 * valid until sim_world_free; an index out of range returns NULL / -1 / 0.
 */
int sim_world_nclusters(const struct sim_world *w);
const char *sim_cluster_name(const struct sim_world *w, int cluster); /* "CLUS1" */
const char *sim_cluster_cms(const struct sim_world *w, int cluster);  /* "E2K7CCR" */
/* Host index of the node that owns the CMS now (at start: the active node), or -1. */
int sim_cluster_owner(const struct sim_world *w, int cluster);
/* Member nodes: count, and the host index of the k-th (scenario order), or -1. */
int sim_cluster_nmembers(const struct sim_world *w, int cluster);
int sim_cluster_member(const struct sim_world *w, int cluster, int k);
/* Hub Transport / Client Access servers of the cluster: count, k-th host index or -1. */
int sim_cluster_nhub_cas(const struct sim_world *w, int cluster);
int sim_cluster_hub_cas(const struct sim_world *w, int cluster, int k);
/*
 * Playbook gates the inventory acknowledges for this cluster, so unattended
 * runs pass them ("preflight.lab-tested", ...).  The scenario decides; a
 * scenario that says nothing gets the four SP1 gates: preflight.lab-tested,
 * preflight.backup-recent, preflight.users-informed, final.new-backup.
 * Count, and the k-th id (NULL out of range).
 */
int sim_cluster_nacknowledge(const struct sim_world *w, int cluster);
const char *sim_cluster_acknowledge(const struct sim_world *w, int cluster, int k);

#endif
