# The fault suite: the agent as a real process against faults injected into a real
# PostgreSQL and a TCP proxy. Its assertions are about answer times, so its cases run
# alone (RUN_SERIAL), not beside the rest of the suite.
add_executable(test_fault
                          ${CMAKE_CURRENT_SOURCE_DIR}/fault/fault_test.cpp
                          ${CMAKE_CURRENT_SOURCE_DIR}/fault/cadence_test.cpp)
target_include_directories(test_fault PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
target_link_libraries(test_fault PRIVATE pgvitals_testsupport pgvitals_catch_main nlohmann_json::nlohmann_json)
pgvitals_set_warnings(test_fault)
pgvitals_discover_tests(test_fault LABELS integration fault TIMEOUT 120 RUN_SERIAL
                        FIXTURES_REQUIRED pg_template
                        ENVIRONMENT "PGVITALS_PG_TEMPLATE=${PGVITALS_PG_TEMPLATE}")
