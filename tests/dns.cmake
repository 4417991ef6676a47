# Name lookups: the agent in a mount namespace whose resolv.conf names a DNS server the test
# runs (tests/support/fake_dns), so it needs root, as the fault suite does. Its assertions
# are about cadence, so its cases run alone (RUN_SERIAL).
add_executable(test_dns
                        ${CMAKE_CURRENT_SOURCE_DIR}/dns/dns_test.cpp)
target_include_directories(test_dns PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
target_link_libraries(test_dns PRIVATE pgvitals_testsupport pgvitals_catch_main nlohmann_json::nlohmann_json)
pgvitals_set_warnings(test_dns)
pgvitals_discover_tests(test_dns LABELS integration fault dns TIMEOUT 120 RUN_SERIAL
                        FIXTURES_REQUIRED pg_template
                        ENVIRONMENT "PGVITALS_PG_TEMPLATE=${PGVITALS_PG_TEMPLATE}")
