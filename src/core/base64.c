/* SPDX-License-Identifier: Apache-2.0 */
/* Standard base64 (RFC 4648 alphabet, '=' padding) over caller buffers. */
#include "smpdfu/serial.h"

#include "base64_priv.h"

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int smpdfu_b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

void smpdfu_b64_encode_group(const uint8_t *in, size_t n, char out[4])
{
    uint32_t v = (uint32_t)in[0] << 16;
    if (n > 1) {
        v |= (uint32_t)in[1] << 8;
    }
    if (n > 2) {
        v |= in[2];
    }
    out[0] = b64_alphabet[(v >> 18) & 0x3fu];
    out[1] = b64_alphabet[(v >> 12) & 0x3fu];
    out[2] = n > 1 ? b64_alphabet[(v >> 6) & 0x3fu] : '=';
    out[3] = n > 2 ? b64_alphabet[v & 0x3fu] : '=';
}

int smpdfu_b64_decode_group(const uint8_t q[4], uint8_t out[3])
{
    int v[4];
    int pad = 0;

    for (int i = 0; i < 4; i++) {
        if (q[i] == '=') {
            /* '=' only in the last two places, and nothing after it. */
            if (i < 2) {
                return SMPDFU_EBASE64;
            }
            pad++;
            v[i] = 0;
        } else {
            if (pad > 0) {
                return SMPDFU_EBASE64;
            }
            v[i] = smpdfu_b64_value(q[i]);
            if (v[i] < 0) {
                return SMPDFU_EBASE64;
            }
        }
    }
    uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) |
                 (uint32_t)v[3];
    out[0] = (uint8_t)(w >> 16);
    out[1] = (uint8_t)(w >> 8);
    out[2] = (uint8_t)w;
    return 3 - pad;
}

int smpdfu_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t need = (n + 2) / 3 * 4;
    if ((in == NULL && n > 0) || (out == NULL && need > 0)) {
        return SMPDFU_EINVAL;
    }
    if (need > cap || need > 0x7fffffffu) {
        return SMPDFU_ENOSPC;
    }
    for (size_t i = 0, o = 0; i < n; i += 3, o += 4) {
        smpdfu_b64_encode_group(in + i, n - i < 3 ? n - i : 3, out + o);
    }
    return (int)need;
}

int smpdfu_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    size_t o = 0;
    if ((in == NULL && n > 0) || (out == NULL && cap > 0)) {
        return SMPDFU_EINVAL;
    }
    if (n % 4 != 0 || n / 4 * 3 > 0x7fffffffu) {
        return SMPDFU_EBASE64;
    }
    for (size_t i = 0; i < n; i += 4) {
        uint8_t q[4];
        uint8_t b[3];
        for (int k = 0; k < 4; k++) {
            q[k] = (uint8_t)in[i + (size_t)k];
        }
        int got = smpdfu_b64_decode_group(q, b);
        if (got < 0) {
            return got;
        }
        if (got < 3 && i + 4 < n) {
            return SMPDFU_EBASE64; /* padding before the end */
        }
        if (o + (size_t)got > cap) {
            return SMPDFU_ENOSPC;
        }
        for (int k = 0; k < got; k++) {
            out[o++] = b[k];
        }
    }
    return (int)o;
}
