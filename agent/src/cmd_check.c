/* `dcmetrics check -c FILE [--quiet]`: validates a configuration, prints every problem
 * found with its place, and summarises what the agent would run. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config_internal.h"
#include "dcm/collector.h"
#include "dcm/config.h"
#include "site.h"
#ifdef DCM_WITH_MODBUS
#include "modbus_config.h"
#endif
#ifdef DCM_WITH_REDFISH
#include "rf_config.h"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: dcmetrics check -c FILE [--quiet]\n"
                 "       dcmetrics check --explain [TYPE]\n"
                 "  -c, --config FILE  the configuration to validate\n"
                 "  -q, --quiet        print errors only, no summary or warnings\n"
                 "  --explain [TYPE]   list the keys of every compiled-in collector type,\n"
                 "                     or of TYPE only\n");
}

/* Whether some point id "<name>.<anything>" could match glob. Only the literal text before
 * the first wildcard is compared, so the answer errs on the side of "could": a warning is
 * given only for selectors that cannot match any declared collector. */
static bool glob_could_match(const char *glob, const char *name)
{
    size_t lit = strcspn(glob, "*?[\\");
    size_t n = strlen(name);
    if (lit <= n)
        return strncmp(glob, name, lit) == 0;
    return strncmp(glob, name, n) == 0 && glob[n] == '.';
}

static bool selectors_could_match(const dcm_selectors *s, const dcm_config *cfg)
{
    for (size_t i = 0; i < s->count; i++)
        for (size_t c = 0; c < cfg->collector_count; c++)
            if (cfg->collectors[c].name && glob_could_match(s->globs[i], cfg->collectors[c].name))
                return true;
    return false;
}

static void warn_unmatched(const dcm_selectors *s, const char *path, const dcm_config *cfg,
                           const char *names, dcm_diags *d)
{
    if (s->count == 0 || selectors_could_match(s, cfg))
        return;
    dcm_diags_add(d, DCM_DIAG_WARNING, dcm_node_file(s->node), dcm_node_line(s->node),
                  dcm_node_column(s->node), path,
                  "no selector can match a point of the declared collectors (%s): point ids "
                  "are <collector name>.<point>",
                  names);
}

/* Selectors that name no declared collector are almost always a typo; they are legal
 * (a collector may be added later), hence warnings. */
static void check_selectors(const dcm_config *cfg, dcm_diags *d)
{
    if (cfg->collector_count == 0)
        return;
    char names[256] = "";
    size_t used = 0;
    for (size_t c = 0; c < cfg->collector_count && used < sizeof(names); c++) {
        int w = snprintf(names + used, sizeof(names) - used, "%s%s", c ? ", " : "",
                         cfg->collectors[c].name ? cfg->collectors[c].name : "?");
        if (w < 0)
            break;
        used += (size_t)w;
    }
    for (int r = 0; r < DCM_ROLE_COUNT; r++) {
        char path[64];
        snprintf(path, sizeof(path), "site.roles.%s", dcm_role_name((dcm_role)r));
        warn_unmatched(&cfg->site.roles[r], path, cfg, names, d);
    }
    for (size_t z = 0; z < cfg->site.zone_count; z++) {
        char path[64];
        snprintf(path, sizeof(path), "site.zones[%zu].it", z);
        warn_unmatched(&cfg->site.zones[z].it, path, cfg, names, d);
        snprintf(path, sizeof(path), "site.zones[%zu].overhead", z);
        warn_unmatched(&cfg->site.zones[z].overhead, path, cfg, names, d);
    }
}

static void format_duration(int64_t ns, char *buf, size_t size)
{
    static const struct {
        int64_t ns;
        const char *unit;
    } units[] = {{24 * DCM_NS_PER_HOUR, "d"}, {DCM_NS_PER_HOUR, "h"}, {DCM_NS_PER_MIN, "m"},
                 {DCM_NS_PER_S, "s"},         {1000000, "ms"},       {1000, "us"}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ns >= units[i].ns && ns % units[i].ns == 0) {
            snprintf(buf, size, "%" PRId64 "%s", ns / units[i].ns, units[i].unit);
            return;
        }
    }
    snprintf(buf, size, "%" PRId64 "ns", ns);
}

