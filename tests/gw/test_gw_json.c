/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's JSON tokenizer and job decoder: RFC 8259 cases accepted and
 * refused, nesting limit, lookups, string decoding, and job documents
 * decoded or refused with their reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smpdfu/gw_job.h"
#include "smpdfu/gw_json.h"

static smpdfu_json_tok_t tok[64];

static int parse(const char *s)
{
    return smpdfu_json_parse(s, strlen(s), tok, 64);
}

static void test_accepts(void **state)
{
    (void)state;
    assert_int_equal(parse("{}"), 1);
    assert_int_equal(parse(" [1, -2.5e+3, 0, true, false, null, \"x\"] "), 8);
    assert_int_equal(parse("{\"a\": {\"b\": [1, {\"c\": \"\\u0041\\n\"}]}}"), 9);
    assert_int_equal(parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), 1);
    assert_int_equal(parse("-0.0E-1"), 1);
    /* parent and next links */
    assert_int_equal(parse("{\"a\": [1, 2], \"b\": 3}"), 7);
    assert_int_equal(tok[0].next, 7);
    assert_int_equal(tok[2].type, SMPDFU_JSON_ARRAY);
    assert_int_equal(tok[2].next, 5);
    assert_int_equal(tok[3].parent, 2);
}

static void test_refuses(void **state)
{
    (void)state;
    const char *bad[] = {"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1: 2}", "01", "1.", ".5",
                         "1e", "-", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12g4\"", "[1] 2", "{\"a\":1}}",
                         "[1 2]", "\"a\nb\"", "+1", "[}", "{]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse(bad[i]);
        if (rc != SMPDFU_EMALFORMED) {
            fail_msg("accepted or wrong error for '%s': %d", bad[i], rc);
        }
    }
    char deep[80];
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = 0;
    assert_int_equal(parse(deep), SMPDFU_EDEPTH);
    deep[32] = 0;
    memset(deep, '[', 32);
    memset(deep + 32, ']', 32);
    deep[64] = 0;
    assert_int_equal(parse(deep), 32);
    assert_int_equal(smpdfu_json_parse("[1,2,3]", 7, tok, 3), SMPDFU_ENOSPC);
}

static void test_lookup_and_values(void **state)
{
    (void)state;
    const char *s = "{\"x\": {\"k\": 1}, \"k\": \"v\\u0021\", \"n\": 12345678901, \"f\": 1.5, \"neg\": -7}";
    int n = parse(s);
    assert_true(n > 0);
    int k = smpdfu_json_get(s, tok, n, 0, "k");
    char out[16];
    assert_int_equal(smpdfu_json_str(s, &tok[k], out, sizeof(out)), 2);
    assert_string_equal(out, "v!");
    assert_int_equal(smpdfu_json_str(s, &tok[k], out, 2), SMPDFU_ENOSPC);
    int64_t v;
    assert_int_equal(smpdfu_json_int(s, &tok[smpdfu_json_get(s, tok, n, 0, "n")], 0, INT64_MAX, &v), 0);
    assert_true(v == 12345678901LL);
    assert_int_equal(smpdfu_json_int(s, &tok[smpdfu_json_get(s, tok, n, 0, "n")], 0, 100, &v), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_json_int(s, &tok[smpdfu_json_get(s, tok, n, 0, "f")], 0, 100, &v), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_json_int(s, &tok[smpdfu_json_get(s, tok, n, 0, "neg")], -10, 0, &v), 0);
    assert_true(v == -7);
    assert_int_equal(smpdfu_json_get(s, tok, n, 0, "missing"), -1);
    assert_int_equal(smpdfu_json_get(s, tok, n, 1, "k"), -1); /* a string, not an object */
    assert_int_equal(smpdfu_json_get(s, tok, n, 2, "k"), 4);  /* the inner object */
    char q[64];
    smpdfu_json_quote(q, sizeof(q), "a\"b\\c\n\x01");
    assert_string_equal(q, "\"a\\\"b\\\\c\\u000a\\u0001\"");
}

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static smpdfu_gw_msg_t dec(const char *doc, bool allow_http, smpdfu_gw_job_t *job, char *why)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), "{\"timestamp\": 1, \"execution\": {\"jobId\": \"job-1\", \"versionNumber\": 4, "
                               "\"jobDocument\": %s}}", doc);
    return smpdfu_gw_job_decode(msg, strlen(msg), allow_http, job, why, 300, tok, 64);
}

