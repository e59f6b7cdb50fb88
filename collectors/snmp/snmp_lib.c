/* net-snmp set-up, sessions, keys, conversions. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "snmp_dev.h"
#include "snmp_lib.h"

#define NS_PER_US INT64_C(1000)

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init_once(void)
{
    /* No MIB files: every OID is numeric. No snmp.conf from the user's home, and nothing
     * persisted there: the agent's state lives under its own state_dir. */
    setenv("MIBS", "", 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
    /* The library creates directories under its persistent directory at start (TLS
     * certificate indexes): point it where nothing can be created. */
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR,
                          "/dev/null/dcmetrics-snmp");
    snmp_disable_log();
    init_snmp("dcmetrics");
    snmp_disable_log();
    /* One UDP socket per device: lift the soft open-file limit to the hard one. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

void dcm_snmp_lib_init(void) { pthread_once(&lib_once, lib_init_once); }

/* ------------------------------------------------------------------ keys */

static const oid *auth_oid(dcm_snmp_auth a, size_t *len)
{
    switch (a) {
    case DCM_SNMP_AUTH_MD5: *len = OID_LENGTH(usmHMACMD5AuthProtocol); return usmHMACMD5AuthProtocol;
    case DCM_SNMP_AUTH_SHA: *len = OID_LENGTH(usmHMACSHA1AuthProtocol); return usmHMACSHA1AuthProtocol;
    case DCM_SNMP_AUTH_SHA224:
        *len = OID_LENGTH(usmHMAC128SHA224AuthProtocol);
        return usmHMAC128SHA224AuthProtocol;
    case DCM_SNMP_AUTH_SHA256:
        *len = OID_LENGTH(usmHMAC192SHA256AuthProtocol);
        return usmHMAC192SHA256AuthProtocol;
    case DCM_SNMP_AUTH_SHA384:
        *len = OID_LENGTH(usmHMAC256SHA384AuthProtocol);
        return usmHMAC256SHA384AuthProtocol;
    case DCM_SNMP_AUTH_SHA512:
        *len = OID_LENGTH(usmHMAC384SHA512AuthProtocol);
        return usmHMAC384SHA512AuthProtocol;
    case DCM_SNMP_AUTH_NONE: break;
    }
    *len = OID_LENGTH(usmNoAuthProtocol);
    return usmNoAuthProtocol;
}

static const oid *priv_oid(dcm_snmp_priv p, size_t *len)
{
    switch (p) {
    case DCM_SNMP_PRIV_DES: *len = OID_LENGTH(usmDESPrivProtocol); return usmDESPrivProtocol;
    case DCM_SNMP_PRIV_AES128: *len = OID_LENGTH(usmAESPrivProtocol); return usmAESPrivProtocol;
    case DCM_SNMP_PRIV_AES192: *len = OID_LENGTH(usmAES192PrivProtocol); return usmAES192PrivProtocol;
    case DCM_SNMP_PRIV_AES256: *len = OID_LENGTH(usmAES256PrivProtocol); return usmAES256PrivProtocol;
    case DCM_SNMP_PRIV_NONE: break;
    }
    *len = OID_LENGTH(usmNoPrivProtocol);
    return usmNoPrivProtocol;
}

dcm_snmp_err dcm_snmp_keys_derive(const dcm_snmp_target *t, dcm_snmp_keys *k, char *why,
                                  size_t why_size)
{
    memset(k, 0, sizeof *k);
    if (t->version != 3 || !t->auth)
        return DCM_SNMP_OK;
    size_t alen;
    const oid *a = auth_oid(t->auth, &alen);
    k->auth_len = sizeof k->auth;
    if (generate_Ku(a, (u_int)alen, (const u_char *)t->auth_password, strlen(t->auth_password),
                    k->auth, &k->auth_len) != SNMPERR_SUCCESS) {
        snprintf(why, why_size, "cannot derive the %s key (not supported by this net-snmp?)",
                 dcm_snmp_auth_name(t->auth));
        return DCM_SNMP_EINVALID;
    }
    if (t->priv) {
        /* The privacy key is derived with the authentication hash (RFC 3414/3826). */
        k->priv_len = sizeof k->priv;
        if (generate_Ku(a, (u_int)alen, (const u_char *)t->priv_password,
                        strlen(t->priv_password), k->priv, &k->priv_len) != SNMPERR_SUCCESS) {
            snprintf(why, why_size, "cannot derive the privacy key");
            return DCM_SNMP_EINVALID;
        }
    }
    return DCM_SNMP_OK;
}

