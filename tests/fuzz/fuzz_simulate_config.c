/* Fuzzes the facility simulator's configuration (`dcmetrics simulate -c`): any bytes must
 * load or be refused with diagnostics. A configuration that loads has every served point
 * encoded as the server would, from values taken from the input itself. Any crash, leak or
 * undefined behaviour is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "modbus_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcm_diags diags;
    dcm_mbs_config *cfg = NULL;
    dcm_diags_init(&diags);
    if (dcm_mbs_config_parse_text((const char *)data, size, "fuzz", &cfg, &diags) == DCM_MBS_OK) {
        for (size_t i = 0; i < cfg->device_count; i++) {
            const dcm_mbs_device *d = &cfg->devices[i];
            for (size_t k = 0; k < d->point_count; k++) {
                uint16_t regs[4] = {0};
                double v = (double)(size ? data[k % size] : 0) * 1e6 - 3e7;
                dcm_mbs_encode_point(&d->points[k], v * d->values[k].factor, regs);
            }
        }
    }
    dcm_mbs_config_destroy(cfg);
    dcm_diags_free(&diags);
    return 0;
}
