/* SPDX-License-Identifier: MIT */
/*
 * guest.c - backend-neutral helpers over the guest ops table (guest.h):
 * per-page XXH3-64 hashes, used by the sender and the receiver to prove
 * that the destination holds the source's memory as of the suspension.
 */
#include "guest.h"

#include <stdlib.h>
#include <xxhash.h>

#include "stream_format.h"

uint64_t mig_page_hash(const void *page)
{
    return (uint64_t)XXH3_64bits(page, MIG_PAGE_SIZE);
}

int mig_guest_hash_pages(struct mig_guest *g, uint64_t nr_pages,
                         uint64_t *out)
{
    uint8_t *page = malloc(MIG_PAGE_SIZE);
    int rc = 0;

    if (!page)
        return MIG_ENOMEM;
    for (uint64_t pfn = 0; pfn < nr_pages; pfn++) {
        rc = g->ops->read_page(g, pfn, page);
        if (rc)
            goto out_free_page;
        out[pfn] = mig_page_hash(page);
    }
out_free_page:
    free(page);
    return rc;
}
