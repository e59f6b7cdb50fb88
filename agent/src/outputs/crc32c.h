/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of journal records and cursor files.
 * Chosen over zlib's CRC-32 for its better error detection on short records and because
 * it is what storage formats (ext4, iSCSI, LevelDB) settled on.
 */
#ifndef DCM_CRC32C_H
#define DCM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of len bytes, continuing from crc (start with 0). Thread-safe. */
uint32_t dcm_crc32c(uint32_t crc, const void *data, size_t len);

#endif
