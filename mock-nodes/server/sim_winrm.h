/*
 * sim_winrm.h — WS-Management (WinRM) on every simulated host
 * (docs/ccrsim.md, WinRM): the MS-WSMV remote shell over HTTP and HTTPS,
 * with Basic authentication against the scenario's account, running
 * commands through the same world and interpreter as SSH (sim_exec,
 * sim_action_poll), with the same faults and reboots.
 *
 * Modules:
 *   sim_winrm.c        listeners (per host, following its power and boot
 *                      epoch), connections, HTTP/1.1 framing with keep-alive,
 *                      TLS (OpenSSL, non-blocking), Basic authentication
 *   sim_winrm_shell.c  the SOAP side (libxml2): requests parsed, shells and
 *                      commands, replies and WS-Man faults as Windows sends
 *                      them; long-polled Receives
 *   sim_winrm_tls.c    the generated CA and per-host server certificates
 *                      (libcrypto), STATE/winrm/
 *
 * Ports: a host's WinRM listens on its address, HTTP on its SSH port - 8000
 * and HTTPS on its SSH port - 16000 (both below 32768 for the SSH ports
 * ccrsim uses); a host whose SSH port is 16000 or less gets Windows' own
 * 5985 and 5986, which needs hosts on distinct addresses.
 *
 * Calling sequence (server loop; a narrow hook like sim_http's):
 *   wr = sim_winrm_new(srv, err, errlen)          after the hosts are opened
 *   each turn: sim_winrm_pump(wr, now); n = sim_winrm_pollfds(wr, ...);
 *              poll; sim_winrm_ready(wr, who, revents); sleep at most
 *              sim_winrm_timeout(wr)
 *   sim_winrm_free(wr)
 */
#ifndef CCR_SIM_WINRM_H
#define CCR_SIM_WINRM_H

#include <poll.h>
#include <stdint.h>

#include "sim.h"

#define SIM_WINRM_HTTP_OFFSET  8000   /* HTTP port = SSH port - this */
#define SIM_WINRM_HTTPS_OFFSET 16000  /* HTTPS port = SSH port - this */
#define SIM_WINRM_MAX_ENVELOPE 153600 /* the server's MaxEnvelopeSize (Windows 2008: 150 KB) */

struct sim_server;
struct sim_winrm;

/* Host i's WinRM port: https 1 for HTTPS, 0 for HTTP. */
int sim_winrm_port(const struct sim_world *w, int host, int https);

/*
 * The WinRM side of the server: certificates made or loaded (STATE/winrm/),
 * listeners of every host that is up opened.  NULL with err on failure.
 */
struct sim_winrm *sim_winrm_new(struct sim_server *srv, char *err, size_t errlen);
/* Close everything (running commands are aborted).  NULL is a no-op. */
void sim_winrm_free(struct sim_winrm *wr, int64_t now);
/* Follow hosts' power (listeners, shells), start/poll commands, answer due Receives. */
void sim_winrm_pump(struct sim_winrm *wr, int64_t now);
/* Upper bound of pollfd entries sim_winrm_pollfds may fill. */
int sim_winrm_npoll(const struct sim_winrm *wr);
/* Fill pfd/who with listeners and connections (at most max); returns the count. */
int sim_winrm_pollfds(struct sim_winrm *wr, struct pollfd *pfd, void **who, int max);
/* Entry who (from sim_winrm_pollfds) is ready. */
void sim_winrm_ready(struct sim_winrm *wr, void *who, short revents);
/* Real ms the loop may sleep for WinRM's sake (0..SIM_MAX_SLEEP_MS). */
int sim_winrm_timeout(const struct sim_winrm *wr, int64_t now);
/* CA certificate path (STATE/winrm/ca.pem), for the inventory.  Borrowed. */
const char *sim_winrm_ca_file(const struct sim_winrm *wr);

#endif
