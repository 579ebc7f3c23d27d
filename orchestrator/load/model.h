/*
 * model.h — the typed, validated model of a playbook and an inventory.
 *
 * The loaders (playbook.c, inventory.c) turn YAML into these structs and
 * refuse anything they do not understand; everything downstream (plan,
 * runner, report) reads the model and never the YAML.  After a successful
 * load the model is immutable and owned by its root object: free it with
 * playbook_free() / inventory_free(); every pointer inside is borrowed.
 *
 * Nothing here knows about Exchange: a CCR upgrade is one playbook among
 * others (playbooks/ccr-sp1.yml).  Key-by-key documentation for users is in
 * docs/playbook.md and docs/inventory.md.
 */
#ifndef CCR_MODEL_H
#define CCR_MODEL_H

#include <regex.h>
#include <stdint.h>

#include "diag.h"
#include "expr.h"

/* Where a value came from, for FILE:LINE:COL errors.  file is borrowed from the root. */
struct src_loc {
	const char *file; /* path as given by the user */
	int line;	  /* 1-based */
	int col;	  /* 1-based */
};

/*
 * Kinds of substituted values.  Every value that lands in a command is
 * checked against its kind's pattern (var_kind_check); a value that does
 * not fit is an input error, never quoted around.
 */
enum var_kind {
	VK_NAME, /* host / NetBIOS / DNS name: [A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)*, <= 253 */
	VK_SERVICE, /* Windows or systemd service name: [A-Za-z0-9_.@-]{1,80} */
	VK_PATH,    /* C:\dir\file or /dir/file: letters, digits, space, _ . - \ / ( ) only */
	VK_VERSION, /* dotted numbers: 8.1.240.6 */
	VK_INT,	    /* decimal integer */
	VK_WORD,    /* [A-Za-z0-9_.-]+ */
	VK_TEXT,    /* words and spaces: [A-Za-z0-9 _.,:()-]*, <= 200 */
	VK_URL,	    /* http(s)://host[:port][/path]; empty allowed */
	VK_ENUM,    /* one of var_def.values */
	VK_RAW,	    /* playbook-only command fragment; an inventory may not set it */
	VK_PACKAGE, /* package name and/or version: empty, or [A-Za-z0-9][A-Za-z0-9.+_:~=-]*, <= 200
		     */
	VK_DN, /* LDAP distinguished name: ATTR=VALUE[,ATTR=VALUE...], values [A-Za-z0-9 _.-] */
};

/* Playbook variable declaration ("vars:"). */
struct var_def {
	char *name;	    /* identifier */
	enum var_kind kind; /* validation pattern for every value */
	int is_list;	    /* 1: the value is a list (used by for_each) */
	char **values;	    /* VK_ENUM: allowed values */
	int nvalues;	    /* count of values */
	char *def;	    /* scalar default, NULL when required */
	char **def_list;    /* list default (is_list) */
	int ndef_list;	    /* count of def_list; -1 when no default */
	char *doc;	    /* one-line description, may be NULL */
	struct src_loc loc; /* the key */
};

/* A read-only command probe: run, then match expect against stdout+stderr. */
struct probe {
	char *run;	    /* command template (may contain ${var}) */
	char *expect;	    /* POSIX ERE source; NULL: exit status decides */
	regex_t expect_re;  /* compiled expect (REG_EXTENDED|REG_NEWLINE) */
	int *exit_codes;    /* acceptable exits; NULL with expect: any; NULL without: {0} */
	int nexit;	    /* count of exit_codes */
	char *pending;	    /* verify only: ERE; while the output matches, the step waits
			       (up to verify_within) instead of failing; NULL: always waits */
	regex_t pending_re; /* compiled pending */
	struct src_loc loc; /* the mapping */
};

/* check / verify / ready: either an expression over facts or a probe (exactly one set). */
struct cond {
	struct expr *expr;   /* NULL or parsed expression */
	struct probe *probe; /* NULL or probe */
	struct src_loc loc;  /* the key's value */
};