static void print_summary(const dcm_config *cfg, size_t instruments, FILE *out)
{
    char iv[32];
    format_duration(cfg->agent.interval_ns, iv, sizeof(iv));
    fprintf(out, "%s: configuration OK\n", cfg->path);
    fprintf(out, "  agent:        site id '%s', interval %s, state_dir %s\n", cfg->agent.site, iv,
            cfg->agent.state_dir);
    fprintf(out, "  site:         %s, time zone %s, PUE category %s\n",
            cfg->site.name ? cfg->site.name : "(unnamed)", cfg->site.timezone,
            cfg->site.pue_category == 1   ? "1"
            : cfg->site.pue_category == 2 ? "2"
            : cfg->site.pue_category == 3 ? "3"
                                          : "not declared");
    fprintf(out, "  collectors:   %zu", cfg->collector_count);
    for (size_t i = 0; i < cfg->collector_count; i++) {
        const dcm_collector_config *c = &cfg->collectors[i];
        format_duration(c->interval_ns, iv, sizeof(iv));
        fprintf(out, "%s%s (%s, every %s%s)", i ? ", " : " - ", c->name, c->type, iv,
                c->enabled ? "" : ", disabled");
    }
    fputc('\n', out);
    int mapped = 0;
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        mapped += cfg->site.roles[r].count > 0;
    fprintf(out, "  roles mapped: %d of %d", mapped, DCM_ROLE_COUNT);
    for (int r = 0, k = 0; r < DCM_ROLE_COUNT; r++)
        if (cfg->site.roles[r].count > 0)
            fprintf(out, "%s%s", k++ ? ", " : " - ", dcm_role_name((dcm_role)r));
    fputc('\n', out);
    fprintf(out, "  zones:        %zu", cfg->site.zone_count);
    for (size_t z = 0; z < cfg->site.zone_count; z++)
        fprintf(out, "%s%s", z ? ", " : " - ", cfg->site.zones[z].name);
    fputc('\n', out);
    double certs = 0, ppa = 0;
    for (size_t i = 0; i < cfg->site.instrument_count; i++) {
        if (cfg->site.instruments[i].is_ppa)
            ppa += cfg->site.instruments[i].kwh;
        else
            certs += cfg->site.instruments[i].kwh;
    }
    fprintf(out, "  instruments:  %zu (certificates %.0f kWh, PPAs %.0f kWh)\n", instruments,
            certs, ppa);
    fprintf(out, "  regimes:      %zu", cfg->site.regime_count);
    for (size_t i = 0; i < cfg->site.regime_count; i++)
        fprintf(out, "%s%s", i ? ", " : " - ", cfg->site.regimes[i]);
    fputs(cfg->site.regime_count ? " (checked by `dcmetrics report`)\n" : "\n", out);
    const char *outs[3];
    size_t nout = 0;
    if (cfg->outputs.mqtt)
        outs[nout++] = "mqtt";
    if (cfg->outputs.influxdb)
        outs[nout++] = "influxdb";
    if (cfg->outputs.http)
        outs[nout++] = "http";
    fprintf(out, "  outputs:      %zu", nout);
    for (size_t i = 0; i < nout; i++)
        fprintf(out, "%s%s", i ? ", " : " - ", outs[i]);
    fputc('\n', out);
    fprintf(out, "  alerts:       %zu", cfg->alert_count);
    for (size_t i = 0; i < cfg->alert_count; i++)
        fprintf(out, "%s%s", i ? ", " : " - ", cfg->alerts[i].name);
    fputc('\n', out);
}

typedef struct ranked {
    const dcm_diag *diag;
    size_t order;
} ranked;

static int by_position(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    int c = strcmp(a->diag->file, b->diag->file);
    if (c == 0)
        c = (a->diag->line > b->diag->line) - (a->diag->line < b->diag->line);
    if (c == 0)
        c = (a->diag->column > b->diag->column) - (a->diag->column < b->diag->column);
    if (c == 0)
        c = (a->order > b->order) - (a->order < b->order);
    return c;
}

/* Prints in file order, which is how a user fixes them (the loader finds them section by
 * section); with quiet, errors only. */
static void print_diags(const dcm_diags *d, bool quiet, FILE *out)
{
    ranked *r = malloc((d->count ? d->count : 1) * sizeof(*r));
    dcm_diag *sorted = malloc((d->count ? d->count : 1) * sizeof(*sorted));
    if (!r || !sorted) {
        dcm_diags_print(d, out);
        goto done;
    }
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++)
        if (!quiet || d->items[i].severity == DCM_DIAG_ERROR)
            r[n++] = (ranked){&d->items[i], i};
    qsort(r, n, sizeof(*r), by_position);
    for (size_t i = 0; i < n; i++)
        sorted[i] = *r[i].diag;
    dcm_diags view = *d;
    view.items = sorted;
    view.count = n;
    dcm_diags_print(&view, out);
