/* Closest-name suggestions (see sw_suggest.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_suggest.h"

#include <ctype.h>
#include <string.h>

#define NAME_MAX_LEN 64

static int fold(char c)
{
    return c == '-' || c == '.' ? '_' : tolower((unsigned char)c);
}

size_t sw_suggest_distance(const char *a, const char *b)
{
    /* Three rows of the optimal-string-alignment table: enough for transpositions. */
    size_t prev2[NAME_MAX_LEN + 1], prev[NAME_MAX_LEN + 1], cur[NAME_MAX_LEN + 1];
    size_t la = strlen(a), lb = strlen(b), i, j;

    if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN) {
        return (size_t)-1;
    }
    for (j = 0; j <= lb; j++) {
        prev[j] = j;
        prev2[j] = j;
    }
    for (i = 1; i <= la; i++) {
        cur[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t cost = fold(a[i - 1]) != fold(b[j - 1]);
            size_t best = prev[j - 1] + cost;

            if (prev[j] + 1 < best) {
                best = prev[j] + 1;
            }
            if (cur[j - 1] + 1 < best) {
                best = cur[j - 1] + 1;
            }
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
                fold(a[i - 2]) == fold(b[j - 1]) && prev2[j - 2] + 1 < best) {
                best = prev2[j - 2] + 1;
            }
            cur[j] = best;
        }
        memcpy(prev2, prev, sizeof(prev));
        memcpy(prev, cur, sizeof(cur));
    }
    return prev[lb];
}

void sw_suggest_init(struct sw_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->dist = (size_t)-1;
}

void sw_suggest_offer(struct sw_suggest *s, const char *candidate)
{
    size_t len = strlen(s->word);
    /* A third of the word's length, at least one edit and at most three: close enough to be a
     * slip of the keyboard, far enough apart not to suggest an unrelated name. */
    size_t limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
    size_t d;

    if (!candidate || !*candidate) {
        return;
    }
    d = sw_suggest_distance(s->word, candidate);
    if (d <= limit && d < s->dist) {
        s->best = candidate;
        s->dist = d;
    }
}
