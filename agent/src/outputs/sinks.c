/*
 * sinks.c - the sinks compiled into this build (CMake options DCM_WITH_MQTT and
 * DCM_WITH_INFLUXDB), as the hub sees them.
 */
#include <stddef.h>

#include "outputs/sink.h"

#ifdef DCM_WITH_MQTT
extern const dcm_sink_ops dcm_mqtt_sink;
#endif
#ifdef DCM_WITH_INFLUXDB
extern const dcm_sink_ops dcm_influxdb_sink;
#endif

static const dcm_sink_ops *const all_sinks[] = {
#ifdef DCM_WITH_MQTT
    &dcm_mqtt_sink,
#endif
#ifdef DCM_WITH_INFLUXDB
    &dcm_influxdb_sink,
#endif
    NULL,
};

const dcm_sink_ops *const *dcm_sinks_all(void)
{
    return all_sinks;
}
