# web/wasm.cmake — the Emscripten build, included by CMakeLists.txt when EMSCRIPTEN.
#
#   export NODE_PATH=/usr/share/nodejs        # Debian's emcc needs it to find acorn
#   emcmake cmake -S . -B build-web -DCMAKE_BUILD_TYPE=Release \
#       -DCMAKE_CROSSCOMPILING_EMULATOR="/usr/bin/node;--no-experimental-fetch"
#   cmake --build build-web -j2
#
# Produces the static site in build-web/site/ (serve.sh does all of this):
#   bertlens_core.js/.wasm   the core (BL_CORE_SRC) + the exports core/api/*.c, a classic script that
#                            defines BertlensCore() (importScripts in the worker, require in node)
#   bertlens_core_mt.js/.wasm/.worker.js  the same built with -pthread: the worker loads it
#                            instead when the page is cross-origin isolated (threads need
#                            SharedArrayBuffer, which needs COOP/COEP headers; serve.sh sends
#                            them, GitHub Pages cannot)
#   bertlens_core_relaxed.js/.wasm, bertlens_core_relaxed_mt.*  both again with relaxed SIMD
#                            (clang-19 only; worker.js picks them where the browser has it)
#   index.html app.js worker.js style.css offline.js fonts/  copied from web/
#   sw.js                    the offline service worker, stamped with the build hash (web/sw.cmake)
#   weights/manifest.json + the model files it lists (copied by web/site.cmake on every build)