enum fact_scope { FACT_NODE, FACT_CLUSTER };
/* Playbook `shell:`: how the hosts' command line joins several probes into one remote
 * command (run/batch.h).  NONE: every probe is its own remote command. */
enum pb_shell { PB_SHELL_NONE = 0, PB_SHELL_CMD, PB_SHELL_SH };
enum fact_reduce { REDUCE_FIRST, REDUCE_LAST, REDUCE_COUNT, REDUCE_MAX, REDUCE_MIN, REDUCE_WORST };

/* A named read-only probe whose captured value expressions can use ("facts:"). */
struct fact_def {
	char *name;		 /* identifier */
	char *doc;		 /* may be NULL */
	enum fact_scope scope;	 /* node: per host; cluster: any member, shared */
	char *run;		 /* command template */
	char *json;		 /* JSON path template (load/jpath.h) over the output, or NULL */
	char *capture;		 /* ERE with groups, matched per line/occurrence; NULL only
				    with json (each selected value whole) */
	regex_t capture_re;	 /* compiled capture */
	char *value;		 /* "$1.$2" template over groups; NULL = group 1 (or whole match) */
	enum fact_reduce reduce; /* how several matches combine */
	char **order;		 /* REDUCE_WORST: values from worst to best */
	int norder;		 /* count of order */
	char *def;		 /* value when no match or non-zero exit; NULL = error */
	struct src_loc loc;	 /* the key */
};

enum role_assume { ASSUME_NONE, ASSUME_DECLARED, ASSUME_OTHERS };

/*
 * How many candidates a role takes: exactly one (the default), the first or
 * the last of those where `where` holds (in group order), or all of them.
 */
enum role_select { SELECT_ONE, SELECT_FIRST, SELECT_LAST, SELECT_ALL };

/* A role bound to its host(s) when the run starts ("roles:"). */
struct role_def {
	char *name;		 /* identifier, usable as ${name} and ROLE.FACT (not SELECT_ALL) */
	char *doc;		 /* may be NULL */
	char *from;		 /* group the candidates come from (members, hub_cas, ...) */
	struct expr *where;	 /* true for exactly one candidate; `node` is the candidate */
	enum role_select select; /* one, first, last or all of the candidates */
	enum role_assume assume; /* offline plan: declared active host, or the other members */
	struct src_loc loc;
};

enum reboot_when { REBOOT_NEVER, REBOOT_ALWAYS, REBOOT_ON_EXIT };

struct reboot_spec {
	enum reboot_when when;	 /* REBOOT_NEVER when the step has no reboot: */
	int *exit_codes;	 /* REBOOT_ON_EXIT: exits that mean "reboot now" */
	int nexit;		 /* count of exit_codes */
	int64_t down_timeout_ms; /* budget for the node to go down (boot id change starts) */
	int64_t up_timeout_ms;	 /* budget for SSH + ready to come back */
	struct cond ready;	 /* must hold after the reboot; expr/probe may both be NULL */
};

/* Capture a value before the step changes it, for a later restore ("record:"). */
struct record_spec {
	char *as;	    /* name; expressions read it as saved.<as> */
	char *fact;	    /* take this fact's value, or NULL to use run+capture */
	char *run;	    /* command template */
	char *capture;	    /* ERE, group 1 is the value */
	regex_t capture_re; /* compiled capture */
	char *def;	    /* value when nothing matches; NULL = error */
	struct src_loc loc;
};

/* Poll facts until an expression holds ("wait:"). */
struct wait_spec {
	struct expr *until;  /* condition */
	int64_t timeout_ms;  /* fail after this */
	int64_t interval_ms; /* between polls */
	struct src_loc loc;
};

/* An HTTP health check run from the orchestrator host ("http_check:"). */
struct http_check_spec {
	char *url;	    /* template */
	int *status;	    /* acceptable statuses */
	int nstatus;	    /* count */
	char *body;	    /* ERE the body must match, or NULL */
	regex_t body_re;    /* compiled body */
	char *json;	    /* path template (load/jpath.h) over a JSON body, or NULL */
	char *value;	    /* ERE every selected value must match, or NULL (json only) */
	regex_t value_re;   /* compiled value */
	int count;	    /* values the path must select; -1: at least one */
	int64_t timeout_ms; /* per attempt */
	int retries;	    /* further attempts */
	int insecure;	    /* 1: skip TLS verification (explicit opt-out) */
	struct src_loc loc;
};

