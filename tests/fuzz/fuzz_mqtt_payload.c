/* Fuzzes the MQTT payload code with arbitrary journal record bodies and point ids: a body
 * is either refused or comes out as a JSON object with exactly one top-level "ts"; a topic
 * never contains a wildcard and always fits its buffer. No crash, leak or UB. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    int had = dcm_mqtt_json_has_member(body, size, "ts");
    size_t len = 0;
    char *p = dcm_mqtt_body_payload(body, size, 1735689600000000000LL, &len);
    if ((p == NULL) != (had < 0))
        abort();
    if (p && dcm_mqtt_json_has_member(p, len, "ts") != 1)
        abort();
    free(p);

    /* The same bytes as a point id (up to the first NUL). */
    char *id = malloc(size + 1);
    if (!id)
        return 0;
    memcpy(id, data, size);
    id[size] = '\0';
    dcm_jrec r = {.type = DCM_JREC_SAMPLE, .point = id, .unit = "W", .value = 1};
    char topic[DCM_MQTT_TOPIC_MAX];
    size_t tl = dcm_mqtt_topic(topic, sizeof topic, "dcmetrics", "site", &r);
    if (tl && (tl != strlen(topic) || strpbrk(topic, "+#")))
        abort();
    r.value = size % 2 ? (double)size / 0.0 : 0.0 / 0.0; /* Inf or NaN: must be null */
    p = dcm_mqtt_point_payload(&r, &len);
    if (p && (!strstr(p, "\"value\":null,\"unit\":\"W\",\"quality\":\"invalid\"}") ||
              dcm_mqtt_json_has_member(p, len, "value") != 1))
        abort();
    free(p);
    free(id);
    return 0;
}
