/*
 * sim_cmd_sc.c — the service control commands: sc query|qc|config|start|stop
 * with the texts and exit codes the Windows Server 2003 tool prints (net
 * start|stop: sim_cmd_net.c; how a service answers a stop: sim_svc.c).
 *
 * Starting and stopping take net_start / net_stop (scaled): the service sits
 * in START_PENDING / STOP_PENDING until then.  sc returns at once with the
 * pending state, as the real sc does; net waits and streams its dots.  The
 * transition belongs to the service, not the command, so an interrupted
 * "net stop" still stops the service.
 */
#include "sim_cmd_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const not_installed =
    "The specified service does not exist as an installed service.\n\n";

static int svc_shared(const struct sim_svc *s)
{
	return str_ieq(s->name, "SharedAccess") || str_ieq(s->name, "RemoteRegistry") ||
	       str_ieq(s->name, "SysmonLog");
}

static const char *svc_flags(enum sim_svc_state st)
{
	if (st == SIM_SVC_RUNNING || st == SIM_SVC_STOP_PENDING)
		return "(STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)";
	return "(NOT_STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)";
}

static void query_block(struct sim_action *a, const struct sim_svc *s, int pid)
{
	int shared = svc_shared(s);
	int code = s->state == SIM_SVC_STOPPED ? 1077 : 0;
	sim_act_out(a,
		    "\nSERVICE_NAME: %s\n"
		    "        TYPE               : %d  %s\n"
		    "        STATE              : %d  %s\n"
		    "                                %s\n"
		    "        WIN32_EXIT_CODE    : %d  (0x%x)\n"
		    "        SERVICE_EXIT_CODE  : 0  (0x0)\n"
		    "        CHECKPOINT         : 0x0\n"
		    "        WAIT_HINT          : %s\n",
		    s->name, shared ? 20 : 10, shared ? "WIN32_SHARE_PROCESS" : "WIN32_OWN_PROCESS",
		    (int)s->state, sim_svc_state_name(s->state), svc_flags(s->state), code,
		    (unsigned)code, s->state == SIM_SVC_RUNNING ? "0x0" : "0x7d0");
	if (pid)
		sim_act_out(a, "        PID                : %d\n        FLAGS              :\n",
			    1000 + (int)(strlen(s->name) * 37) % 3000);
}

static const char *binary_path(const struct sim_svc *s)
{
	if (svc_shared(s))
		return "C:\\WINDOWS\\system32\\svchost.exe -k netsvcs";
	if (str_ieq(s->name, "ClusSvc"))
		return "C:\\WINDOWS\\Cluster\\clussvc.exe";
	if (str_startswith(s->name, "MSExchange"))
		return "\"C:\\Program Files\\Microsoft\\Exchange Server\\Bin\\store.exe\"";
	return "C:\\WINDOWS\\system32\\svchost.exe -k netsvcs";
}

static void qc_block(struct sim_action *a, const struct sim_svc *s)
{
	int shared = svc_shared(s);
	sim_act_out(a,
		    "[SC] GetServiceConfig SUCCESS\n\n"
		    "SERVICE_NAME: %s\n"
		    "        TYPE               : %d  %s\n"
		    "        START_TYPE         : %d   %s\n"
		    "        ERROR_CONTROL      : 1   NORMAL\n"
		    "        BINARY_PATH_NAME   : %s\n"
		    "        LOAD_ORDER_GROUP   :\n"
		    "        TAG                : 0\n"
		    "        DISPLAY_NAME       : %s\n"
		    "        DEPENDENCIES       : %s\n",
		    s->name, shared ? 20 : 10, shared ? "WIN32_SHARE_PROCESS" : "WIN32_OWN_PROCESS",
		    (int)s->start, sim_svc_start_name(s->start), binary_path(s), s->display,
		    s->ndeps > 0 ? s->deps[0] : "RPCSS");
	for (int i = 1; i < s->ndeps; i++)
		sim_act_out(a, "                           : %s\n", s->deps[i]);
	sim_act_out(a, "        SERVICE_START_NAME : LocalSystem\n");
}

static void config_usage(struct sim_action *a)
{
	sim_act_out(a, "DESCRIPTION:\n"
		       "        Modifies a service entry in the registry and Service Database.\n"
		       "USAGE:\n"
		       "        sc <server> config [service name] <option1> <option2>...\n\n"
		       "OPTIONS:\n"
		       "NOTE: The option name includes the equal sign.\n"
		       "      A space is required between the equal sign and the value.\n"
		       " type= <own|share|interact|kernel|filesys|rec|adapt>\n"
		       " start= <boot|system|auto|demand|disabled>\n"
		       " error= <normal|severe|critical|ignore>\n"
		       " binPath= <BinaryPathName>\n"
		       " group= <LoadOrderGroup>\n"
		       " tag= <yes|no>\n"
		       " depend= <Dependencies(separated by / (forward slash))>\n"
		       " obj= <AccountName|ObjectName>\n"
		       " DisplayName= <display name>\n"
		       " password= <password>\n");
	sim_act_exit(a, 1639);
}

