/* SPDX-License-Identifier: Apache-2.0 */
/* Internal base64 helpers shared by base64.c and serial.c (not public API). */
#ifndef SMPDFU_BASE64_PRIV_H
#define SMPDFU_BASE64_PRIV_H

#include <stddef.h>
#include <stdint.h>

/* Value 0..63 of a base64 character, -1 if outside the alphabet ('=' too). */
int smpdfu_b64_value(uint8_t c);
/* Encode 1..3 bytes into 4 characters, '=' padded. */
void smpdfu_b64_encode_group(const uint8_t *in, size_t n, char out[4]);
/* Decode one 4-character group: bytes (1..3) or SMPDFU_EBASE64. */
int smpdfu_b64_decode_group(const uint8_t q[4], uint8_t out[3]);

#endif
