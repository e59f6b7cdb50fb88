/*
 * snmp_lib.h - the seam to net-snmp used by snmp_dev.c: session opening (v1/v2c/v3 with
 * keys derived once), OID and value conversion, and the SNMPv3 helpers for engine
 * discovery. Internal to the collector.
 */
#ifndef DCM_SNMP_LIB_H
#define DCM_SNMP_LIB_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "snmp_config.h"

/* Keys derived from the pass phrases once (generate_Ku is a megabyte of hashing). */
typedef struct dcm_snmp_keys {
    u_char auth[USM_AUTH_KU_LEN];
    size_t auth_len;
    u_char priv[USM_PRIV_KU_LEN];
    size_t priv_len;
} dcm_snmp_keys;

dcm_snmp_err dcm_snmp_keys_derive(const dcm_snmp_target *t, dcm_snmp_keys *k, char *why,
                                  size_t why_size);
/* Opens a session (never blocks: v3 sessions skip the library's synchronous engine
 * probe). Returns the single-session handle or NULL with why. */
void *dcm_snmp_session_open(const dcm_snmp_target *t, const dcm_snmp_keys *k, char *why,
                            size_t why_size);
/* The PDU that asks a v3 agent for its engine id (an empty GET, noAuthNoPriv). */
netsnmp_pdu *dcm_snmp_probe_pdu(void);
/* After discovery: localises the user's keys to the engine the session learnt. */
bool dcm_snmp_session_keys_ready(void *sessp);
/* Forgets what the library knows of the session's engine (boots, time) so a rebooted or
 * reset agent is learnt afresh. */
void dcm_snmp_session_forget_engine(void *sessp);

void dcm_snmp_oid_to_lib(const dcm_snmp_oid *o, oid *out, size_t *len);
void dcm_snmp_oid_from_lib(const oid *in, size_t len, dcm_snmp_oid *o);
/* A received variable as a dcm_snmp_value (and its OID value, if it is one). */
void dcm_snmp_value_from_var(const netsnmp_variable_list *v, dcm_snmp_value *out,
                             dcm_snmp_oid *oid_value);

#endif
