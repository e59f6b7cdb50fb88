/*
 * http_session.c - how `run` and `demo` start the HTTP server (session.c calls this).
 */
#include <stdio.h>

#include "dcm/log.h"
#include "http/http.h"

int dcm_session_http_start(const dcm_session_options *opt, dcm_runtime_options *ro,
                           dcm_alerts *alerts, dcm_http **out)
{
    char why[256] = "";
    dcm_http_options ho = {.config = opt->config, .listen = opt->http_listen};
    *out = NULL;
    if (ro->listener_count >= DCM_RUNTIME_MAX_LISTENERS) {
        fprintf(stderr, "dcmetrics %s: HTTP: no room for another pipeline listener\n",
                opt->title);
        return 1;
    }
    dcm_http_err err = dcm_http_create(&ho, out, why, sizeof why);
    if (err != DCM_HTTP_OK) {
        /* The demo's default port may well be taken by something else: the demo is still
         * worth running, so it says so and goes on. An address asked for is a promise. */
        if (opt->http_optional && err == DCM_HTTP_EBIND) {
            fprintf(stderr, "dcmetrics %s: %s: running without the live dashboard (choose "
                            "another address with --http ADDR:PORT)\n", opt->title, why);
            return 0;
        }
        fprintf(stderr, "dcmetrics %s: HTTP: %s\n", opt->title,
                why[0] ? why : dcm_http_strerror(err));
        return err == DCM_HTTP_EADDR || err == DCM_HTTP_EAUTH || err == DCM_HTTP_ETLS ? 2 : 1;
    }
    ro->listeners[ro->listener_count++] = dcm_http_listener(*out);
    if (alerts) {
        dcm_http_set_alerts(*out, alerts);
        if (dcm_alerts_add_notify(alerts, dcm_http_alert_notify, *out) != DCM_ALERTS_OK)
            dcm_log(DCM_LOG_WARN, "http", "alerts will not reach the event stream");
    }
    fprintf(stderr, "dcmetrics %s: live dashboard and API at %s\n", opt->title,
            dcm_http_url(*out));
    return 0;
}