static void sc_usage(struct sim_action *a)
{
	sim_act_out(a, "DESCRIPTION:\n"
		       "        SC is a command line program used for communicating with the\n"
		       "        NT Service Controller and services.\n"
		       "USAGE:\n"
		       "        sc <server> [command] [service name] <option1> <option2>...\n\n"
		       "        Commands: query, qc, config, start, stop (this simulator)\n");
	sim_act_exit(a, 1639);
}

/* sc config NAME start= VALUE: every option must be "name=" followed by a separate value. */
static void sc_config(struct sim_action *a, struct sim_svc *s)
{
	int start = -1;
	for (int i = 3; i < a->argc; i += 2) {
		size_t n = strlen(a->argv[i]);
		if (n < 2 || a->argv[i][n - 1] != '=' || i + 1 >= a->argc) {
			config_usage(a);
			return;
		}
		if (!str_ieq(a->argv[i], "start="))
			continue;
		enum sim_svc_start st;
		if (sim_svc_start_parse(a->argv[i + 1], &st) != 0 ||
		    str_ieq(a->argv[i + 1], "AUTO_START") ||
		    str_ieq(a->argv[i + 1], "DEMAND_START")) {
			config_usage(a);
			return;
		}
		start = (int)st;
	}
	if (a->argc < 5) {
		config_usage(a);
		return;
	}
	if (start >= 0)
		s->start = (enum sim_svc_start)start;
	sim_act_out(a, "[SC] ChangeServiceConfig SUCCESS\n");
	sim_act_exit(a, 0);
}

static void sc_start(struct sim_action *a, struct sim_svc *s, int64_t at)
{
	if (s->start == SIM_START_DISABLED) {
		sim_act_out(a, "[SC] StartService FAILED 1058:\n\nThe service cannot be started, "
			       "either because it is disabled or because it has no enabled devices "
			       "associated with it.\n\n");
		sim_act_exit(a, 1058);
	} else if (s->state != SIM_SVC_STOPPED) {
		sim_act_out(a, "[SC] StartService FAILED 1056:\n\n"
			       "An instance of the service is already running.\n\n");
		sim_act_exit(a, 1056);
	} else {
		sim_svc_transition(s, SIM_SVC_START_PENDING, SIM_SVC_RUNNING,
				   at + sim_scaled(a->w, a->w->dur.net_start));
		query_block(a, s, 1);
		sim_act_exit(a, 0);
	}
}

static void sc_stop(struct sim_action *a, struct sim_svc *s, int64_t at)
{
	int code = sim_svc_stop_refusal(sim_act_host(a), s);
	if (code != 0) {
		sim_act_out(a, "[SC] ControlService FAILED %d:\n\n%s\n\n", code,
			    sim_svc_error_text(code));
		sim_act_exit(a, code);
		return;
	}
	sim_svc_begin_stop(a->w, s, at);
	query_block(a, s, 0);
	sim_act_exit(a, 0);
}

static void sc_query_all(struct sim_action *a)
{
	struct sim_host *h = sim_act_host(a);
	for (int i = 0; i < h->nsvcs; i++)
		if (h->svcs[i].state != SIM_SVC_STOPPED)
			query_block(a, &h->svcs[i], 0);
	sim_act_exit(a, 0);
}

void sim_cmd_sc(struct sim_action *a, int64_t at)
{
	if (a->argc < 2) {
		sc_usage(a);
		return;
	}
	const char *verb = a->argv[1];
	if (str_ieq(verb, "query") && a->argc == 2) {
		sc_query_all(a);
		return;
	}
	if (a->argc < 3) {
		sc_usage(a);
		return;
	}
	struct sim_svc *s = sim_svc_find(sim_act_host(a), a->argv[2]);
	int known = str_ieq(verb, "query") || str_ieq(verb, "qc") || str_ieq(verb, "config") ||
		    str_ieq(verb, "start") || str_ieq(verb, "stop");
	if (!known) {
		sc_usage(a);
		return;
	}
	if (s == NULL) {
		sim_act_out(a, "[SC] %sOpenService FAILED 1060:\n\n%s",
			    str_ieq(verb, "query") ? "EnumQueryServicesStatus:" : "",
			    not_installed);
		sim_act_exit(a, 1060);
	} else if (str_ieq(verb, "query")) {
		query_block(a, s, 0);
		sim_act_exit(a, 0);
	} else if (str_ieq(verb, "qc")) {
		qc_block(a, s);
		sim_act_exit(a, 0);
	} else if (str_ieq(verb, "config")) {
		sc_config(a, s);
	} else if (str_ieq(verb, "start")) {
		sc_start(a, s, at);
	} else {
		sc_stop(a, s, at);
	}
}
