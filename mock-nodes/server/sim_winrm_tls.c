/*
 * sim_winrm_tls.c — the certificates of ccrsim's HTTPS WinRM listeners.
 *
 * A self-signed CA (EC P-256, 10 years) lives in STATE/winrm/ca.pem and
 * ca.key (mode 0600) and is reused while the state directory lives, so a
 * client keeps trusting it across restarts; the inventory names ca.pem as
 * winrm_ca_file.  Every host gets a server certificate signed by it at its
 * first HTTPS connection of each start, with CN = the host name and
 * subjectAltName = DNS:name and IP:address: a client connecting to the address
 * (as pywinrm and ccrup do) or to the name checks it as Windows' own
 * certificate would be checked.  Written to STATE/winrm/NAME.pem for tools that
 * want to look at it (not fsynced: the next start makes it again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sim_winrm_int.h"

#define SIM_WR_CA_DAYS	 3650
#define SIM_WR_CERT_DAYS 825

static EVP_PKEY *key_new(void)
{
	return EVP_EC_gen("P-256");
}

/* Random 64-bit serial, positive. */
static int set_serial(X509 *x)
{
	ASN1_INTEGER *s = X509_get_serialNumber(x);
	BIGNUM *bn = BN_new();
	int ok = bn != NULL && BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		 BN_to_ASN1_INTEGER(bn, s) != NULL;

	BN_free(bn);
	return ok ? 0 : -1;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ex == NULL)
		return -1;
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

/* A certificate for key with subject CN=cn, signed by (ca, cakey) or self-signed. */
static X509 *cert_make(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *cakey, int days,
		       const char *san)
{
	X509 *x = X509_new();
	X509_NAME *name;
	int ok;

	if (x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	ok = X509_set_version(x, 2) && set_serial(x) == 0 &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) &&
	     X509_set_pubkey(x, key) &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"ccrsim",
					-1, -1, 0) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) &&
	     X509_set_issuer_name(x, ca != NULL ? X509_get_subject_name(ca) : name);
	if (ok && ca == NULL)
		ok = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
		     add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
		     add_ext(x, x, NID_subject_key_identifier, "hash") == 0;
	if (ok && ca != NULL)
		ok = add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		     add_ext(x, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") ==
			 0 &&
		     add_ext(x, ca, NID_ext_key_usage, "serverAuth") == 0 &&
		     add_ext(x, ca, NID_subject_alt_name, san) == 0;
	if (ok)
		ok = X509_sign(x, cakey != NULL ? cakey : key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Write the PEM of cert (and key, if not NULL) to path, mode; durable if sync. */
static int pem_write(const char *path, X509 *cert, EVP_PKEY *key, mode_t mode, int sync)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f;
	int ok;

	unlink(tmp);
	f = fopen(tmp, "wx");
	if (f == NULL) {
		free(tmp);
		return -1;
	}
	fchmod(fileno(f), mode);
	ok = (cert == NULL || PEM_write_X509(f, cert)) &&
	     (key == NULL || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
	ok = fflush(f) == 0 && (!sync || fsync(fileno(f)) == 0) && ok;
	ok = fclose(f) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}

/* Load the CA, or make and store it. */
static int ca_load(struct sim_winrm *wr, const char *dir, X509 **ca, EVP_PKEY **cakey, char *err,
		   size_t errlen)
{
	char *keypath = xasprintf("%s/ca.key", dir);
	FILE *f = fopen(wr->ca_path, "r"), *k = fopen(keypath, "r");
	int rc = -1;

	if (f != NULL && k != NULL) {
		*ca = PEM_read_X509(f, NULL, NULL, NULL);
		*cakey = PEM_read_PrivateKey(k, NULL, NULL, NULL);
	}
	if (f != NULL)
		fclose(f);
	if (k != NULL)
		fclose(k);
	if (*ca != NULL && *cakey != NULL && X509_check_private_key(*ca, *cakey) == 1) {
		rc = 0;
		goto out;
	}
	X509_free(*ca);
	EVP_PKEY_free(*cakey);
	*cakey = key_new();
	*ca = *cakey != NULL
		  ? cert_make(*cakey, "ccrsim WinRM CA", NULL, NULL, SIM_WR_CA_DAYS, NULL)
		  : NULL;
	if (*ca == NULL || pem_write(keypath, NULL, *cakey, 0600, 1) != 0 ||
	    pem_write(wr->ca_path, *ca, NULL, 0644, 1) != 0) {
		snprintf(err, errlen, "%s: cannot make the WinRM CA: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(keypath);
	return rc;
}

int sim_wr_tls_host(struct sim_winrm *wr, int i)
{
	const struct sim_world *w = wr->srv->world;
	struct sim_wr_host *h = &wr->hosts[i];
	char *san, *path;

	if (h->cert != NULL)
		return 0;
	san = xasprintf("DNS:%s,IP:%s", sim_host_name(w, i), sim_host_addr(w, i));
	path = xasprintf("%s/winrm/%s.pem", wr->srv->opts->state_dir, sim_host_name(w, i));
	if (h->key == NULL)
		h->key = key_new();
	if (h->key != NULL)
		h->cert = cert_make(h->key, sim_host_name(w, i), wr->ca, wr->cakey,
				    SIM_WR_CERT_DAYS, san);
	if (h->cert != NULL)
		(void)pem_write(path, h->cert, NULL, 0644, 0); /* a copy to look at */
	else
		fprintf(stderr, "ccrsim: %s: cannot make its WinRM certificate\n",
			sim_host_name(w, i));
	free(san);
	free(path);
	return h->cert != NULL ? 0 : -1;
}

int sim_wr_tls_init(struct sim_winrm *wr, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/winrm", wr->srv->opts->state_dir);
	X509 *ca = NULL;
	EVP_PKEY *cakey = NULL;
	int rc = -1;

	wr->ca_path = xasprintf("%s/ca.pem", dir);
	if (mkdir_p(dir, 0700) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (ca_load(wr, dir, &ca, &cakey, err, errlen) != 0)
		goto out;
	wr->ctx = SSL_CTX_new(TLS_server_method());
	if (wr->ctx == NULL) {
		snprintf(err, errlen, "cannot make a TLS context");
		goto out;
	}
	SSL_CTX_set_min_proto_version(wr->ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(wr->ctx,
			 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_add_extra_chain_cert(wr->ctx, ca) != 1) {
		snprintf(err, errlen, "cannot use the WinRM CA");
		goto out;
	}
	wr->ca = ca; /* the context owns it now */
	ca = NULL;
	wr->cakey = cakey;
	cakey = NULL;
	rc = 0;
out:
	X509_free(ca);
	EVP_PKEY_free(cakey);
	free(dir);
	return rc;
}

void sim_wr_tls_release(struct sim_winrm *wr)
{
	for (int i = 0; wr->hosts != NULL && i < wr->srv->nhosts; i++) {
		X509_free(wr->hosts[i].cert);
		EVP_PKEY_free(wr->hosts[i].key);
	}
	SSL_CTX_free(wr->ctx);
	EVP_PKEY_free(wr->cakey);
	free(wr->ca_path);
}