set(BL_SITE_DIR ${CMAKE_BINARY_DIR}/site)
# the browser boundary: every core/api/*.c (wasm_api.c the viewer, wasm_convert.c the converter)
file(GLOB BL_API_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/core/api/*.c)

add_executable(bertlens_core ${BL_CORE_SRC} ${BL_API_SRC})
target_include_directories(bertlens_core PRIVATE ${CMAKE_SOURCE_DIR}/core /usr/include/stb)
# -O3 even for other build types: the page is only usable optimised; SIMD kernels are chosen at
# compile time from __wasm_simd128__ (the page refuses browsers without SIMD with a message).
target_compile_options(bertlens_core PRIVATE -O3 -msimd128)
set(BL_WASM_LINK
  -O3 -msimd128
  -sMODULARIZE=1 -sEXPORT_NAME=BertlensCore
  # web: tests in a page; worker: the real use; node: tests/e2e/wasm_api.test.mjs
  -sENVIRONMENT=web,worker,node
  -sFILESYSTEM=0
  # weights live in WASM memory (bert-base int8 ~110 MB + activations), so grow, but cap below
  # what 32-bit browsers and phones refuse outright
  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=33554432 -sMAXIMUM_MEMORY=1073741824
  # grow by what is asked plus at most 16 MB (emcc's default adds 20%, up to 96 MB: bert-base at
  # n = 512 held 350 MB of WASM memory for 291 MB in use; WASM memory never shrinks)
  -sMEMORY_GROWTH_GEOMETRIC_CAP=16777216
  -sEXPORTED_FUNCTIONS=_malloc,_free
  -sEXPORTED_RUNTIME_METHODS=UTF8ToString
  -sINCOMING_MODULE_JS_API=wasmBinary,locateFile,print,printErr,onAbort
  -sDYNAMIC_EXECUTION=0   # no eval/new Function: the page's CSP forbids them
  -sTEXTDECODER=2
)
target_link_options(bertlens_core PRIVATE ${BL_WASM_LINK})
target_link_libraries(bertlens_core PRIVATE m)
set_target_properties(bertlens_core PROPERTIES SUFFIX ".js" RUNTIME_OUTPUT_DIRECTORY ${BL_SITE_DIR})

# The threaded core: up to 4 threads (the caller and a pool of up to 3 Web Workers started with
# the module, so pthread_create never waits for the event loop, which the blocked caller never
# returns to). Growth of shared memory is allowed (emcc warns that JS reads of the heap get
# slower: worker.js reads it only to copy results out).
add_executable(bertlens_core_mt ${BL_CORE_SRC} ${BL_API_SRC})
target_include_directories(bertlens_core_mt PRIVATE ${CMAKE_SOURCE_DIR}/core /usr/include/stb)
target_compile_options(bertlens_core_mt PRIVATE -O3 -msimd128 -pthread)
# (TEXTDECODER=0: TextDecoder refuses views of shared memory, which emcc 3.1.6 hands it)
list(TRANSFORM BL_WASM_LINK REPLACE "^-sINCOMING_MODULE_JS_API=.*" "" OUTPUT_VARIABLE BL_WASM_LINK_MT)
list(TRANSFORM BL_WASM_LINK_MT REPLACE "^-sTEXTDECODER=2$" "-sTEXTDECODER=0")
# The pool: one worker per further CPU, at most 3 (each costs a start-up and its own instance)
# Pool threads run the linear kernels, and the relaxed one keeps 128 KiB of activation digits on
# the stack: 2 MiB each, emcc 3.1.6's default, written out because later emcc defaults to 64 KiB.
list(APPEND BL_WASM_LINK_MT -pthread -sUSE_PTHREADS=1 -sDEFAULT_PTHREAD_STACK_SIZE=2097152
  "-sPTHREAD_POOL_SIZE=Math.min(3,Math.max(1,(globalThis.navigator&&globalThis.navigator.hardwareConcurrency||2)-1))"
  -sINCOMING_MODULE_JS_API=wasmBinary,locateFile,print,printErr,onAbort,mainScriptUrlOrBlob
  -Wno-pthreads-mem-growth)
target_link_options(bertlens_core_mt PRIVATE ${BL_WASM_LINK_MT})
target_link_libraries(bertlens_core_mt PRIVATE m)
set_target_properties(bertlens_core_mt PROPERTIES SUFFIX ".js" RUNTIME_OUTPUT_DIRECTORY ${BL_SITE_DIR})

# The relaxed-SIMD cores bertlens_core_relaxed.js/.wasm and bertlens_core_relaxed_mt.js/.wasm/
# .worker.js: the same sources, exports and link flags as the two above, compiled by clang 19
# with -mrelaxed-simd (tools/build_relaxed.sh: Debian's emcc drives clang 14, which has no relaxed
# SIMD), so bl_kernels_best() takes the int8 linear on i32x4.relaxed_dot_i8x16_i7x16_add_s
# (core/kernels/kernels_relaxed.c, bit-identical to SIMD128's). worker.js loads them where the
# browser validates relaxed SIMD and they are on the site; without clang-19 the site has the
# SIMD128 cores only and works the same. (-O3 is left out: the script links at -O1, which keeps
# binaryen, whose version mangles relaxed opcodes, away from the module.)
find_program(BL_CLANG_RELAXED clang-19)
if(BL_CLANG_RELAXED)
  file(GLOB BL_CORE_HDR CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/core/*.h ${CMAKE_SOURCE_DIR}/core/*/*.h)
  list(REMOVE_ITEM BL_WASM_LINK -O3)
  list(REMOVE_ITEM BL_WASM_LINK_MT -O3)
  set(BL_RX_DEPS ${BL_CORE_SRC} ${BL_API_SRC} ${BL_CORE_HDR} ${CMAKE_SOURCE_DIR}/tools/build_relaxed.sh)
  set(BL_RX_ENV ${CMAKE_COMMAND} -E env BL_CLANG_RELAXED=${BL_CLANG_RELAXED})
  add_custom_command(OUTPUT ${BL_SITE_DIR}/bertlens_core_relaxed.js ${BL_SITE_DIR}/bertlens_core_relaxed.wasm
    COMMAND ${BL_RX_ENV} ${CMAKE_SOURCE_DIR}/tools/build_relaxed.sh ${CMAKE_BINARY_DIR}/relaxed-obj
      ${BL_SITE_DIR}/bertlens_core_relaxed.js ${BL_CORE_SRC} ${BL_API_SRC} -- ${BL_WASM_LINK}
    DEPENDS ${BL_RX_DEPS}
    COMMENT "Relaxed-SIMD core (clang 19): bertlens_core_relaxed.js"
    VERBATIM)
  add_custom_command(OUTPUT ${BL_SITE_DIR}/bertlens_core_relaxed_mt.js ${BL_SITE_DIR}/bertlens_core_relaxed_mt.wasm
      ${BL_SITE_DIR}/bertlens_core_relaxed_mt.worker.js
    COMMAND ${BL_RX_ENV} BL_RELAXED_CFLAGS=-pthread ${CMAKE_SOURCE_DIR}/tools/build_relaxed.sh
      ${CMAKE_BINARY_DIR}/relaxed-mt-obj ${BL_SITE_DIR}/bertlens_core_relaxed_mt.js ${BL_CORE_SRC} ${BL_API_SRC}
      -- ${BL_WASM_LINK_MT}
    DEPENDS ${BL_RX_DEPS}
    COMMENT "Relaxed-SIMD threaded core (clang 19): bertlens_core_relaxed_mt.js"
    VERBATIM)
  add_custom_target(bertlens_core_relaxed ALL DEPENDS ${BL_SITE_DIR}/bertlens_core_relaxed.js
    ${BL_SITE_DIR}/bertlens_core_relaxed_mt.js)
else()
  message(STATUS "clang-19 not found: the site gets no relaxed-SIMD core (tools/deps.sh web installs clang-19)")
endif()

# Static files, font and default model, refreshed on every build (cheap: copy_if_different).
add_custom_target(site ALL
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DDST=${BL_SITE_DIR} -P ${CMAKE_SOURCE_DIR}/web/site.cmake
  # sw.js with the build hash (web/sw.cmake): the offline cache's version
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DDST=${BL_SITE_DIR} -P ${CMAKE_SOURCE_DIR}/web/sw.cmake
  COMMENT "Assembling the static site in ${BL_SITE_DIR}"
  VERBATIM)
add_dependencies(site bertlens_core bertlens_core_mt)
if(TARGET bertlens_core_relaxed)
  add_dependencies(site bertlens_core_relaxed)   # before sw.cmake hashes the site
endif()
