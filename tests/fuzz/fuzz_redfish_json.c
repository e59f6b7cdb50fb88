/* Arbitrary bytes through the JSON reader and every document reader the Redfish collector
 * applies to a BMC's answers (links, members, readings, sensors, link cleaning). Any crash,
 * leak or undefined behaviour is a bug; a link that comes out must stay inside /redfish/v1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "rf_doc.h"

static void check_path(const char *p)
{
    if (p[0] && (strncmp(p, "/redfish/v1", 11) != 0 || strstr(p, "/..") || strchr(p, ' ')))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcm_jr_doc *doc = NULL;
    size_t at = 0;
    if (dcm_jr_parse((const char *)data, size, &doc, &at) == DCM_JR_OK) {
        const dcm_jr_node *root = dcm_jr_root(doc);
        rf_links l;
        rf_doc_links(root, &l);
        check_path(l.chassis);
        check_path(l.metrics);
        char members[4][RF_PATH_MAX];
        size_t n = rf_doc_members(root, members, 4);
        for (size_t i = 0; i < n; i++)
            check_path(members[i]);
        rf_reading r;
        rf_doc_environment(root, &r);
        rf_doc_psu_metrics(root, &r);
        rf_doc_pdu_metrics(root, &r);
        rf_doc_legacy_power(root, &r);
        double v;
        bool whole;
        rf_doc_sensor(root, &v, &whole);
        rf_doc_absent(root);
    } else if (doc) {
        abort();
    }
    dcm_jr_free(doc);
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
        char out[RF_PATH_MAX];
        if (rf_path_clean(text, out))
            check_path(out);
        free(text);
    }
    return 0;
}
