# Name lookups: the agent in a mount namespace whose resolv.conf names a DNS server the test
# runs (tests/support/fake_dns), so it needs root, as the fault suite does. Its assertions
# are about cadence, so its cases run alone (RUN_SERIAL).
add_executable(test_dns ${CMAKE_CURRENT_SOURCE_DIR}/catch_main.cpp
                        ${CMAKE_CURRENT_SOURCE_DIR}/dns/dns_test.cpp)
target_include_directories(test_dns PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
target_link_libraries(test_dns PRIVATE pgvitals_testsupport Catch2::Catch2 nlohmann_json::nlohmann_json)
pgvitals_set_warnings(test_dns)
catch_discover_tests(test_dns TEST_PREFIX "test_dns: " TEST_LIST test_dns_TESTS
  PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE FIXTURES_REQUIRED pg_template
             ENVIRONMENT "PGVITALS_PG_TEMPLATE=${PGVITALS_PG_TEMPLATE}")
# Two labels cannot pass through catch_discover_tests' PROPERTIES (the list is split into
# separate arguments), so they are set after discovery, from a CTest include that runs
# after the one catch_discover_tests registered.
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/test_dns_labels.cmake
     "set_tests_properties(\${test_dns_TESTS} PROPERTIES LABELS \"integration;fault;dns\")\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
             ${CMAKE_CURRENT_BINARY_DIR}/test_dns_labels.cmake)
