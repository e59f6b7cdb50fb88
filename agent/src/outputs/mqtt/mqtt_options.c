/* outputs.mqtt -> dcm_mqtt_options. config_load.c has validated forms and ranges; this
 * applies the defaults and reads the password from wherever it is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_int.h"

static const char *str_of(const dcm_node *map, const char *key)
{
    const char *s = NULL;
    return dcm_node_as_string(dcm_node_get(map, key), &s) ? s : NULL;
}

/* strdup that keeps NULL as NULL; *ok turns false when memory runs out. */
static char *dup_opt(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

static int version_of(const char *s)
{
    if (!s || strcmp(s, "3.1.1") == 0)
        return 4;
    if (strcmp(s, "3.1") == 0)
        return 3;
    if (strcmp(s, "5") == 0 || strcmp(s, "5.0") == 0)
        return 5;
    return -1;
}

static bool is_tls_url(const char *url)
{
    return strncmp(url, "ssl://", 6) == 0 || strncmp(url, "mqtts://", 8) == 0 ||
           strncmp(url, "wss://", 6) == 0;
}

int dcm_mqtt_options_load(const dcm_config *cfg, const dcm_node *node, dcm_mqtt_options *out,
                          char *err, size_t err_size)
{
    bool ok = true;
    *out = (dcm_mqtt_options){0};
    const char *url = str_of(node, "url");
    if (!url) {
        snprintf(err, err_size, "outputs.mqtt.url is missing");
        return -1;
    }
    const char *site = cfg->agent.site ? cfg->agent.site : "site";
    const char *prefix = str_of(node, "prefix");
    out->url = dup_opt(url, &ok);
    out->prefix = dup_opt(prefix ? prefix : "dcmetrics", &ok);
    out->site = dup_opt(site, &ok);
    const char *cid = str_of(node, "client_id");
    if (cid) {
        out->client_id = dup_opt(cid, &ok);
    } else {
        size_t n = strlen("dcmetrics-") + strlen(site) + 1;
        out->client_id = malloc(n);
        if (out->client_id)
            snprintf(out->client_id, n, "dcmetrics-%s", site);
        else
            ok = false;
    }
    out->username = dup_opt(str_of(node, "username"), &ok);
    out->ca_file = dup_opt(str_of(node, "ca_file"), &ok);
    out->cert_file = dup_opt(str_of(node, "cert_file"), &ok);
    out->key_file = dup_opt(str_of(node, "key_file"), &ok);
    if (!ok) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    out->tls = is_tls_url(url);

    char why[160] = "";
    out->password = dcm_node_secret(node, "password", why, sizeof why);
    if (!out->password && why[0]) {
        snprintf(err, err_size, "outputs.mqtt.password: %s", why);
        goto fail;
    }

    long long v;
    out->qos = dcm_node_as_int(dcm_node_get(node, "qos"), &v) ? (int)v : 1;
    out->verify = true;
    dcm_node_as_bool(dcm_node_get(node, "verify"), &out->verify);
    int64_t ns;
    out->keepalive_s = dcm_node_as_duration_ns(dcm_node_get(node, "keepalive"), &ns)
                           ? (int)(ns / DCM_NS_PER_S)
                           : 30;
    out->version = version_of(str_of(node, "version"));
    if (out->version < 0) {
        snprintf(err, err_size, "outputs.mqtt.version: expected 3.1, 3.1.1 or 5");
        goto fail;
    }
    out->max_inflight = dcm_node_as_int(dcm_node_get(node, "max_inflight"), &v) && v > 0
                            ? (size_t)v
                            : DCM_MQTT_DEFAULT_MAX_INFLIGHT;
    out->point_expiry_ns = dcm_node_as_duration_ns(dcm_node_get(node, "point_expiry"), &ns)
                               ? ns
                               : 3600 * DCM_NS_PER_S;
    if (out->qos < 0 || out->qos > 2 || out->keepalive_s < 1) {
        snprintf(err, err_size, "outputs.mqtt: qos or keepalive out of range");
        goto fail;
    }
    return 0;
fail:
    dcm_mqtt_options_free(out);
    return -1;
}

void dcm_mqtt_options_free(dcm_mqtt_options *o)
{
    if (o->password) {
        /* volatile so the wipe is not optimised away before free */
        volatile char *p = o->password;
        while (*p)
            *p++ = '\0';
    }
    free(o->url);
    free(o->prefix);
    free(o->site);
    free(o->client_id);
    free(o->username);
    free(o->password);
    free(o->ca_file);
    free(o->cert_file);
    free(o->key_file);
    *o = (dcm_mqtt_options){0};
}
