/* family.h — the BERT family's configs and checkpoint key names for the converter (family.c). */
#ifndef BL_FAMILY_H
#define BL_FAMILY_H

#include "base/internal.h"
#include "base/json.h"

#define BL_SRC_NAME 160   /* longest checkpoint key tried */

/* The config of a Hugging Face config.json of the family (model_type decides; a missing one
   with a Bert* architecture is BERT), the task head from its architecture and the labels from
   id2label (n_labels strings each followed by '\n', malloc'd; NULL without a head). An
   unsupported model_type is an error that lists the supported ones. Returns 0 or -1. */
int bl_family_config(const bl_json *j, bl_config *cf, char **labels, size_t *labels_len, bl_err *e);
/* The checkpoint keys under which canonical tensor `canon` may be stored for this config, in
   the order to try them (with and without the family prefix, LayerNorm gamma/beta). Returns
   how many were written to out (at most max). */
int bl_family_sources(const bl_config *cf, const char *canon, char out[][BL_SRC_NAME], int max);
/* The family's default token for a special role: 0 cls, 1 sep, 2 pad, 3 mask, 4 unk. */
const char *bl_family_default_special(int family, int role);

#endif
