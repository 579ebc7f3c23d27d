/*
 * sim_world_int.h — the world model behind sim.h, shared by the pure half of
 * ccrsim: the scenario loader (sim_scenario.c), the world and its clock
 * (sim_world.c, sim_cluster.c, sim_world_set.c), the command interpreter
 * (sim_cmd*.c, sim_action.c), faults (sim_fault.c) and the dump (sim_dump.c).
 *
 * Everything is indexed, never pointed to across arrays: hosts and clusters
 * live in growable arrays that the fleet builder reallocates.  Times are
 * milliseconds on the world clock; durations in struct sim_durations are
 * real-world (unscaled) and go through sim_scaled() when scheduled.
 *
 * Nothing here is part of the server's API: the server uses sim.h only.
 */
#ifndef CCR_SIM_WORLD_INT_H
#define CCR_SIM_WORLD_INT_H

#include <regex.h>
#include <stdint.h>

#include "sim.h"

#define SIM_NEVER INT64_MAX

/* Service states, numbered as sc.exe prints them. */
enum sim_svc_state {
	SIM_SVC_STOPPED = 1,
	SIM_SVC_START_PENDING = 2,
	SIM_SVC_STOP_PENDING = 3,
	SIM_SVC_RUNNING = 4,
};

/* Service start types, numbered as sc.exe prints them. */
enum sim_svc_start {
	SIM_START_AUTO = 2,
	SIM_START_DEMAND = 3,
	SIM_START_DISABLED = 4,
};

enum sim_role {
	SIM_ROLE_NODE,	 /* a CCR cluster node (mailbox role, clustered) */
	SIM_ROLE_HUBCAS, /* a non-clustered Hub Transport / Client Access server */
};

/* Clustered mailbox server states, as Get-ClusteredMailboxServerStatus prints them. */
enum sim_cms_state {
	SIM_CMS_ONLINE,
	SIM_CMS_OFFLINE,
	SIM_CMS_ONLINE_PENDING,
	SIM_CMS_OFFLINE_PENDING,
	SIM_CMS_FAILED,
	SIM_CMS_PARTIAL,
};

enum sim_fault_kind {
	SIM_FAULT_FAIL,
	SIM_FAULT_HANG,
	SIM_FAULT_DROP,
	SIM_FAULT_SLOW,
	SIM_FAULT_NO_RETURN,
	SIM_FAULT_NEW_HOSTKEY,
};

struct sim_svc {
	char *name;		   /* service name, e.g. "SharedAccess" */
	char *display;		   /* display name net.exe prints */
	enum sim_svc_state state;  /* current state */
	enum sim_svc_start start;  /* start type */
	enum sim_svc_state target; /* state reached at until (pending transitions) */
	int64_t until;		   /* world ms a pending transition completes, SIM_NEVER none */
	char **deps;		   /* services it depends on (sc qc's DEPENDENCIES), same host */
	int ndeps;		   /* count of deps */
	int64_t stop_hang;	   /* a stop stays STOP_PENDING this long (unscaled), 0: net_stop,
				      SIM_NEVER: never finishes */
	int refuse_stop;	   /* 0, or the error answering a stop control: 1052, 1061 */
};

/* Win32 errors of the service control manager (winerror.h). */
#define SIM_ERR_DEPENDENTS 1051 /* ERROR_DEPENDENT_SERVICES_RUNNING */
#define SIM_ERR_NOT_VALID  1052 /* ERROR_INVALID_SERVICE_CONTROL */
#define SIM_ERR_DISABLED   1058 /* ERROR_SERVICE_DISABLED */
#define SIM_ERR_NO_CONTROL 1061 /* ERROR_SERVICE_CANNOT_ACCEPT_CTRL */
#define SIM_ERR_NOT_ACTIVE 1062 /* ERROR_SERVICE_NOT_ACTIVE */

/* How often one normalised command line ran on a host. */
struct sim_count {
	char *cmd; /* "setup.com /m:upgrade" */
	int n;	   /* times run */
};

/* Windows Installer state of a host (sim_cmd_msi.c). */
struct sim_msi {
	char *installer;   /* Windows Installer version, "4.5" (scenario windows_installer) */
	char *arch;	   /* "x64" or "x86" */
	int *rollups;	   /* KB numbers of the installed update rollups, oldest first */
	int nrollups;	   /* count of rollups */
	int *interim;	   /* KB numbers of interim updates (hotfixes) left installed */
	int ninterim;	   /* count of interim */
	int64_t *rollup_s; /* install time of each rollup, Unix seconds */
	int offline;	   /* 1: no internet access (scenario internet: false): slow CRL checks */
	char *log_path;	   /* the last msiexec /l*v LOG path, or NULL */
	char *log;	   /* that log's text, or NULL */
};