done:
    free(r);
    free(sorted);
}

static void explain_keys(const dcm_config_key *keys, FILE *out)
{
    for (const dcm_config_key *k = keys; k && k->name; k++) {
        char dflt[64];
        if (k->required)
            snprintf(dflt, sizeof(dflt), "required");
        else if (k->default_value)
            snprintf(dflt, sizeof(dflt), "default %s", k->default_value);
        else
            snprintf(dflt, sizeof(dflt), "optional");
        fprintf(out, "  %-18s %-9s %-16s %s\n", k->name, dcm_config_key_type_name(k->type), dflt,
                k->doc ? k->doc : "");
    }
}

/* `check --explain [TYPE]`: the key tables, from the descriptors compiled into this build. */
static int explain(const char *type)
{
    const dcm_collector_descriptor *const *all = dcm_collector_all();
    size_t n = 0, shown = 0;
    const char *names[64];
    for (size_t i = 0; all[i]; i++) {
        if (n < 64)
            names[n++] = all[i]->name;
        if (type && strcmp(type, all[i]->name) != 0)
            continue;
        printf("%s%s: %s\n", shown++ ? "\n" : "", all[i]->name,
               all[i]->description ? all[i]->description : "");
        explain_keys(all[i]->keys, stdout);
    }
    if (type && shown == 0) {
        const char *s = dcm_suggest(type, names, n);
        fprintf(stderr, "dcmetrics check: no compiled-in collector type '%s'%s%s%s\n", type,
                s ? ", did you mean '" : "", s ? s : "", s ? "'?" : "");
        return 2;
    }
    printf("%skeys of every collector entry:\n", shown ? "\n" : "");
    explain_keys(dcm_config_collector_common_keys(), stdout);
    printf("secret keys also take KEY_file: PATH or KEY_env: NAME\n");
    return 0;
}

int dcm_cmd_check(int argc, char **argv)
{
    const char *path = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            path = a + 9;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--explain") == 0) {
            if (i + 2 < argc || (i + 1 < argc && argv[i + 1][0] == '-')) {
                usage(stderr);
                return 2;
            }
            return explain(i + 1 < argc ? argv[i + 1] : NULL);
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "dcmetrics check: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!path || !path[0]) {
        fprintf(stderr, "dcmetrics check: no configuration given\n");
        usage(stderr);
        return 2;
    }

    int rc = 2;
    dcm_config *cfg = NULL;
    dcm_instrument_period *periods = NULL;
    size_t nperiods = 0;
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_config_err err = dcm_config_load(path, &cfg, &diags);
    if (err == DCM_CONFIG_OK) {
        check_selectors(cfg, &diags);
#ifdef DCM_WITH_MODBUS
        /* Profiles, points and serial ports: what the collector's init would refuse. */
        dcm_mb_check_config(cfg, &diags);
#endif
#ifdef DCM_WITH_REDFISH
        /* BMC lists, URLs, credentials: what the Redfish collector's init would refuse. */
        rf_check_config(cfg, &diags);
#endif
        dcm_calendar cal;
        if (!dcm_site_calendar(cfg->site.timezone, &cal)) {
            dcm_diags_add(&diags, DCM_DIAG_ERROR, path, 0, 0, "site.timezone",
                          "the C library cannot load time zone '%s'", cfg->site.timezone);
        } else if (!dcm_site_instruments(&cfg->site, &cal, &periods, &nperiods, &diags)) {
            err = DCM_CONFIG_ENOMEM;
        }
    }
    print_diags(&diags, quiet, stderr);
    if (err == DCM_CONFIG_ENOMEM) {
        fprintf(stderr, "%s: %s\n", path, dcm_config_strerror(err));
        rc = 1;
        goto done;
    }
    if (err != DCM_CONFIG_OK || diags.errors > 0) {
        fprintf(stderr, "%s: %s: %zu error%s\n", path,
                dcm_config_strerror(err != DCM_CONFIG_OK ? err : DCM_CONFIG_EINVALID),
                diags.errors, diags.errors == 1 ? "" : "s");
        rc = 2;
        goto done;
    }
    if (!quiet)
        print_summary(cfg, nperiods, stdout);
    rc = 0;
done:
    free(periods);
    dcm_config_destroy(cfg);
    dcm_diags_free(&diags);
    return rc;
}
