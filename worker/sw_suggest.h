/* "Did you mean ...?": the closest of a set of known names to a misspelled one, for errors about
 * option names, configuration keys, environment variables, credentials and settings.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_SUGGEST_H
#define SW_SUGGEST_H

#include <stddef.h>

/* Offer every known name with sw_suggest_offer, then read best: the closest one close enough to
 * be a likely misspelling (case, a dropped or swapped character, '-' for '_'), or NULL. */
struct sw_suggest {
    const char *word;
    const char *best;
    size_t dist;
};

void sw_suggest_init(struct sw_suggest *s, const char *word);
void sw_suggest_offer(struct sw_suggest *s, const char *candidate);

/* Edit distance between a and b, ignoring case and treating '-', '_' and '.' alike; transposed
 * neighbours count as one edit. Names longer than 64 bytes compare as far apart. */
size_t sw_suggest_distance(const char *a, const char *b);

#endif
