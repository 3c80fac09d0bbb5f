/* Operation names, expanded from the one list in sw_ops.h.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_ops.h"

#include <string.h>

static const char *const names[] = {
#define SW_OP_NAME(id, name, what) name,
    SW_OP_MAP(SW_OP_NAME)
#undef SW_OP_NAME
};

const char *sw_op_name(enum sw_op_id op)
{
    return (unsigned)op < SW_OP__COUNT ? names[op] : NULL;
}

enum sw_op_id sw_op_from_name(const char *name)
{
    int i;

    for (i = 0; name && i < SW_OP__COUNT; i++) {
        if (!strcmp(names[i], name)) {
            return (enum sw_op_id)i;
        }
    }
    return SW_OP__COUNT;
}
