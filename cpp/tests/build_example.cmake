# Builds examples/cpp exactly as a user would, against the installed tree that
# `${RAY_CLI} cpp --show-library-path` names:
#   MODE=gxx:   ${CXX} -std=c++17 -I$INC objects.cc -L$LIB -lray_api -o ${OUT}/objects
#               (no rpath: the tests run it with LD_LIBRARY_PATH=$LIB, as the README says)
#   MODE=cmake: cmake -S ${SRC} -B ${OUT} -DRAY_CLI=${RAY_CLI} && cmake --build ${OUT}
foreach(var MODE CXX RAY_CLI SRC OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "build_example.cmake needs -D${var}=...")
  endif()
endforeach()

execute_process(
  COMMAND "${RAY_CLI}" cpp --show-library-path
  RESULT_VARIABLE result
  OUTPUT_VARIABLE paths
  ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "`${RAY_CLI} cpp --show-library-path` failed (run `scripts/cpp.sh build`, "
                      "which installs the library):\n${paths}\n${err}")
endif()
string(REGEX MATCH "Ray C\\+\\+ include path ([^ \n]+)" _ "${paths}${err}")
set(INC "${CMAKE_MATCH_1}")
string(REGEX MATCH "Ray C\\+\\+ library path ([^ \n]+)" _ "${paths}${err}")
set(LIB "${CMAKE_MATCH_1}")
if(NOT EXISTS "${INC}/ray/api.h" OR NOT EXISTS "${LIB}/libray_api.so")
  message(FATAL_ERROR "`ray cpp --show-library-path` printed no installed tree:\n${paths}")
endif()
file(MAKE_DIRECTORY "${OUT}")

if(MODE STREQUAL "gxx")
  execute_process(
    COMMAND "${CXX}" -std=c++17 "-I${INC}" "${SRC}/objects.cc" "-L${LIB}" -lray_api
            -o "${OUT}/objects"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "g++ failed on ${SRC}/objects.cc:\n${out}\n${err}")
  endif()
elseif(MODE STREQUAL "cmake")
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${SRC}" -B "${OUT}" "-DRAY_CLI=${RAY_CLI}"
            "-DCMAKE_CXX_COMPILER=${CXX}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "configuring ${SRC} failed:\n${out}\n${err}")
  endif()
  execute_process(
    COMMAND "${CMAKE_COMMAND}" --build "${OUT}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "building ${SRC} failed:\n${out}\n${err}")
  endif()
else()
  message(FATAL_ERROR "MODE must be gxx or cmake, not ${MODE}")
endif()
if(NOT EXISTS "${OUT}/objects")
  message(FATAL_ERROR "no ${OUT}/objects after the build")
endif()
message(STATUS "built ${OUT}/objects (${MODE}, include ${INC}, library ${LIB})")
