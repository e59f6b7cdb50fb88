/* The compiled-in collectors. CMake options decide which are here. */
#include <string.h>

#include "dcm/collector.h"

#ifdef DCM_WITH_SIM
extern const dcm_collector_descriptor dcm_sim_collector;
#endif
#ifdef DCM_WITH_MODBUS
extern const dcm_collector_descriptor dcm_modbus_collector;
#endif

#ifdef DCM_WITH_SNMP
extern const dcm_collector_descriptor dcm_snmp_collector;
#endif
#ifdef DCM_WITH_NVML
extern const dcm_collector_descriptor dcm_nvml_collector;
#endif
#ifdef DCM_WITH_ROCM
extern const dcm_collector_descriptor dcm_rocm_collector;
#endif
#ifdef DCM_WITH_PROCSTAT
extern const dcm_collector_descriptor dcm_procstat_collector;
#endif
#ifdef DCM_WITH_RAPL
extern const dcm_collector_descriptor dcm_rapl_collector;
#endif
#ifdef DCM_WITH_REDFISH
extern const dcm_collector_descriptor dcm_redfish_collector;
#endif

static const dcm_collector_descriptor *const builtin[] = {
#ifdef DCM_WITH_SIM
    &dcm_sim_collector,
#endif
#ifdef DCM_WITH_MODBUS
    &dcm_modbus_collector,
#endif
#ifdef DCM_WITH_SNMP
    &dcm_snmp_collector,
#endif
#ifdef DCM_WITH_NVML
    &dcm_nvml_collector,
#endif
#ifdef DCM_WITH_ROCM
    &dcm_rocm_collector,
#endif
#ifdef DCM_WITH_PROCSTAT
    &dcm_procstat_collector,
#endif
#ifdef DCM_WITH_RAPL
    &dcm_rapl_collector,
#endif
#ifdef DCM_WITH_REDFISH
    &dcm_redfish_collector,
#endif
    NULL,
};

const dcm_collector_descriptor *const *dcm_collector_all(void) { return builtin; }

const dcm_collector_descriptor *dcm_collector_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; builtin[i]; i++)
        if (strcmp(builtin[i]->name, type) == 0)
            return builtin[i];
    return NULL;
}
