/* test_sha256.c — SHA-256 against the FIPS 180-2 / NIST test vectors, and streaming
   (arbitrary update splits) against one-shot hashing. */
#include "bertlens.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

static void hex(const uint8_t d[32], char out[65]) {
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_vec(const char *msg, size_t len, const char *want) {
    uint8_t d[32]; char h[65];
    bl_sha256(msg, len, d);
    hex(d, h);
    CHECK(strcmp(h, want) == 0, "sha256 of %zu bytes: got %s want %s", len, h, want);
}

int main(void) {
    /* FIPS 180-2 appendix B and the well-known empty-string digest */
    check_vec("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_vec("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_vec(m2, strlen(m2), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m3 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_vec(m3, strlen(m3), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

    /* one million 'a', fed in uneven pieces to exercise the partial-block path */
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    check_vec(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    bl_sha256_ctx s; uint8_t d[32]; char h[65];
    bl_sha256_init(&s);
    size_t off = 0, step = 1;
    while (off < 1000000) {
        size_t n = step < 1000000 - off ? step : 1000000 - off;
        bl_sha256_update(&s, a + off, n);
        off += n; step = step * 3 % 1000 + 1;
    }
    bl_sha256_final(&s, d);
    hex(d, h);
    CHECK(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
          "streamed 1M 'a': %s", h);

    /* lengths around the padding boundary (55, 56, 63, 64, 65 bytes): compare one-shot with
       byte-at-a-time; known digest of 64 'a' from the python hashlib reference */
    for (size_t n = 50; n < 130; n++) {
        uint8_t d1[32], d2[32];
        bl_sha256(a, n, d1);
        bl_sha256_init(&s);
        for (size_t i = 0; i < n; i++) bl_sha256_update(&s, a + i, 1);
        bl_sha256_final(&s, d2);
        CHECK(memcmp(d1, d2, 32) == 0, "split mismatch at length %zu", n);
    }
    check_vec(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    check_vec(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check_vec(a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    free(a);
    return check_summary("test_sha256");
}
