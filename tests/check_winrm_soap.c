/*
 * check_winrm_soap.c — the WinRM SOAP on both sides, without sockets:
 * ccrup's request builders and reply parser (orchestrator/xport/winrm_soap.c)
 * against ccrsim's request parser and shell handler
 * (mock-nodes/server/sim_winrm_shell.c), each checked against the other and
 * against literal messages shaped as Windows sends them: headers (MaxEnvelopeSize,
 * OperationTimeout, Locale, ResourceURI, Action, SelectorSet), options
 * (WINRS_NOPROFILE, WINRS_CODEPAGE, WINRS_SKIP_CMD_SHELL), escaping of command
 * lines, base64 streams, CommandState Done with ExitCode, faults (timeout
 * 2150858793, unknown shell 2150858843, unsupported action), and a whole
 * Create / Command / Receive / Signal / Delete sequence on a simulated node.
 * The wire is tested by tests/integration/winrm.sh (with pywinrm).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim_winrm_int.h"
#include "util.h"
#include "winrm_soap.h"

#define TWO_NODE "mock-nodes/scenarios/two-node.yml"

static struct wsman_hdr hdr(const char *shell)
{
	struct wsman_hdr h = {.to = "https://127.0.0.1:5986/wsman",
			      .shell_id = shell,
			      .max_envelope_size = 153600,
			      .operation_timeout_ms = 20000,
			      .locale = "en-US"};
	return h;
}

START_TEST(b64)
{
	static const struct {
		const char *in, *out;
		int ok;
	} cases[] = {
	    {"", "", 1},
	    {"Zg==", "f", 1},
	    {"Zm8=", "fo", 1},
	    {"Zm9v", "foo", 1},
	    {" Zm9v\r\nYmFy ", "foobar", 1},
	    {"Zg=", NULL, 0},
	    {"Z===", NULL, 0},
	    {"Zm9v!", NULL, 0},
	    {"Zg==Zg==", NULL, 0},
	    {"Zm9", NULL, 0},
	    {"=Zm9", NULL, 0},
	};
	for (size_t i = 0; i < CCR_ARRAY_LEN(cases); i++) {
		struct sbuf sb;
		sbuf_init(&sb);
		sbuf_adds(&sb, "x");
		int rc = wsman_b64_decode(cases[i].in, strlen(cases[i].in), &sb);
		ck_assert_msg((rc == 0) == cases[i].ok, "case %zu '%s': rc %d", i, cases[i].in, rc);
		if (cases[i].ok)
			ck_assert_str_eq(sb.buf + 1, cases[i].out);
		else
			ck_assert_str_eq(sb.buf, "x"); /* unchanged on failure */
		sbuf_release(&sb);
	}
}
END_TEST

START_TEST(create_request)
{
	struct wsman_hdr h = hdr(NULL);
	char id[48];
	char *x = wsman_build_create(&h, 65001, id);
	struct sim_wr_req r;

	ck_assert(strncmp(id, "uuid:", 5) == 0 && strlen(id) == 41);
	ck_assert_ptr_nonnull(strstr(x, "Name=\"WINRS_NOPROFILE\">TRUE<"));
	ck_assert_ptr_nonnull(strstr(x, "Name=\"WINRS_CODEPAGE\">65001<"));
	ck_assert_ptr_nonnull(strstr(x, "mustUnderstand=\"true\">153600</w:MaxEnvelopeSize>"));
	ck_assert_ptr_nonnull(strstr(x, "<w:OperationTimeout>PT20S</w:OperationTimeout>"));
	ck_assert_ptr_nonnull(strstr(x, "<w:Locale mustUnderstand=\"false\" xml:lang=\"en-US\"/>"));
	ck_assert_int_eq(sim_wr_parse(x, strlen(x), &r), 0);
	ck_assert_str_eq(r.action, WSMAN_ACTION_CREATE);
	ck_assert_str_eq(r.resource, WSMAN_RESOURCE_CMD);
	ck_assert_str_eq(r.message_id, id);
	ck_assert_int_eq(r.max_env, 153600);
	ck_assert_int_eq(r.op_ms, 20000);
	ck_assert_int_eq(r.has_shell, 1);
	ck_assert_ptr_null(r.shell_id);
	sim_wr_req_release(&r);
	free(x);
}
END_TEST

