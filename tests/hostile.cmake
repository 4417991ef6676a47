# Hostile input: the HTTP parser in isolation, then the agent as a real process under
# hostile clients, over HTTPS and with authentication.
pgvitals_add_test(test_request unit unit/request_test.cpp)
# Floods, slow clients and answer-time bounds: measured alone (RUN_SERIAL), as the fault
# suite is, so other tests' load is not what they measure.
add_executable(test_hostile
                            ${CMAKE_CURRENT_SOURCE_DIR}/fault/hostile_http_test.cpp)
target_link_libraries(test_hostile PRIVATE pgvitals_testsupport pgvitals_catch_main PkgConfig::HTTPLIB)
target_include_directories(test_hostile PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
pgvitals_set_warnings(test_hostile)
pgvitals_discover_tests(test_hostile LABELS integration fault TIMEOUT 120 RUN_SERIAL
                        FIXTURES_REQUIRED pg_template
                        ENVIRONMENT "PGVITALS_PG_TEMPLATE=${PGVITALS_PG_TEMPLATE}")
pgvitals_add_test(test_tls_auth integration fault/tls_auth_test.cpp)
target_link_libraries(test_tls_auth PRIVATE PkgConfig::HTTPLIB)
target_include_directories(test_tls_auth PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
