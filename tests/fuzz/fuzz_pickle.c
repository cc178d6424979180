/* fuzz_pickle.c — libFuzzer target for the restricted torch pickle reader and the streaming zip
   reader. First byte even: the rest is a data.pkl given to bl_pickle_state_dict directly (what
   it returns must be self-consistent: tensors inside their storages). Odd: the rest is a
   pytorch_model.bin pushed through the converter (zip records, data descriptors, CRC-32,
   storages streamed into tensors). Seeds: tests/fuzz/corpus_pickle/ (torch.save output of
   tests/data/make_hf.py, whole files and their data.pkl). Built by tests/fuzz/run.sh. */
#include "fuzz_conv_common.h"
#include "model/convert_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] & 1) {
        fz_convert("pytorch_model.bin", data + 1, size - 1);
        return 0;
    }
    bl_pk_result r;
    bl_err e;
    if (bl_pickle_state_dict("data.pkl", data + 1, size - 1, &r, &e) == 0) {
        for (int i = 0; i < r.n; i++) {
            const bl_src_tensor *t = &r.t[i];
            REQUIRE(t->storage >= 0 && t->storage < r.nstorages && t->name);
            const bl_pk_storage *s = &r.storages[t->storage];
            REQUIRE(t->begin <= t->end && t->end <= s->numel * (uint64_t)s->esize);
            REQUIRE(t->esize == s->esize && t->ndim >= 0 && t->ndim <= 8);
        }
        bl_pk_result_free(&r);
    } else {
        REQUIRE(strlen(e.msg) > 0);
    }
    return 0;
}