START_TEST(command_request_escapes)
{
	const char *cmd = "powershell -Command \"Get-X -Name 'a&b' <in >out\" & echo ]]>";
	struct wsman_hdr h = hdr("6A1B-SHELL");
	char id[48];
	char *x = wsman_build_command(&h, cmd, id);
	struct sim_wr_req r;

	ck_assert_ptr_nonnull(strstr(x, "Name=\"WINRS_SKIP_CMD_SHELL\">FALSE<"));
	ck_assert_ptr_null(strstr(x, "<in >")); /* escaped by libxml2 */
	ck_assert_int_eq(sim_wr_parse(x, strlen(x), &r), 0);
	ck_assert_str_eq(r.action, WSMAN_ACTION_COMMAND);
	ck_assert_str_eq(r.shell_id, "6A1B-SHELL");
	ck_assert_str_eq(r.command, cmd);
	sim_wr_req_release(&r);
	free(x);
	h.operation_timeout_ms = 1500;
	x = wsman_build_receive(&h, "CMD-1", id);
	ck_assert_int_eq(sim_wr_parse(x, strlen(x), &r), 0);
	ck_assert_str_eq(r.command_id, "CMD-1");
	ck_assert_int_eq(r.op_ms, 1500);
	sim_wr_req_release(&r);
	free(x);
	x = wsman_build_signal(&h, "CMD-1", WSMAN_SIGNAL_TERMINATE, id);
	ck_assert_int_eq(sim_wr_parse(x, strlen(x), &r), 0);
	ck_assert_str_eq(r.signal_code, WSMAN_SIGNAL_TERMINATE);
	ck_assert_str_eq(r.command_id, "CMD-1");
	sim_wr_req_release(&r);
	free(x);
}
END_TEST

START_TEST(windows_fault)
{
	/* As Windows Server 2008 answers a Receive that saw no output in time. */
	const char *f =
	    "<s:Envelope xml:lang=\"en-US\" xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
	    "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
	    "xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><s:Header>"
	    "<a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>"
	    "<a:RelatesTo>uuid:ABC</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code>"
	    "<s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode>"
	    "</s:Code><s:Reason><s:Text xml:lang=\"en-US\">The WS-Management service cannot "
	    "complete the operation within the time specified in OperationTimeout.  </s:Text>"
	    "</s:Reason><s:Detail><f:WSManFault "
	    "xmlns:f=\"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault\" Code=\"2150858793\" "
	    "Machine=\"NODE1\"><f:Message>...</f:Message></f:WSManFault></s:Detail></s:Fault>"
	    "</s:Body></s:Envelope>";
	struct wsman_reply r;

	wsman_reply_init(&r);
	ck_assert_int_eq(wsman_parse_reply(f, strlen(f), &r), 0);
	ck_assert_int_eq(r.fault, 1);
	ck_assert_str_eq(r.fault_code, WSMAN_FAULT_TIMED_OUT);
	ck_assert_str_eq(r.relates_to, "uuid:ABC");
	ck_assert(strncmp(r.fault_text, "The WS-Management service", 25) == 0);
	ck_assert_int_eq(wsman_parse_reply("<html>no</html>", 15, &r), -1);
	ck_assert_int_eq(wsman_parse_reply("<s:Envelope", 11, &r), -1);
	wsman_reply_release(&r);
}
END_TEST

START_TEST(receive_reply_streams)
{
	/* Several chunks, stderr, an End attribute, a DWORD exit code. */
	const char *x =
	    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
	    "xmlns:rsp=\"http://schemas.microsoft.com/wbem/wsman/1/windows/shell\"><s:Body>"
	    "<rsp:ReceiveResponse><rsp:Stream Name=\"stdout\" CommandId=\"C\">Zm9v</rsp:Stream>"
	    "<rsp:Stream Name=\"stdout\" CommandId=\"C\">YmFy</rsp:Stream>"
	    "<rsp:Stream Name=\"stderr\" CommandId=\"C\">ZXJy</rsp:Stream>"
	    "<rsp:Stream Name=\"stdout\" CommandId=\"C\" End=\"true\"></rsp:Stream>"
	    "<rsp:CommandState CommandId=\"C\" "
	    "State=\"http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done\">"
	    "<rsp:ExitCode>4294967295</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>"
	    "</s:Body></s:Envelope>";
	struct wsman_reply r;

	wsman_reply_init(&r);
	ck_assert_int_eq(wsman_parse_reply(x, strlen(x), &r), 0);
	ck_assert_str_eq(r.out.buf, "foobar");
	ck_assert_str_eq(r.err.buf, "err");
	ck_assert_int_eq(r.done, 1);
	ck_assert_int_eq(r.exit_code, -1);
	wsman_reply_release(&r);
}
END_TEST

