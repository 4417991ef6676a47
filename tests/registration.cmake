# Lint of the test registration itself: what CTest really loaded, not what the CMake files
# meant. Included by tests/CMakeLists.txt; the check runs in script mode:
#   cmake -DCTEST=ctest -DBUILD_DIR=build -P tests/registration.cmake
# It reads `ctest --show-only=json-v1` and fails unless
#   - there are tests labelled `fault` and every one of them has RUN_SERIAL and a TIMEOUT
#     (their assertions are about answer times: nothing may run beside them);
#   - every case of the test_fault executable is labelled `fault`;
#   - there are tests labelled `e2e`;
#   - every test has at least one label (a registration whose properties were lost shows
#     here first).
# A list passed through catch_discover_tests' PROPERTIES once shifted every key/value pair
# after it, and `ctest -L fault` selected nothing while the suite stayed green.

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.20)  # string(JSON), IN_LIST
  execute_process(COMMAND "${CTEST}" --test-dir "${BUILD_DIR}" --show-only=json-v1
                  OUTPUT_VARIABLE json ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ctest --show-only=json-v1 failed (${rc}):\n${err}")
  endif()
  string(JSON n_tests LENGTH "${json}" tests)
  if(n_tests EQUAL 0)
    message(FATAL_ERROR "no tests registered in ${BUILD_DIR}")
  endif()

  set(errors "")
  set(n_fault 0)
  set(n_e2e 0)
  math(EXPR last "${n_tests} - 1")
  foreach(i RANGE ${last})
    # One test's object at a time: string(JSON) parses its whole input on every call.
    string(JSON test GET "${json}" tests ${i})
    string(JSON name GET "${test}" name)
    string(JSON executable ERROR_VARIABLE no_command GET "${test}" command 0)
    set(labels "")
    set(serial OFF)
    set(timeout "")
    string(JSON n_props ERROR_VARIABLE no_props LENGTH "${test}" properties)
    if(no_props)
      set(n_props 0)
    endif()
    if(n_props GREATER 0)
      math(EXPR last_prop "${n_props} - 1")
      foreach(p RANGE ${last_prop})
        string(JSON key GET "${test}" properties ${p} name)
        if(key STREQUAL "LABELS")
          string(JSON n_labels LENGTH "${test}" properties ${p} value)
          math(EXPR last_label "${n_labels} - 1")
          foreach(l RANGE ${last_label})
            string(JSON label GET "${test}" properties ${p} value ${l})
            list(APPEND labels "${label}")
          endforeach()
        elseif(key STREQUAL "RUN_SERIAL")
          string(JSON serial GET "${test}" properties ${p} value)
        elseif(key STREQUAL "TIMEOUT")
          string(JSON timeout GET "${test}" properties ${p} value)
        endif()
      endforeach()
    endif()

    if(name MATCHES "^(.*)_NOT_BUILT-")
      # Catch's placeholder: the cases of an unbuilt executable cannot be checked.
      string(APPEND errors "  ${CMAKE_MATCH_1}: not built, its tests are unknown\n")
    elseif(NOT labels)
      string(APPEND errors "  ${name}: no label\n")
    endif()
    if("e2e" IN_LIST labels)
      math(EXPR n_e2e "${n_e2e} + 1")
    endif()
    if("fault" IN_LIST labels)
      math(EXPR n_fault "${n_fault} + 1")
      if(NOT serial)
        string(APPEND errors "  ${name}: labelled fault without RUN_SERIAL\n")
      endif()
      if(timeout STREQUAL "")
        string(APPEND errors "  ${name}: labelled fault without TIMEOUT\n")
      endif()
    elseif(NOT no_command AND executable MATCHES "/test_fault$")
      string(APPEND errors "  ${name}: a test_fault case not labelled fault\n")
    endif()
  endforeach()
  if(n_fault EQUAL 0)
    string(APPEND errors "  no test labelled fault (ctest -L fault selects nothing)\n")
  endif()
  if(n_e2e EQUAL 0)
    string(APPEND errors "  no test labelled e2e (ctest -L e2e selects nothing)\n")
  endif()
  if(errors)
    message(FATAL_ERROR "test registration:\n${errors}")
  endif()
  message(STATUS "${n_tests} tests registered, each labelled; ${n_fault} fault tests, all "
                 "RUN_SERIAL with a TIMEOUT; ${n_e2e} e2e tests")
  return()
endif()

add_test(NAME lint_test_registration
         COMMAND ${CMAKE_COMMAND} -DCTEST=${CMAKE_CTEST_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR}
                 -P ${CMAKE_CURRENT_LIST_FILE})
set_tests_properties(lint_test_registration PROPERTIES LABELS lint TIMEOUT 60)
