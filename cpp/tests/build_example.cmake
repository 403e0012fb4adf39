# Builds an example exactly as a user would against the installed tree:
#   ${CXX} -std=c++17 -I${INC} ${SRC} -L${LIB} -lray_api -Wl,-rpath,${LIB} -o ${OUT}
foreach(var CXX INC LIB SRC OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "build_example.cmake needs -D${var}=...")
  endif()
endforeach()
if(NOT EXISTS "${INC}/ray/api.h" OR NOT EXISTS "${LIB}/libray_api.so")
  message(FATAL_ERROR "no installed tree at ${INC} / ${LIB}: run `scripts/cpp.sh build` (it installs) first")
endif()
execute_process(
  COMMAND "${CXX}" -std=c++17 "-I${INC}" "${SRC}" "-L${LIB}" -lray_api "-Wl,-rpath,${LIB}" -o "${OUT}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "building ${SRC} failed:\n${out}\n${err}")
endif()
message(STATUS "built ${OUT}")