START_TEST(requests_as_libxml2_serialises_them)
{
	/* What serialising the request's tree with libxml2 gave (before templates):
	 * the same bytes, escaping included ('&', '<', '>', CR; '"' in text kept;
	 * UTF-8 kept), with the MessageID numbered from the caller's base. */
	static const char want[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<env:Envelope xmlns:env=\"http://www.w3.or"
	    "g/2003/05/soap-envelope\" xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\""
	    " xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" xmlns:p=\"http://schemas.m"
	    "icrosoft.com/wbem/wsman/1/wsman.xsd\" xmlns:rsp=\"http://schemas.microsoft.com/wbem/ws"
	    "man/1/windows/shell\"><env:Header><a:To>https://node1.example:5986/wsman</a:To><a:Repl"
	    "yTo><a:Address mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2004/08/addressin"
	    "g/role/anonymous</a:Address></a:ReplyTo><w:MaxEnvelopeSize mustUnderstand=\"true\">153"
	    "600</w:MaxEnvelopeSize><a:MessageID>uuid:00000000-0000-4000-8000-000000000102</a:Messa"
	    "geID><w:Locale mustUnderstand=\"false\" xml:lang=\"en-US\"/><p:DataLocale mustUndersta"
	    "nd=\"false\" xml:lang=\"en-US\"/><w:OperationTimeout>PT1.500S</w:OperationTimeout><w:R"
	    "esourceURI mustUnderstand=\"true\">http://schemas.microsoft.com/wbem/wsman/1/windows/s"
	    "hell/cmd</w:ResourceURI><a:Action mustUnderstand=\"true\">http://schemas.microsoft.com"
	    "/wbem/wsman/1/windows/shell/Command</a:Action><w:SelectorSet><w:Selector Name=\"ShellI"
	    "d\">S&amp;\"1</w:Selector></w:SelectorSet><w:OptionSet><w:Option Name=\"WINRS_CONSOLEM"
	    "ODE_STDIN\">TRUE</w:Option><w:Option Name=\"WINRS_SKIP_CMD_SHELL\">FALSE</w:Option></w"
	    ":OptionSet></env:Header><env:Body><rsp:CommandLine><rsp:Command>echo \"a&amp;b\" &lt;x"
	    "&gt; &#13;\n café</rsp:Command></rsp:CommandLine></env:Body></env:Envelope>\n";
	static const unsigned char base[16] = {0};
	struct wsman_hdr h = hdr("S&\"1");
	char id[48];
	char *x;

	h.to = "https://node1.example:5986/wsman";
	h.operation_timeout_ms = 1500;
	h.id_base = base;
	h.id_seq = 258;
	x = wsman_build_command(&h, "echo \"a&b\" <x> \r\n caf\xc3\xa9", id);
	ck_assert_str_eq(id, "uuid:00000000-0000-4000-8000-000000000102");
	ck_assert_str_eq(x, want);
	free(x);
	x = wsman_build_receive(&h, "C\"\xc3\xa9", id);
	ck_assert_ptr_nonnull(
	    strstr(x, "<rsp:DesiredStream CommandId=\"C&quot;\xc3\xa9\">stdout stderr<"));
	ck_assert_ptr_nonnull(strstr(x, "<w:Selector Name=\"ShellId\">S&amp;\"1</w:Selector>"));
	free(x);
	x = wsman_build_delete(&h, id);
	ck_assert_ptr_nonnull(strstr(x, "<env:Body/></env:Envelope>"));
	free(x);
}
END_TEST

START_TEST(message_ids_unique)
{
	static const unsigned char base[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2,  3,  4,
					       5,    6,	   7,	 8,    9, 10, 11, 12};
	struct wsman_hdr h = hdr(NULL);
	char a[48], b[48], c[48];
	char *x;

	h.id_base = base;
	h.id_seq = 1;
	free(wsman_build_create(&h, 65001, a));
	h.id_seq = 2;
	x = wsman_build_create(&h, 65001, b);
	ck_assert_str_ne(a, b);
	ck_assert(strncmp(a, "uuid:DEADBEEF-0102-4", 20) == 0); /* version 4 */
	ck_assert_ptr_nonnull(strstr(x, b));
	free(x);
	h.id_base = NULL; /* fresh random bytes */
	free(wsman_build_create(&h, 65001, c));
	ck_assert_str_ne(c, a);
	ck_assert(strlen(c) == 41 && c[19] == '4');
}
END_TEST

#define ENV_OPEN                                                                                   \
	"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "                         \
	"xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "                            \
	"xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" "                              \
	"xmlns:rsp=\"http://schemas.microsoft.com/wbem/wsman/1/windows/shell\">"
#define DONE "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"

START_TEST(reader_streams_text_cdata_comments)
{
	/* A stream's text in pieces (CDATA, a comment, character references, line
	 * breaks), a nested element's text counted in, another prefix for the shell
	 * namespace, the first ExitCode of the first CommandState. */
	const char *x =
	    ENV_OPEN "<s:Header><a:RelatesTo> uuid:R </a:RelatesTo></s:Header><s:Body>"
		     "<x:ReceiveResponse xmlns:x=\"http://schemas.microsoft.com/wbem/wsman/1/"
		     "windows/shell\"><x:Stream Name=\"stdout\">Zm<![CDATA[9v]]><!-- c -->Ym&#70;y"
		     "\r\n</x:Stream><x:Stream Name=\"stderr\">Z<i>X</i>Jy</x:Stream>"
		     "<x:CommandState State=\"" DONE "\"><x:ExitCode> 3 </x:ExitCode>"
		     "<x:ExitCode>4</x:ExitCode></x:CommandState><x:CommandState State=\"x\"/>"
		     "</x:ReceiveResponse></s:Body></s:Envelope>";
	struct wsman_reply r;

	wsman_reply_init(&r);
	ck_assert_int_eq(wsman_parse_reply(x, strlen(x), &r), 0);
	ck_assert_str_eq(r.relates_to, "uuid:R");
	ck_assert_str_eq(r.out.buf, "foobar");
	ck_assert_str_eq(r.err.buf, "err");
	ck_assert_int_eq(r.done, 1);
	ck_assert_int_eq(r.exit_code, 3);
	wsman_reply_release(&r);
}
END_TEST

START_TEST(reader_fault_forms)
{
	/* No WSManFault: the code is the SOAP Subcode's Value; no Text: the
	 * WSManFault's Message; a fault's streams are not output. */
	const char *a =
	    ENV_OPEN "<s:Body><rsp:Stream Name=\"stdout\">Zm9v</rsp:Stream><s:Fault>"
		     "<s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value> w:Bad </s:Value>"
		     "</s:Subcode></s:Code><s:Reason><s:Text>why</s:Text></s:Reason></s:Fault>"
		     "</s:Body></s:Envelope>";
	const char *b =
	    ENV_OPEN "<s:Body><s:Fault><s:Detail><f:WSManFault xmlns:f=\"http://"
		     "schemas.microsoft.com/wbem/wsman/1/wsmanfault\" Code=\"2150858843\">"
		     "<f:Message> The shell was not found. </f:Message></f:WSManFault></s:Detail>"
		     "</s:Fault></s:Body></s:Envelope>";
	struct wsman_reply r;

	wsman_reply_init(&r);
	ck_assert_int_eq(wsman_parse_reply(a, strlen(a), &r), 0);
	ck_assert_int_eq(r.fault, 1);
	ck_assert_str_eq(r.fault_code, "w:Bad");
	ck_assert_str_eq(r.fault_text, "why");
	ck_assert_uint_eq(r.out.len, 0);
	ck_assert_int_eq(wsman_parse_reply(b, strlen(b), &r), 0);
	ck_assert_str_eq(r.fault_code, "2150858843");
	ck_assert_str_eq(r.fault_text, "The shell was not found.");
	wsman_reply_release(&r);
}
END_TEST

START_TEST(reader_ids_and_refusals)
{
	/* A Selector that is not the ShellId: the rsp:ShellId element. */
	const char *a = ENV_OPEN "<s:Body><w:Selector Name=\"Other\">no</w:Selector><rsp:Shell>"
				 "<rsp:ShellId>S-2</rsp:ShellId></rsp:Shell></s:Body></s:Envelope>";
	const char *b = ENV_OPEN "<s:Body><rsp:CommandResponse><rsp:CommandId>C-1</rsp:CommandId>"
				 "</rsp:CommandResponse></s:Body></s:Envelope>";
	/* SOAP 1.2 forbids a DOCTYPE: refused, and no entity of one is expanded. */
	const char *dtd = "<!DOCTYPE s:Envelope [<!ENTITY e \"x\">]>" ENV_OPEN
			  "<s:Body><rsp:ShellId>&e;</rsp:ShellId></s:Body></s:Envelope>";
	const char *nobody = ENV_OPEN "<s:Header/></s:Envelope>";
	const char *badb64 = ENV_OPEN "<s:Body><rsp:Stream Name=\"stdout\">Zm9</rsp:Stream>"
				      "</s:Body></s:Envelope>";
	struct wsman_reader *p = wsman_reader_new();
	struct wsman_reply r;

	wsman_reply_init(&r);
	/* One reader for all, a refusal between good replies. */
	ck_assert_int_eq(wsman_reader_parse(p, a, strlen(a), &r), 0);
	ck_assert_str_eq(r.shell_id, "S-2");
	ck_assert_int_eq(wsman_reader_parse(p, dtd, strlen(dtd), &r), -1);
	ck_assert_str_eq(r.fault_text, "not a SOAP envelope");
	ck_assert_ptr_null(r.shell_id);
	ck_assert_int_eq(wsman_reader_parse(p, "<s:Env", 6, &r), -1);
	ck_assert_int_eq(wsman_reader_parse(p, b, strlen(b), &r), 0);
	ck_assert_str_eq(r.command_id, "C-1");
	ck_assert_ptr_null(r.shell_id);
	ck_assert_int_eq(wsman_reader_parse(p, nobody, strlen(nobody), &r), -1);
	ck_assert_int_eq(wsman_reader_parse(p, badb64, strlen(badb64), &r), -1);
	ck_assert_str_eq(r.fault_text, "a stream is not valid base64");
	ck_assert_int_eq(wsman_reader_parse(p, b, strlen(b), &r), 0);
	ck_assert_str_eq(r.command_id, "C-1");
	wsman_reply_release(&r);
	wsman_reader_free(p);
	wsman_reader_free(NULL);
}
END_TEST

/* ---- against ccrsim's handler ---- */

static struct sim_opts opts;
static struct sim_server srv;
static struct sim_winrm wr;

static void setup(void)
{
	char err[512];

	memset(&srv, 0, sizeof(srv));
	memset(&wr, 0, sizeof(wr));
	srv.opts = &opts;
	srv.paused_at = -1;
	srv.world = sim_world_load(TWO_NODE, 0, err, sizeof(err));
	ck_assert_msg(srv.world != NULL, "%s", err);
	srv.nhosts = sim_world_nhosts(srv.world);
	wr.srv = &srv;
}

static void teardown(void)
{
	sim_wr_shells_drop_host(&wr, -1, 0);
	sim_world_free(srv.world);
}

/* Send a request built by ccrup to ccrsim's handler; parse the reply as ccrup does. */
static enum sim_wr_outcome ask(int host, const char *xml, int timed_out, struct wsman_reply *out,
			       int *status)
{
	struct sim_wr_req r;
	struct sbuf resp;
	enum sim_wr_outcome o;

	sbuf_init(&resp);
	ck_assert_int_eq(sim_wr_parse(xml, strlen(xml), &r), 0);
	o = sim_wr_handle(&wr, host, &r, 0, timed_out, &resp, status);
	if (o == SIM_WR_REPLY) {
		ck_assert_int_eq(wsman_parse_reply(resp.buf, resp.len, out), 0);
		ck_assert_str_eq(out->relates_to, r.message_id);
	}
	sim_wr_req_release(&r);
	sbuf_release(&resp);
	return o;
}

START_TEST(whole_sequence)
{
	int node1 = sim_host_find(srv.world, "NODE1"), status;
	struct wsman_hdr h = hdr(NULL);
	struct wsman_reply r;
	char id[48], *shell, *cmd, *x;

	wsman_reply_init(&r);
	x = wsman_build_create(&h, 65001, id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	ck_assert_int_eq(status, 200);
	ck_assert_ptr_nonnull(r.shell_id);
	shell = xstrdup(r.shell_id);
	h = hdr(shell);
	x = wsman_build_command(&h, "sc query ClusSvc", id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	ck_assert_ptr_nonnull(r.command_id);
	cmd = xstrdup(r.command_id);
	x = wsman_build_receive(&h, cmd, id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_int_eq(r.done, 1);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(r.out.buf, "RUNNING"));
	x = wsman_build_signal(&h, cmd, WSMAN_SIGNAL_TERMINATE, id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	ck_assert_int_eq(r.fault, 0);
	/* The command is gone; an unknown command id is a fault. */
	x = wsman_build_receive(&h, cmd, id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	ck_assert_int_eq(status, 500);
	ck_assert_int_eq(r.fault, 1);
	x = wsman_build_delete(&h, id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	ck_assert_int_eq(r.fault, 0);
	/* The shell is gone: as Windows says it. */
	x = wsman_build_command(&h, "hostname", id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	ck_assert_int_eq(status, 500);
	ck_assert_str_eq(r.fault_code, "2150858843");
	ck_assert_ptr_nonnull(strstr(r.fault_text, shell));
	wsman_reply_release(&r);
	free(shell);
	free(cmd);
}
END_TEST

START_TEST(wrong_action_and_shell_of_other_host)
{
	int node1 = sim_host_find(srv.world, "NODE1"), node2 = sim_host_find(srv.world, "NODE2");
	struct wsman_hdr h = hdr(NULL);
	struct wsman_reply r;
	char id[48], *x, *shell;
	int status;

	wsman_reply_init(&r);
	x = wsman_build_create(&h, 437, id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	shell = xstrdup(r.shell_id);
	h = hdr(shell);
	x = wsman_build_command(&h, "hostname", id);
	ck_assert_int_eq(ask(node2, x, 0, &r, &status), SIM_WR_REPLY); /* NODE1's shell on NODE2 */
	free(x);
	ck_assert_str_eq(r.fault_code, "2150858843");
	x = wsman_build_delete(&h, id);
	{
		/* Same message, another action. */
		char *p = strstr(x, WSMAN_ACTION_DELETE);
		ck_assert_ptr_nonnull(p);
		memcpy(p + strlen(WSMAN_ACTION_DELETE) - 6, "Pull!!", 6);
	}
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	ck_assert_int_eq(status, 500);
	ck_assert_str_eq(r.fault_code, "2150858757");
	wsman_reply_release(&r);
	free(shell);
}
END_TEST

START_TEST(receive_timeout_fault)
{
	int node1 = sim_host_find(srv.world, "NODE1"), status;
	struct wsman_hdr h = hdr(NULL);
	struct wsman_reply r;
	char err[256], id[48], *x, *shell, *cmd;
	json_t *f =
	    json_pack("{s:s, s:s, s:s}", "host", "NODE1", "match", "hostname", "kind", "hang");

	ck_assert_msg(sim_fault_add(srv.world, f, err, sizeof(err)) == 0, "%s", err);
	json_decref(f);
	wsman_reply_init(&r);
	x = wsman_build_create(&h, 65001, id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	shell = xstrdup(r.shell_id);
	h = hdr(shell);
	x = wsman_build_command(&h, "hostname", id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_REPLY);
	free(x);
	cmd = xstrdup(r.command_id);
	x = wsman_build_receive(&h, cmd, id);
	ck_assert_int_eq(ask(node1, x, 0, &r, &status), SIM_WR_WAIT);  /* held */
	ck_assert_int_eq(ask(node1, x, 1, &r, &status), SIM_WR_REPLY); /* OperationTimeout */
	free(x);
	ck_assert_int_eq(status, 500);
	ck_assert_str_eq(r.fault_code, WSMAN_FAULT_TIMED_OUT);
	wsman_reply_release(&r);
	free(shell);
	free(cmd);
}
END_TEST

static Suite *winrm_soap_suite(void)
{
	Suite *s = suite_create("winrm_soap");
	TCase *t = tcase_create("client");
	TCase *h = tcase_create("handler");

	tcase_add_test(t, b64);
	tcase_add_test(t, create_request);
	tcase_add_test(t, command_request_escapes);
	tcase_add_test(t, windows_fault);
	tcase_add_test(t, receive_reply_streams);
	tcase_add_test(t, requests_as_libxml2_serialises_them);
	tcase_add_test(t, message_ids_unique);
	tcase_add_test(t, reader_streams_text_cdata_comments);
	tcase_add_test(t, reader_fault_forms);
	tcase_add_test(t, reader_ids_and_refusals);
	suite_add_tcase(s, t);
	tcase_add_checked_fixture(h, setup, teardown);
	tcase_add_test(h, whole_sequence);
	tcase_add_test(h, wrong_action_and_shell_of_other_host);
	tcase_add_test(h, receive_timeout_fault);
	suite_add_tcase(s, h);
	return s;
}

int main(void)
{
	wsman_global_init();
	SRunner *sr = srunner_create(winrm_soap_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