void *dcm_snmp_session_open(const dcm_snmp_target *t, const dcm_snmp_keys *k, char *why,
                            size_t why_size)
{
    netsnmp_session s;
    snmp_sess_init(&s);
    s.peername = t->peer;
    s.retries = t->retries;
    s.timeout = (long)(t->request_timeout_ns / NS_PER_US);
    if (t->version == 3) {
        s.version = SNMP_VERSION_3;
        s.securityModel = SNMP_SEC_MODEL_USM;
        s.securityName = t->user;
        s.securityNameLen = strlen(t->user);
        s.securityLevel = !t->auth ? SNMP_SEC_LEVEL_NOAUTH
                          : !t->priv ? SNMP_SEC_LEVEL_AUTHNOPRIV
                                     : SNMP_SEC_LEVEL_AUTHPRIV;
        size_t len;
        s.securityAuthProto = (oid *)auth_oid(t->auth, &len);
        s.securityAuthProtoLen = len;
        s.securityPrivProto = (oid *)priv_oid(t->priv, &len);
        s.securityPrivProtoLen = len;
        if (t->auth) {
            memcpy(s.securityAuthKey, k->auth, k->auth_len);
            s.securityAuthKeyLen = k->auth_len;
        }
        if (t->priv) {
            memcpy(s.securityPrivKey, k->priv, k->priv_len);
            s.securityPrivKeyLen = k->priv_len;
        }
        if (t->context) {
            s.contextName = t->context;
            s.contextNameLen = strlen(t->context);
        }
        /* The library's own probe is synchronous: it would hold up every other device. */
        s.flags |= SNMP_FLAGS_DONT_PROBE;
    } else {
        s.version = t->version == 1 ? SNMP_VERSION_1 : SNMP_VERSION_2c;
        s.community = (u_char *)t->community;
        s.community_len = strlen(t->community);
    }
    void *sessp = snmp_sess_open(&s);
    /* snmp_sess_open copied the session: wipe our copy of the key material. */
    memset(s.securityAuthKey, 0, sizeof s.securityAuthKey);
    memset(s.securityPrivKey, 0, sizeof s.securityPrivKey);
    if (!sessp) {
        int liberr = 0, syserr = 0;
        char *msg = NULL;
        snmp_error(&s, &syserr, &liberr, &msg);
        snprintf(why, why_size, "cannot open a session to %s: %s", t->display ? t->display : "?",
                 msg ? msg : "unknown error");
        free(msg);
    }
    return sessp;
}

netsnmp_pdu *dcm_snmp_probe_pdu(void)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
    if (!pdu)
        return NULL;
    pdu->version = SNMP_VERSION_3;
    pdu->securityModel = SNMP_SEC_MODEL_USM;
    pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
    pdu->securityName = strdup("");
    pdu->securityNameLen = 0;
    if (!pdu->securityName) {
        snmp_free_pdu(pdu);
        return NULL;
    }
    /* USM needs the empty user to exist to encode the probe. */
    if (!usm_get_user(NULL, 0, pdu->securityName)) {
        struct usmUser *u = calloc(1, sizeof *u);
        if (!u)
            goto fail;
        u->name = strdup("");
        u->secName = strdup("");
        u->authProtocol = snmp_duplicate_objid(usmNoAuthProtocol, OID_LENGTH(usmNoAuthProtocol));
        u->authProtocolLen = OID_LENGTH(usmNoAuthProtocol);
        u->privProtocol = snmp_duplicate_objid(usmNoPrivProtocol, OID_LENGTH(usmNoPrivProtocol));
        u->privProtocolLen = OID_LENGTH(usmNoPrivProtocol);
        if (!u->name || !u->secName || !u->authProtocol || !u->privProtocol) {
            usm_free_user(u);
            goto fail;
        }
        usm_add_user(u);
    }
    return pdu;
fail:
    snmp_free_pdu(pdu);
    return NULL;
}

bool dcm_snmp_session_keys_ready(void *sessp)
{
    netsnmp_session *s = snmp_sess_session(sessp);
    if (!s || !s->securityEngineIDLen)
        return false;
    return create_user_from_session(s) == SNMPERR_SUCCESS;
}

