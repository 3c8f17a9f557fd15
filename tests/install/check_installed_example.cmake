# The installed package as another project uses it (ctest runs this with
# cmake -P): `cmake --install` of this build tree into a fresh prefix, then
# examples/ configured against that prefix alone (find_package(heed)), built,
# and run. Its translation must be what the installed heed prints with the
# same options, and the installed heed must use the installed model.
# -D arguments: BUILD_DIR (this build tree), SOURCE_DIR, WORK_DIR (scratch).
cmake_minimum_required(VERSION 3.23)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    string(JOIN " " command ${ARGN})
    message(FATAL_ERROR "${command}\nexited with ${status}:\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
foreach(pattern "^bin/heed$" "^include/heed/heed\\.h$" "^lib[^ ]*/libheed\\.a$"
                "^lib[^ ]*/cmake/heed/heedConfig\\.cmake$"
                "^share/heed/models/multi30k-en-de/ensemble\\.yml$"
                "^share/heed/models/multi30k-en-de/a/model\\.safetensors$")
  set(found ${installed})
  list(FILTER found INCLUDE REGEX "${pattern}")
  if(NOT found)
    message(FATAL_ERROR "cmake --install put nothing matching ${pattern} under ${prefix}")
  endif()
endforeach()

# Configured with the prefix as the only place to find heed; HEED_MODEL unset,
# so both programs use the shipped model as installed.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples -B ${WORK_DIR}/example
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix})
file(STRINGS ${WORK_DIR}/example/CMakeCache.txt heed_dir REGEX "^heed_DIR:")
string(FIND "${heed_dir}" "heed_DIR:PATH=${prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "the example found heed elsewhere than in ${prefix}: ${heed_dir}")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/example)

set(sentences "Two dogs play in the snow." "A little girl climbing into a wooden playhouse.")
set(env ${CMAKE_COMMAND} -E env --unset=HEED_MODEL)
run(${env} ${WORK_DIR}/example/translate ${sentences})
set(from_library "${out}")
run(${env} ${prefix}/bin/heed translate --beam-size 4 ${sentences})
if(NOT from_library STREQUAL out OR NOT out MATCHES "Hunde")
  message(FATAL_ERROR "the example printed\n${from_library}\nbut the installed heed\n${out}")
endif()
message(STATUS "the example, linked against ${prefix}, translated:\n${from_library}")

run(${env} ${prefix}/bin/heed info)
file(REAL_PATH ${prefix} real_prefix) # heed finds its model from its real path
string(FIND "${out}" "ensemble: ${real_prefix}/share/heed/models/multi30k-en-de/ensemble.yml (" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the installed heed does not use the installed model:\n${out}")
endif()
