/* libFuzzer target: the arena parser (worker/sw_jdoc.c) against cJSON's, and the JSON writer
 * (worker/sw_jw.c) against cJSON_PrintUnformatted. The worker's results must not change by a
 * byte when a document is parsed or a result written the fast way, so any difference aborts:
 * a text one parser takes and the other refuses, a different tree, a different error message,
 * different printed bytes.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_jdoc.h"
#include "sw_json.h"
#include "sw_jw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same tree, down to what printing hides: valueint, and the last element kept in the first
 * one's prev (cJSON_AddItemToArray appends there). */
static void same_tree(const cJSON *a, const cJSON *b)
{
    const cJSON *x;
    const cJSON *y;

    if (a->type != b->type || a->valueint != b->valueint ||
        !(a->valuedouble == b->valuedouble ||
          (a->valuedouble != a->valuedouble && b->valuedouble != b->valuedouble)) ||
        (!a->valuestring != !b->valuestring) ||
        (a->valuestring && strcmp(a->valuestring, b->valuestring)) || (!a->string != !b->string) ||
        (a->string && strcmp(a->string, b->string))) {
        abort();
    }
    for (x = a->child, y = b->child; x && y; x = x->next, y = y->next) {
        same_tree(x, y);
    }
    if (x || y || (a->child && a->child->prev == NULL) ||
        (a->child && (a->child->prev->next != NULL || b->child->prev->next != NULL))) {
        abort();
    }
}

static void same_print(const cJSON *v)
{
    char *want = cJSON_PrintUnformatted(v);
    struct sw_jw w;

    sw_jw_init(&w, (size_t)1 << 26);
    sw_jw_cjson(&w, v);
    if (!want || sw_jw_error(&w) || w.b.len != strlen(want) || memcmp(w.b.data, want, w.b.len)) {
        fprintf(stderr, "cJSON: %s\nsw_jw: %s\n", want ? want : "(null)",
                w.b.data ? w.b.data : "(null)");
        abort();
    }
    sw_jw_free(&w);
    cJSON_free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the depth limit, so deep texts meet both sides of it. */
    int depth = size ? 1 + data[0] % 40 : 32;
    const char *s = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    char e1[128];
    char e2[128];
    struct sw_jdoc doc;
    cJSON *slow = sw_json_parse(s, len, depth, e1, sizeof(e1));
    cJSON *fast;
    int nomem = 0;

    sw_jdoc_init(&doc, 0);
    fast = sw_jdoc_parse_fast(&doc, s, len, depth, &nomem);
    if (!slow != !fast) {
        fprintf(stderr, "cJSON %s, sw_jdoc %s\n", slow ? "accepts" : "refuses",
                fast ? "accepts" : "refuses");
        abort();
    }
    if (slow) {
        same_tree(slow, fast);
        same_print(slow);
        same_print(fast);
    }
    sw_jdoc_reset(&doc, 4096);
    /* The full parse gives sw_json_parse's message for a refused text. */
    if (!sw_jdoc_parse(&doc, s, len, depth, e2, sizeof(e2), &nomem) != !slow ||
        (!slow && strcmp(e1, e2))) {
        abort();
    }
    sw_jdoc_free(&doc);
    cJSON_Delete(slow);
    return 0;
}