struct sim_host {
	char *name;	       /* NetBIOS name, e.g. "NODE1" */
	char *addr;	       /* loopback IPv4 address it listens on */
	int port;	       /* SSH port */
	int http_port;	       /* HTTP (Client Access) port on addr, 0: serves no HTTP */
	int64_t http_requests; /* HTTP requests answered (the dump's http_requests) */
	enum sim_role role;    /* node or hubcas */
	int cluster;	       /* index of its cluster, -1 if none */
	char *binaries;	       /* Exchange binaries version, "8.0.685.25" */
	char *server_version;  /* AdminDisplayVersion of a hubcas, NULL on nodes */
	int os_sp;	       /* Windows service pack level */
	int net_sp;	       /* .NET 2.0 service pack, -1 when .NET 2.0 is absent */
	int pending_reboot;    /* 1: PendingFileRenameOperations is set */
	struct sim_svc *svcs;  /* services in scenario order */
	int nsvcs;	       /* count of svcs */
	int up;		       /* 1: booted and accepting connections */
	int64_t down_at;       /* world ms a scheduled restart takes it down, SIM_NEVER none */
	int64_t up_at;	       /* world ms a restarting host is back, SIM_NEVER none */
	int64_t reboot_ms;     /* scaled time the pending restart keeps it down */
	int restarting;	       /* 1: down because of a restart (comes back), 0: powered off */
	int stuck_fault;       /* id of the no-return fault holding it down, 0 none */
	int boot_epoch;	       /* increments on every boot */
	int64_t boot_s;	       /* last boot, seconds since the Unix epoch (the boot id) */
	int new_key;	       /* 1: present a new host key (fault), taken by the server */
	int watermark;	       /* setup stage a failed/interrupted setup stopped at, 0 none */
	int max_sessions;      /* sshd MaxSessions: session channels per connection */
	int dotnet_restart;    /* 1: the .NET installer exits 3010 and wants a restart */
	int64_t requests;      /* remote commands received: sim_exec calls (the dump's requests) */
	struct sim_count *counts;   /* per-command counters */
	int ncounts;		    /* count of counts */
	int ccounts;		    /* allocated counts */
	struct sim_regval *regvals; /* values written with `reg add` (outside the computed keys) */
	int nregvals;		    /* count of regvals */
	struct sim_msi msi; /* Windows Installer: version, architecture, rollups (sim_cmd_msi.c) */
};

/* Update rollup media the scenario provides (top-level `rollups`). */
struct sim_rollup {
	int kb;	       /* KB number, found in the .msp file name ("KB970162") */
	int number;    /* "Update Rollup N" */
	int sp;	       /* service pack it is built for: the binaries' minor version */
	char *version; /* binaries version once installed */
	char *arch;    /* "x64" or "x86" */
	int restart;   /* 1: needs a restart (exit 3010 with /norestart) */
};

/* A registry value written with `reg add` (a run marker, say): stored as given. */
struct sim_regval {
	char *key;  /* normalised key, "HKEY_LOCAL_MACHINE\SOFTWARE\ccrup" */
	char *name; /* value name */
	char *type; /* REG_SZ, REG_DWORD, ... as given */
	char *data; /* data as given */
};

/* One storage group's passive copy. */
struct sim_sg {
	char *name;	     /* "First Storage Group" */
	char *database;	     /* "Mailbox Database" */
	char *status;	     /* SummaryCopyStatus while not drained: Healthy, Initializing, ... */
	int64_t queue;	     /* copy queue length at drain_start */
	int64_t replay;	     /* replay queue length */
	int64_t drain_start; /* world ms the queue started draining */
	int64_t drain_end;   /* world ms it reaches 0 and turns Healthy, SIM_NEVER: never */
};

/* One interval during which the CMS was not Online. */
struct sim_outage {
	int64_t start; /* world ms it went down */
	int64_t end;   /* world ms it came back, -1 while still down */
};

