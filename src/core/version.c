/* SPDX-License-Identifier: Apache-2.0 */
#include "smpdfu/version.h"

const char *smpdfu_version(void)
{
    return SMPDFU_VERSION_STRING;
}
