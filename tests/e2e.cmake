# End to end: a real PostgreSQL, the agent, and a real Prometheus loading our rules.
add_executable(test_e2e
                        ${CMAKE_CURRENT_SOURCE_DIR}/e2e/prometheus_e2e_test.cpp
                        ${CMAKE_CURRENT_SOURCE_DIR}/e2e/fleet_e2e_test.cpp
                        ${CMAKE_CURRENT_SOURCE_DIR}/e2e/replication_e2e_test.cpp
                        ${CMAKE_CURRENT_SOURCE_DIR}/e2e/pgbouncer_e2e_test.cpp
                        ${CMAKE_CURRENT_SOURCE_DIR}/e2e/artefacts.cpp
                        ${CMAKE_CURRENT_SOURCE_DIR}/support/prometheus_process.cpp)
target_include_directories(test_e2e PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent ${CMAKE_CURRENT_SOURCE_DIR}/e2e)
target_link_libraries(test_e2e PRIVATE pgvitals_testsupport pgvitals_catch_main nlohmann_json::nlohmann_json
                                       yaml-cpp PkgConfig::HTTPLIB)
target_compile_definitions(test_e2e PRIVATE PGVITALS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
pgvitals_set_warnings(test_e2e)
pgvitals_discover_tests(test_e2e LABELS integration e2e TIMEOUT 240 FIXTURES_REQUIRED pg_template
                        ENVIRONMENT "PGVITALS_PG_TEMPLATE=${PGVITALS_PG_TEMPLATE}")
# The 100-target case is a scale test scraped every second with a 1 s scrape timeout: beside
# three other server tests on 2 cores its scrapes time out, which measures the machine, not
# the agent (seen once the replication probe added a query per target). It runs alone.
set(fleet_serial "${CMAKE_CURRENT_BINARY_DIR}/test_e2e_fleet_serial.cmake")
file(WRITE "${fleet_serial}"
     "foreach(t IN LISTS test_e2e_TESTS)\n"
     "  if(t MATCHES \"at 100 targets\")\n"
     "    set_tests_properties(\"\${t}\" PROPERTIES RUN_SERIAL TRUE)\n"
     "  endif()\n"
     "endforeach()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${fleet_serial}")
