/* The compiled-in collectors. CMake options decide which are here. */
#include <string.h>

#include "dcm/collector.h"

#ifdef DCM_WITH_SIM
extern const dcm_collector_descriptor dcm_sim_collector;
#endif
#ifdef DCM_WITH_MODBUS
extern const dcm_collector_descriptor dcm_modbus_collector;
#endif

static const dcm_collector_descriptor *const builtin[] = {
#ifdef DCM_WITH_SIM
    &dcm_sim_collector,
#endif
#ifdef DCM_WITH_MODBUS
    &dcm_modbus_collector,
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
