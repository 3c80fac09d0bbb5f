/* The provider registry and the adapter contract's shared helpers (see sw_adapter.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_adapter.h"

#include <stdlib.h>
#include <string.h>

void sw_page_free(struct sw_page *page)
{
    if (!page) {
        return;
    }
    sw_jdoc_free(&page->doc); /* body lives in it */
    cJSON_Delete(page->result);
    free(page->next);
    memset(page, 0, sizeof(*page));
}

static void provider_destroy(struct sw_provider *p)
{
    if (!p) {
        return;
    }
    if (p->ad && p->ad->destroy) {
        p->ad->destroy(p);
    }
    free(p);
}

void sw_registry_init(struct sw_registry *reg)
{
    reg->v = NULL;
    reg->n = 0;
}

void sw_registry_free(struct sw_registry *reg)
{
    size_t i;

    if (!reg) {
        return;
    }
    for (i = 0; i < reg->n; i++) {
        provider_destroy(reg->v[i]);
    }
    free(reg->v);
    reg->v = NULL;
    reg->n = 0;
}

int sw_registry_add(struct sw_registry *reg, struct sw_provider *p, struct sw_status *st)
{
    struct sw_provider **nv;

    if (sw_registry_find(reg, p->name)) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "provider %s is defined twice", p->name);
        provider_destroy(p);
        return -1;
    }
    nv = realloc(reg->v, (reg->n + 1) * sizeof(*nv));
    if (!nv) {
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
        provider_destroy(p);
        return -1;
    }
    reg->v = nv;
    reg->v[reg->n++] = p;
    return 0;
}

const struct sw_provider *sw_registry_find(const struct sw_registry *reg, const char *name)
{
    size_t i;

    for (i = 0; reg && name && i < reg->n; i++) {
        if (!strcmp(reg->v[i]->name, name)) {
            return reg->v[i];
        }
    }
    return NULL;
}