enum outage_mark { OUTAGE_NONE, OUTAGE_BEGINS, OUTAGE_ENDS, OUTAGE_WITHIN };

/* One step.  Sequences are inlined by the loader: a phase's steps are final. */
struct step_def {
	char *id;		     /* unique within its phase; full id is "<phase>.<id>" */
	char *name;		     /* template (may use ${item}) */
	char *why;		     /* shown in guided mode; may be NULL */
	char *on;		     /* role or group overriding the phase's, or NULL */
	char *for_each;		     /* list variable to iterate (${item}), or NULL */
	struct expr *when;	     /* NULL or applicability condition */
	struct expr **require;	     /* preconditions, all must hold */
	struct src_loc *require_loc; /* location of each require */
	int nrequire;		     /* count */
	char *explain;		     /* printed when a require refuses; may be NULL */
	struct cond check;	     /* effect already there -> skip */
	struct cond verify;	     /* after run; failure = step failed */
	int64_t verify_within_ms;    /* verify may take this long to hold (re-evaluated), 0: once */
	char *run;		     /* command template, NULL for gate/check/wait/http steps */
	int *ok_exit;		     /* acceptable exits (default {0}) */
	int nok_exit;		     /* count */
	int64_t timeout_ms;	     /* 0 = inventory's ssh.command_timeout */
	int retries;		     /* further attempts after a failed run */
	int64_t retry_delay_ms;	     /* first backoff, doubled each time */
	int idempotent;		     /* 1: safe to run again after a crash mid-run */
	struct reboot_spec reboot;   /* reboot handling */
	struct record_spec *record;  /* NULL or record */
	struct wait_spec *wait;	     /* NULL or wait */
	struct http_check_spec *http; /* NULL or HTTP check */
	char *gate;		      /* question a human confirms, or NULL */
	enum outage_mark outage;      /* outage window marker */
	int point_of_no_return;	      /* 1 on the step that commits the upgrade */
	int prepares;		      /* 1: only prepares the later steps of its phase; not
					 needed when none of them has anything to do */
	int64_t estimate_ms;	      /* planned duration, 0 if not given */
	char *from_sequence;	      /* name of the sequence it came from, or NULL */
	struct src_loc loc;	      /* the step's mapping */
};

struct phase_def {
	char *id;	       /* unique */
	char *name;	       /* human title */
	char *on;	       /* role or group */
	char *for_each;	       /* group: run all steps host by host, or NULL */
	struct expr *when;     /* NULL or applicability */
	struct expr **require; /* checked before every step of the phase */
	struct src_loc *require_loc;
	int nrequire;
	char *explain;		/* printed when a phase require refuses */
	struct step_def *steps; /* in order, sequences inlined */
	int nsteps;
	struct src_loc loc;
};

/*
 * A run marker kept on the cluster itself (as Cluster-Aware Updating does),
 * so that two operators with two state directories cannot upgrade the same
 * cluster at once: every host of group `on` holds it.  The commands are the
 * playbook's; the runner only puts its marker text in ${marker} of `take`.
 */
struct marker_def {
	char *doc;	    /* may be NULL */
	char *on;	    /* group whose hosts hold the marker ("members") */
	char *read;	    /* prints the marker; exit != 0 or no capture: none */
	char *capture;	    /* ERE whose group 1 is the marker's text */
	regex_t capture_re; /* compiled capture */
	char *take;	    /* writes ${marker} */
	char *release;	    /* removes it */
	struct src_loc loc;
};

