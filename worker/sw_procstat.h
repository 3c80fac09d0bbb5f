/* The process_* metrics of Prometheus' conventions (CPU seconds, resident memory, open and
 * maximum file descriptors, start time), read from /proc at each scrape.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_PROCSTAT_H
#define SW_PROCSTAT_H

#include "sw_buf.h"

/* Append the process_* families to b. A value /proc does not give (another kernel, a sandbox)
 * is left out, not invented. 0, or -1 when b is full. */
int sw_procstat_render(struct sw_buf *b);

#endif