struct sim_cluster {
	char *name;		    /* "CLUS1" */
	char *cms;		    /* clustered mailbox server name, "E2K7CCR" */
	char *cms_version;	    /* "8.0.685.25" */
	int owner;		    /* host index of the CMS owner */
	enum sim_cms_state state;   /* CMS state */
	int members[2];		    /* host indexes of the two CCR nodes */
	int *hubcas;		    /* host indexes of the HT/CAS servers */
	int nhubcas;		    /* count of hubcas */
	int group_owner;	    /* host index owning "Cluster Group" */
	int group_online;	    /* 1: Cluster Group online */
	int cms_key;		    /* 1: HKLM\SOFTWARE\Microsoft\Exchange\v8.0\CMS present */
	int64_t backup_s;	    /* last full backup, Unix seconds, -1 none */
	struct sim_sg *sgs;	    /* storage groups */
	int nsgs;		    /* count of sgs */
	struct sim_outage *outages; /* CMS outage intervals, oldest first */
	int noutages;		    /* count of outages */
	int64_t cms_due;	    /* world ms a pending CMS start completes, SIM_NEVER none */
	int restart_on_boot;	    /* 1: CMS went down with its owner; restart it when back */
	char *failed_resource;	    /* FailedResources entry when Failed, NULL otherwise */
	char **ack;		    /* playbook gates the generated inventory acknowledges */
	int nack;		    /* count of ack */
};

struct sim_durations {
	int64_t setup;	      /* setup.com /m:upgrade */
	int64_t upgrade_cms;  /* setup.com /UpgradeCMS */
	int64_t dotnet;	      /* the .NET 2.0 SP1 installer */
	int64_t reboot;	      /* down time of a restart */
	int64_t reboot_down;  /* from shutdown /r to going down */
	int64_t cms_stop;     /* Stop-ClusteredMailboxServer */
	int64_t cms_start;    /* Start-ClusteredMailboxServer and restarts */
	int64_t cms_move;     /* Move-ClusteredMailboxServer */
	int64_t failover;     /* unplanned failover of the CMS */
	int64_t catchup;      /* replication catch-up after a restart */
	int64_t net_stop;     /* net stop / sc stop */
	int64_t net_start;    /* net start / sc start */
	int64_t net_wait;     /* how long net stop waits for a stopping service */
	int64_t cluster_move; /* cluster group /move */
	int64_t ems_startup;  /* loading the Exchange Management Shell */
	int64_t rollup;	      /* msiexec /update of an update rollup */
	int64_t prepare;      /* setup.com /PrepareSchema or /PrepareAD */
	int64_t crl_check;    /* a rollup's extra time on a host without internet access */
};

struct sim_fault {
	int id;	     /* unique, from 1 */
	char *host;  /* host name or "*" */
	char *match; /* substring or ERE of the command, NULL: any */
	regex_t re;  /* compiled match when has_re */
	int has_re;  /* 1: match compiled as an ERE */
	int nth;     /* fire on the nth matching call per host, 0: every call */
	enum sim_fault_kind kind;
	int exit_code;	     /* fail: exit status */
	char *message;	     /* fail: text on stderr */
	int64_t after_bytes; /* drop: bytes before the connection is closed */
	int64_t delay_ms;    /* slow: delay before each output chunk */
	int count;	     /* times it may fire, 0 unlimited */
	int fired;	     /* times it fired */
	int *calls;	     /* matching calls per host index (nhosts) */
};

/* What a scheduled event does (sim_event.c). */
enum sim_event_do {
	SIM_EV_SET,	  /* a world field, as ctl set */
	SIM_EV_REBOOT,	  /* restart the host (shutdown /r's timing) */
	SIM_EV_CRASH,	  /* the host goes down at once, back after `reboot` */
	SIM_EV_POWER_OFF, /* down until powered on */
	SIM_EV_POWER_ON,  /* boots now */
	SIM_EV_FAILOVER,  /* the CMS fails over as the cluster does, or stays Failed */
};

struct sim_event {
	int id;			/* unique, from 1 */
	int64_t at;		/* timed: world ms it fires, SIM_NEVER for command events */
	char *on;		/* command events: substring or ERE of the command */
	regex_t re;		/* compiled on when has_re */
	int has_re;		/* 1: on compiled as an ERE */
	char *on_host;		/* only commands run on this host, NULL/"*": any */
	int after;		/* 1: after the command finished, 0: before it runs */
	int nth;		/* fire on the nth matching command (all hosts), 0: each */
	int count;		/* times it may fire (timed: 1), 0 unlimited */
	int calls;		/* matching commands seen */
	int fired;		/* times it fired */
	int failed;		/* set events whose set was refused */
	int64_t last_ms;	/* world ms it last fired */
	enum sim_event_do what; /* the action */
	char *host;		/* target: host, CLUSTER.cms_owner, CLUSTER.passive */
	char *cluster;		/* failover: the cluster */
	char *path, *value;	/* set: the field and its value */
};