struct playbook {
	char *path;	      /* as given; every src_loc.file points here */
	char *name;	      /* "playbook:" */
	char *description;    /* may be NULL */
	char *service_name;   /* service: name -- what the outage takes down; may be NULL */
	char *outage_impact;  /* service: impact -- what users lose meanwhile; may be NULL */
	char *version_fact;   /* version: fact -- each node's version (node-scoped); may be NULL */
	char *version_target; /* version: target -- the var naming the version to reach */
	char *version_on;     /* version: on -- the group whose hosts are listed ("members") */
	char *service_label;  /* service: label -- the word shown before the inventory's `cms:`
				 name in plans and reports ("CMS"); may be NULL ("service") */
	int format;	      /* 1 */
	enum pb_shell shell;  /* shell: -- probes batched into one remote command, or NONE */
	struct var_def *vars;
	int nvars;
	struct fact_def *facts;
	int nfacts;
	char *boot_id_fact;   /* fact that changes on reboot; required if any step reboots */
	char *reboot_command; /* command that restarts a host ("shutdown /r /t 0"); required
				 if any step reboots */
	struct role_def *roles;
	int nroles;
	struct phase_def *phases;
	int nphases;
	struct marker_def *marker; /* marker:, or NULL (no marker on the cluster) */
	char sha256[65];	   /* of the file's bytes */
};

/* A scalar or list value set in an inventory (cluster or host vars). */
struct inv_value {
	char *key;
	char *value; /* scalar, or NULL for a list */
	char **list; /* list items */
	int nlist;
	int is_list;
	struct src_loc loc;	  /* the value */
	struct src_loc key_loc;	  /* the key (added for model_validate's errors) */
	struct src_loc *list_loc; /* each list item's location, nlist entries, or NULL */
};

/* How a host is reached (inventory `transport`). */
enum host_transport { TRANSPORT_SSH = 0, TRANSPORT_WINRM };

/* WinRM settings of a host (docs/inventory.md, WinRM; docs/winrm.md). */
struct winrm_def {
	int port;		      /* winrm_port; 0: 5986 (https) / 5985 (http) */
	int https;		      /* winrm_scheme: 1 https (default), 0 http */
	char *user;		      /* winrm_user, or NULL: the host's user */
	char *password_file;	      /* winrm_password_file (~ expanded at use), or NULL */
	char *password_env;	      /* winrm_password_env: variable holding it, or NULL */
	char *ca_file;		      /* winrm_ca_file, or NULL: the system store */
	char *server_name;	      /* winrm_server_name: certificate name, or NULL: address */
	int auth;		      /* winrm_auth: 0 basic, 1 ntlm, 2 negotiate */
	int allow_unencrypted;	      /* winrm_allow_unencrypted: permit http */
	int64_t operation_timeout_ms; /* winrm_operation_timeout; default 20 s */
	struct src_loc loc;	      /* where transport: winrm was decided (for errors) */
};

struct host_def {
	char *name;	/* NetBIOS/DNS-safe name, unique */
	char *address;	/* DNS name or IP; defaults to name */
	int port;	/* defaults.port or 22 */
	char *user;	/* defaults.user or NULL (ssh config / current user) */
	char *identity; /* key file, ~ expanded at use; may be NULL (agent, ssh config) */
	enum host_transport transport; /* ssh (default) or winrm */
	struct winrm_def winrm;	       /* used when transport is winrm */
	struct inv_value *vars;
	int nvars;
	struct src_loc loc;
};

struct host_group {
	char *name;   /* members, hub_cas, or a name from groups: */
	char **hosts; /* host names, each defined in hosts: */
	int nhosts;
	struct src_loc loc;
};

struct cluster_def {
	char *name;		   /* cluster name, unique; names its state directory */
	char *cms;		   /* exposed as ${cms}; may be NULL for non-Exchange playbooks */
	char *active;		   /* declared active member (offline plan), or NULL */
	struct host_group *groups; /* groups[0] is always "members" */
	int ngroups;
	struct inv_value *vars;
	int nvars;
	char **acknowledge; /* gate step ids ("phase.step") acknowledged for unattended runs */
	int nacknowledge;
	struct src_loc *acknowledge_loc; /* each acknowledge item's location */
	struct src_loc loc;
};

enum notify_kind { NOTIFY_WEBHOOK, NOTIFY_SLACK, NOTIFY_TEAMS };

