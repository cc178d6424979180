# web/sw.cmake — cmake -P script run by the `site` target after web/site.cmake: writes DST/sw.js
# from web/sw.js with @BL_BUILD_HASH@ replaced by a hash of every file of the site (shell, core,
# font, manifest, model). A new build thus gives a new sw.js, which browsers install as an
# update; an unchanged build gives the same bytes (no needless re-download of the model).
#   cmake -DSRC=<repo root> -DDST=<site dir> -P web/sw.cmake
cmake_minimum_required(VERSION 3.19)
file(GLOB_RECURSE files RELATIVE ${DST} ${DST}/*)
list(SORT files)
set(all "")
foreach(f ${files})
  if(f MATCHES "^sw\\.js(\\.tmp)?$" OR f MATCHES "(^|/)\\.")
    continue()
  endif()
  file(SHA256 ${DST}/${f} h)
  string(APPEND all "${f} ${h}\n")
endforeach()
string(SHA256 build_hash "${all}")
string(SUBSTRING ${build_hash} 0 16 build_hash)
file(READ ${SRC}/web/sw.js sw)
string(REPLACE "@BL_BUILD_HASH@" "${build_hash}" sw "${sw}")
file(WRITE ${DST}/sw.js.tmp "${sw}")
file(COPY_FILE ${DST}/sw.js.tmp ${DST}/sw.js ONLY_IF_DIFFERENT)
file(REMOVE ${DST}/sw.js.tmp)