struct sim_world {
	double scale;		      /* time scale, >= 0 */
	int64_t clock_s;	      /* wall clock (Unix seconds) at world time 0 */
	char *domain;		      /* AD domain, "contoso.com" */
	char *winrm_user;	      /* WinRM (Basic) account, scenario winrm.user */
	char *winrm_password;	      /* its password, scenario winrm.password */
	char *media_version;	      /* version setup.com installs */
	int64_t max_copy_queue;	      /* Move-ClusteredMailboxServer threshold */
	int64_t reboot_backlog;	      /* copy queue after a node restart */
	struct sim_durations dur;     /* real-world durations */
	struct sim_host *hosts;	      /* hosts in scenario order (fleet: copy-major) */
	int nhosts;		      /* count of hosts */
	struct sim_cluster *clusters; /* clusters */
	int nclusters;		      /* count of clusters */
	struct sim_fault *faults;     /* active faults */
	int nfaults;		      /* count of faults */
	int next_fault_id;	      /* id of the next fault added */
	struct sim_event *events;     /* scheduled events */
	int nevents;		      /* count of events */
	int next_event_id;	      /* id of the next event added */
	int64_t last_tick;	      /* world ms events were applied up to */
	struct sim_rollup *rollups;   /* update rollup media (scenario `rollups`) */
	int nrollups;		      /* count of rollups */
	char *org_name;		      /* Exchange organisation, "First Organization" */
	char *schema_version;	      /* version whose /PrepareSchema ran last */
	char *ad_version;	      /* version whose /PrepareAD ran last */
};

/* sim_world.c: lifecycle, lookups, versions, clock text. */
struct sim_world *sim_world_new(double scale);
int64_t sim_scaled(const struct sim_world *w, int64_t ms);
struct sim_svc *sim_svc_find(const struct sim_host *h, const char *name);
struct sim_svc *sim_svc_add(struct sim_host *h, const char *name);
const char *sim_svc_display(const char *name);
/* Record that s depends on the service named dep (no duplicates). */
void sim_svc_add_dep(struct sim_svc *s, const char *dep);
/* 1 if s depends directly on the service named name. */
int sim_svc_depends_on(const struct sim_svc *s, const char *name);
/* 1 if code is a valid refuse_stop: 0, 1052 or 1061. */
int sim_svc_refusal_valid(int code);
int sim_cluster_by_name(const struct sim_world *w, const char *name);
int sim_cluster_by_cms(const struct sim_world *w, const char *cms);
int sim_other_member(const struct sim_cluster *c, int host);
int sim_is_member(const struct sim_cluster *c, int host);
/* Parse "a.b.c.d" (1-4 parts).  0 or -1. */
int sim_ver_parse(const char *s, int v[4]);
/* Compare two dotted versions like strcmp (unparsable sorts first). */
int sim_ver_cmp(const char *a, const char *b);
/* US-style "11/21/2026 10:20:00 AM" for Unix seconds. */
void sim_us_time(int64_t unix_s, char *buf, size_t len);
int64_t sim_world_unix(const struct sim_world *w, int64_t now);
const char *sim_cms_state_name(enum sim_cms_state st);
int sim_cms_state_parse(const char *s, enum sim_cms_state *st);
int sim_svc_state_parse(const char *s, enum sim_svc_state *st);
int sim_svc_start_parse(const char *s, enum sim_svc_start *st);
const char *sim_svc_state_name(enum sim_svc_state st);
const char *sim_svc_start_name(enum sim_svc_start st);

/* sim_cluster.c: CMS state, outages, failover, restarts, replication. */
void sim_cms_set_state(struct sim_world *w, struct sim_cluster *c, enum sim_cms_state st,
		       int64_t at);