struct notify_def {
	char *name;
	enum notify_kind kind;
	char *url;
	char **events; /* subset of run-start phase-start outage-start outage-end step-failed
			  run-end; NULL = all */
	int nevents;
	int64_t timeout_ms;
	int retries;
	int insecure; /* 1: TLS verification off (explicit opt-out) */
	struct src_loc loc;
};

struct ssh_settings {
	char *known_hosts;	    /* default ~/.ssh/known_hosts */
	int64_t connect_timeout_ms; /* default 10 s */
	int64_t command_timeout_ms; /* default 10 min */
	int64_t keepalive_ms;	    /* default 30 s */
};

/* state: where journals and locks live when shared (docs/state.md).  No password here. */
struct state_def {
	char *url; /* "etcd://E1,E2/PREFIX" built from endpoints and prefix (etcds:// with TLS) */
	char *ca_file;	     /* or NULL */
	char *cert_file;     /* or NULL */
	char *key_file;	     /* or NULL */
	char *user;	     /* or NULL */
	char *password_file; /* or NULL */
	char *password_env;  /* or NULL */
	int lease_ttl_s;     /* 0: default */
	struct src_loc loc;  /* of the state: key */
};

struct nameidx;

struct inventory {
	char *path;
	char *name;
	struct ssh_settings ssh;
	struct host_def *hosts;
	int nhosts;
	struct cluster_def *clusters;
	int nclusters;
	struct notify_def *notify;
	int nnotify;
	struct state_def *state; /* NULL: no state: block */
	char sha256[65];
	/* Of the inventory less its connection-only settings (ssh:, and each host's and the
	   defaults' address, port, user, identity, transport and winrm_*): what a resumed run
	   compares, so fixing a key path or an address is not a changed plan. */
	char plan_sha256[65];
	struct nameidx *host_index;    /* host name -> index in hosts; NULL: scan */
	struct nameidx *cluster_index; /* cluster name -> index in clusters; NULL: scan */
};

/* Upper bounds the loaders enforce (a bigger file is refused, not a crash). */
#define MODEL_MAX_FILE_BYTES (8u << 20) /* 8 MiB */
#define MODEL_MAX_DEPTH	     32		/* YAML nesting */
#define MODEL_MAX_NODES	     2000000	/* YAML nodes per file */

/*
 * Load and validate a playbook.  Returns the model, or NULL after adding
 * every error found (up to DIAG_MAX) to d.  Caller owns the result.
 */
struct playbook *playbook_load(const char *path, struct diag *d);
void playbook_free(struct playbook *pb);

/* Same for an inventory. */
struct inventory *inventory_load(const char *path, struct diag *d);
void inventory_free(struct inventory *inv);

/*
 * Check an inventory against a playbook: every cluster var is declared by
 * the playbook and fits its kind, required vars are set, roles' groups exist
 * in every cluster, acknowledged gates exist.  Errors point into the
 * inventory (or the playbook).  Returns 0 when clean, -1 after adding errors.
 */
int model_validate(const struct playbook *pb, const struct inventory *inv, struct diag *d);

/* Lookups; NULL when absent. */
const struct var_def *playbook_var(const struct playbook *pb, const char *name);
const struct fact_def *playbook_fact(const struct playbook *pb, const char *name);
const struct role_def *playbook_role(const struct playbook *pb, const char *name);
const struct host_def *inventory_host(const struct inventory *inv, const char *name);
const struct cluster_def *inventory_cluster(const struct inventory *inv, const char *name);
const struct host_group *cluster_group(const struct cluster_def *c, const char *name);
const struct inv_value *cluster_var(const struct cluster_def *c, const char *name);
/* The word shown before a cluster's `cms:` name: service: label, else "service" (pb may be NULL).
 */
const char *playbook_service_label(const struct playbook *pb);

/* Does value fit the kind (and, for VK_ENUM, one of def->values)?  1 yes, 0 no. */
int var_kind_check(enum var_kind kind, const struct var_def *def, const char *value);
const char *var_kind_name(enum var_kind kind);

#endif
