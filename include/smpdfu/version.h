/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu's version: the one place it is set (CMake reads it from here). */
#ifndef SMPDFU_VERSION_H
#define SMPDFU_VERSION_H

#define SMPDFU_VERSION_MAJOR 0
#define SMPDFU_VERSION_MINOR 2
#define SMPDFU_VERSION_PATCH 0
#define SMPDFU_VERSION_STRING "0.2.0"
/* One number that orders versions: 0xMMmmpp. */
#define SMPDFU_VERSION_NUMBER ((SMPDFU_VERSION_MAJOR << 16) | (SMPDFU_VERSION_MINOR << 8) | SMPDFU_VERSION_PATCH)

/* The version the library was built as (SMPDFU_VERSION_STRING of the library,
 * which may differ from the header a program was compiled against).
 * Returns a static string; never fails. */
const char *smpdfu_version(void);

#endif