/* 1 if host may run the CMS now (up, Cluster service running, binaries match). */
int sim_cms_can_host(const struct sim_world *w, const struct sim_cluster *c, int host);
/* A node takes part in the cluster: booted, not going down, Cluster service running. */
int sim_node_in_cluster(const struct sim_world *w, int host);
/* The CMS's resources failed (FailedResources names the store). */
void sim_cms_fail(struct sim_world *w, struct sim_cluster *c, int64_t at);
/* Online Pending now; the world brings it Online (or Failed, rule 8) after delay. */
void sim_cms_begin_online(struct sim_world *w, struct sim_cluster *c, int64_t at, int64_t delay);
/* Bring the CMS online on its owner (rule 8) or leave it Failed.  Returns 0 or -1. */
int sim_cms_try_online(struct sim_world *w, struct sim_cluster *c, int64_t at);
/* The node stops taking part in the cluster (restart, Cluster service stopped). */
void sim_node_leave(struct sim_world *w, int host, int64_t at);
void sim_node_join(struct sim_world *w, int host, int64_t at);
/* Schedule a restart: down after reboot_down, back after reboot. */
void sim_host_schedule_reboot(struct sim_world *w, int host, int64_t at);
void sim_host_down(struct sim_world *w, int host, int64_t at);
void sim_host_boot(struct sim_world *w, int host, int64_t at);
void sim_repl_restart(struct sim_world *w, struct sim_cluster *c, int64_t at);
int64_t sim_sg_queue(const struct sim_sg *sg, int64_t now);
const char *sim_sg_status(const struct sim_world *w, const struct sim_cluster *c,
			  const struct sim_sg *sg, int64_t now);
int64_t sim_outage_total(const struct sim_cluster *c, int64_t now);
/* 1 if the CMS is stranded: both nodes ahead of the CMS and the v8.0\CMS key present. */
int sim_cms_trapped(const struct sim_world *w, const struct sim_cluster *c);
void sim_svc_transition(struct sim_svc *s, enum sim_svc_state via, enum sim_svc_state to,
			int64_t until);

/* sim_svc.c: how a service answers a stop control (docs/ccrsim.md, Services with behaviour). */
/* The winerror.h text of a service control error. */
const char *sim_svc_error_text(int code);
/* 1 if a service that depends on s is not stopped. */
int sim_svc_has_dependents(const struct sim_host *h, const struct sim_svc *s);
/* 0 if a stop control is accepted now, else its error: 1062 not started, 1061 pending or
 * refused by the service, 1051 dependents running, 1052 not stoppable. */
int sim_svc_stop_refusal(const struct sim_host *h, const struct sim_svc *s);
/* STOP_PENDING now, STOPPED after stop_hang (or net_stop), or never. */
void sim_svc_begin_stop(struct sim_world *w, struct sim_svc *s, int64_t at);
/* 1 if s is stopped at world time at (a stop due by then counts). */
int sim_svc_stopped_by(const struct sim_svc *s, int64_t at);
/* Index of a not-stopped (transitive) dependent of service s with no not-stopped
 * dependents itself, or -1: the next one net stop /y stops. */
int sim_svc_next_dependent(const struct sim_host *h, int s);
/* seen[i] = 1 for every not-stopped transitive dependent i of s (seen: nsvcs ints). */
void sim_svc_dependents(const struct sim_host *h, int s, int *seen);

/* Compare the service packs (major.minor) of two versions like strcmp. */
int sim_ver_sp_cmp(const char *a, const char *b);

/* sim_cmd_msi.c: Windows Installer state, update rollups, organisation state. */
void sim_msi_release(struct sim_msi *m);
void sim_world_org_release(struct sim_world *w);
/* New binaries from a service pack: the old rollups are part of it and leave the list. */
void sim_msi_sp_installed(struct sim_host *h);
json_t *sim_msi_json(const struct sim_world *w, const struct sim_host *h);
json_t *sim_org_json(const struct sim_world *w);

/* sim_event.c */
void sim_event_free_all(struct sim_world *w);
/* Earliest timed event not yet fired, or SIM_NEVER. */
int64_t sim_event_next(const struct sim_world *w);
/* Fire the timed events due by t. */
void sim_event_tick(struct sim_world *w, int64_t t);
/* Fire the command events matching a command on host: after 0 = before it runs, 1 = after. */
void sim_event_on_command(struct sim_world *w, int host, const char *line, const char *key,
			  int after, int64_t now);
json_t *sim_event_json(const struct sim_event *e);

/* sim_fault.c */
struct sim_action;
void sim_fault_shape(struct sim_world *w, int host, const char *line, const char *key,
		     struct sim_action *a);
int sim_fault_no_return(struct sim_world *w, int host);
int sim_fault_alive(const struct sim_world *w, int id);
void sim_fault_on_boot(struct sim_world *w, int host);
void sim_fault_free_all(struct sim_world *w);
json_t *sim_fault_json(const struct sim_fault *f);

#endif