void dcm_snmp_session_forget_engine(void *sessp)
{
    netsnmp_session *s = snmp_sess_session(sessp);
    if (s && s->securityEngineIDLen)
        set_enginetime(s->securityEngineID, (u_int)s->securityEngineIDLen, 0, 0, FALSE);
}

/* ------------------------------------------------------------ conversion */

void dcm_snmp_oid_to_lib(const dcm_snmp_oid *o, oid *out, size_t *len)
{
    for (uint32_t i = 0; i < o->len; i++)
        out[i] = o->sub[i];
    *len = o->len;
}

void dcm_snmp_oid_from_lib(const oid *in, size_t len, dcm_snmp_oid *o)
{
    if (len > DCM_SNMP_OID_MAX)
        len = DCM_SNMP_OID_MAX;
    for (size_t i = 0; i < len; i++)
        o->sub[i] = (uint32_t)in[i];
    o->len = (uint32_t)len;
}

void dcm_snmp_value_from_var(const netsnmp_variable_list *v, dcm_snmp_value *out,
                             dcm_snmp_oid *oid_value)
{
    memset(out, 0, sizeof *out);
    switch (v->type) {
    case ASN_INTEGER:
        out->type = DCM_SNMP_V_INTEGER;
        out->i = v->val.integer ? (int64_t)(int32_t)*v->val.integer : 0;
        break;
    case ASN_GAUGE: /* = ASN_UNSIGNED */
        out->type = DCM_SNMP_V_UNSIGNED;
        out->u = v->val.integer ? (uint32_t)*v->val.integer : 0;
        break;
    case ASN_COUNTER:
        out->type = DCM_SNMP_V_COUNTER32;
        out->u = v->val.integer ? (uint32_t)*v->val.integer : 0;
        break;
    case ASN_TIMETICKS:
        out->type = DCM_SNMP_V_TIMETICKS;
        out->u = v->val.integer ? (uint32_t)*v->val.integer : 0;
        break;
    case ASN_COUNTER64:
#ifdef NETSNMP_WITH_OPAQUE_SPECIAL_TYPES
    case ASN_OPAQUE_COUNTER64:
    case ASN_OPAQUE_U64:
#endif
        out->type = DCM_SNMP_V_COUNTER64;
        if (v->val.counter64)
            out->u = ((uint64_t)(uint32_t)v->val.counter64->high << 32) |
                     (uint32_t)v->val.counter64->low;
        break;
#ifdef NETSNMP_WITH_OPAQUE_SPECIAL_TYPES
    case ASN_OPAQUE_FLOAT:
        out->type = DCM_SNMP_V_FLOAT;
        out->f = v->val.floatVal ? (double)*v->val.floatVal : 0;
        break;
    case ASN_OPAQUE_DOUBLE:
        out->type = DCM_SNMP_V_FLOAT;
        out->f = v->val.doubleVal ? *v->val.doubleVal : 0;
        break;
    case ASN_OPAQUE_I64:
        out->type = DCM_SNMP_V_INTEGER;
        if (v->val.counter64)
            out->i = (int64_t)(((uint64_t)(uint32_t)v->val.counter64->high << 32) |
                               (uint32_t)v->val.counter64->low);
        break;
#endif
    case ASN_OCTET_STR: {
        out->type = DCM_SNMP_V_STRING;
        size_t n = v->val_len < sizeof out->text - 1 ? v->val_len : sizeof out->text - 1;
        if (v->val.string)
            memcpy(out->text, v->val.string, n);
        out->text[n] = '\0';
        /* Embedded NULs would make the text shorter than the value: not a number. */
        if (strlen(out->text) != n)
            out->text[0] = '\0';
        break;
    }
    case ASN_OBJECT_ID:
        out->type = DCM_SNMP_V_OID;
        if (oid_value && v->val.objid)
            dcm_snmp_oid_from_lib(v->val.objid, v->val_len / sizeof(oid), oid_value);
        break;
    case SNMP_NOSUCHOBJECT: out->type = DCM_SNMP_V_NOSUCHOBJECT; break;
    case SNMP_NOSUCHINSTANCE: out->type = DCM_SNMP_V_NOSUCHINSTANCE; break;
    case SNMP_ENDOFMIBVIEW: out->type = DCM_SNMP_V_ENDOFMIBVIEW; break;
    default: out->type = DCM_SNMP_V_OTHER; break;
    }
}