static void test_jobs(void **state)
{
    (void)state;
    smpdfu_gw_job_t j;
    char why[300];
    assert_int_equal(dec("{\"operation\": \"dfu\", \"url\": \"https://h/a.bin\", \"sha256\": \"" SHA
                         "\", \"mode\": \"test-only\", \"image\": 1, \"size\": 4096}", false, &j, why),
                     SMPDFU_GW_MSG_JOB);
    assert_string_equal(j.job_id, "job-1");
    assert_true(j.version == 4);
    assert_int_equal(j.op, SMPDFU_GW_OP_DFU);
    assert_int_equal(j.mode, SMPDFU_DFU_TEST_ONLY);
    assert_int_equal(j.image, 1);
    assert_true(j.size == 4096);
    assert_int_equal(j.sha256[0], 0x01);
    assert_int_equal(j.sha256[31], 0xef);
    assert_int_equal(dec("{\"operation\": \"reset\"}", false, &j, why), SMPDFU_GW_MSG_JOB);
    assert_int_equal(j.op, SMPDFU_GW_OP_RESET);
    assert_int_equal(dec("{\"operation\": \"image-list\"}", false, &j, why), SMPDFU_GW_MSG_JOB);
    /* refusals with the job id kept */
    struct {
        const char *doc;
        const char *words;
    } bad[] = {
        {"\"text\"", "no jobDocument object"},
        {"{}", "no \"operation\""},
        {"{\"operation\": \"erase\"}", "unknown operation \"erase\""},
        {"{\"operation\": \"dfu\", \"sha256\": \"" SHA "\"}", "no image \"url\""},
        {"{\"operation\": \"dfu\", \"url\": \"http://h/a\", \"sha256\": \"" SHA "\"}", "not https://"},
        {"{\"operation\": \"dfu\", \"url\": \"file:///etc/passwd\", \"sha256\": \"" SHA "\"}", "must be https://"},
        {"{\"operation\": \"dfu\", \"url\": \"https://h/a b\", \"sha256\": \"" SHA "\"}", "spaces"},
        {"{\"operation\": \"dfu\", \"url\": \"https://h/a\", \"sha256\": \"xyz\"}", "64 hex digits"},
        {"{\"operation\": \"dfu\", \"url\": \"https://h/a\", \"sha256\": \"" SHA "\", \"image\": 16}", "0 to 15"},
        {"{\"operation\": \"dfu\", \"url\": \"https://h/a\", \"sha256\": \"" SHA "\", \"image\": 1.0}", "0 to 15"},
        {"{\"operation\": \"dfu\", \"url\": \"https://h/a\", \"sha256\": \"" SHA "\", \"mode\": \"x\"}", "mode must"},
        {"{\"operation\": \"dfu\", \"url\": \"https://h/a\", \"sha256\": \"" SHA "\", \"size\": 3}", "image size"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        smpdfu_gw_msg_t m = dec(bad[i].doc, false, &j, why);
        if (m != SMPDFU_GW_MSG_BAD_DOC || !strstr(why, bad[i].words) || strcmp(j.job_id, "job-1")) {
            fail_msg("%s: got %d '%s'", bad[i].doc, m, why);
        }
    }
    assert_int_equal(dec("{\"operation\": \"dfu\", \"url\": \"http://h/a\", \"sha256\": \"" SHA "\"}", true, &j, why),
                     SMPDFU_GW_MSG_JOB);
    /* no job at all, or no usable id */
    const char *none = "{\"timestamp\": 1}";
    assert_int_equal(smpdfu_gw_job_decode(none, strlen(none), false, &j, why, sizeof(why), tok, 64),
                     SMPDFU_GW_MSG_NONE);
    const char *badid = "{\"execution\": {\"jobId\": \"a/b\", \"jobDocument\": {}}}";
    assert_int_equal(smpdfu_gw_job_decode(badid, strlen(badid), false, &j, why, sizeof(why), tok, 64),
                     SMPDFU_GW_MSG_MALFORMED);
    assert_int_equal(smpdfu_gw_job_decode("[", 1, false, &j, why, sizeof(why), tok, 64), SMPDFU_GW_MSG_MALFORMED);
    assert_non_null(strstr(why, "not JSON"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_lookup_and_values),
        cmocka_unit_test(test_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
