# Every supported server version (scripts/test --all-versions). test_versions holds what
# must hold on each version; it runs in the default suite on Debian's server like the rest.
# For each major version in PGVITALS_PG_VERSIONS (scripts/install-pg puts the servers in
# place), the cases that touch a server run again against that version: PGVITALS_TEST_PG
# picks the server, each version has its own template fixture, and its tests are named
# "pg<v> <binary>: <case>" and labelled matrix and pg<v>. The default run leaves the label
# matrix out.
pgvitals_add_test(test_versions integration integration/versions_test.cpp)
target_include_directories(test_versions PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
pgvitals_add_test(test_replication integration agent/replication_agent_test.cpp)
target_include_directories(test_replication PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
target_link_libraries(test_replication PRIVATE nlohmann_json::nlohmann_json)

set(PGVITALS_PG_VERSIONS "" CACHE STRING "Server major versions of the test matrix, e.g. 13;14;16;17;18")

# Whole binaries: the pg, pool, activity and TLS/SCRAM layers, the version checks, and
# replication against a standby of the same version.
set(matrix_whole test_pg test_pool test_activity test_tls test_versions test_replication)
# The agent end to end, a database through PgBouncer, application budgets, and the fault
# subset (stop, freeze, terminate): cases tagged [matrix].
set(matrix_tagged test_agent test_pgbouncer test_app_budget)

foreach(v IN LISTS PGVITALS_PG_VERSIONS)
  set(variant pg${v})
  set(env "PGVITALS_TEST_PG=${v}" "PGVITALS_PG_TEMPLATE=${PGVITALS_PG_TEMPLATE}")
  add_test(NAME ${variant}_template_setup COMMAND pg-sandbox template)
  add_test(NAME ${variant}_template_cleanup
           COMMAND ${CMAKE_COMMAND} -E rm -rf ${PGVITALS_PG_TEMPLATE}-${variant})
  set_tests_properties(${variant}_template_setup PROPERTIES FIXTURES_SETUP ${variant}_template
                       ENVIRONMENT "${env}" LABELS "matrix;${variant}")
  set_tests_properties(${variant}_template_cleanup PROPERTIES FIXTURES_CLEANUP ${variant}_template
                       LABELS "matrix;${variant}")
  foreach(target IN LISTS matrix_whole matrix_tagged)
    set(spec "*")
    if(target IN_LIST matrix_tagged)
      set(spec "[matrix]")
    endif()
    pgvitals_discover_tests(${target} VARIANT ${variant} TEST_SPEC "${spec}"
                            LABELS integration matrix ${variant} TIMEOUT 120
                            FIXTURES_REQUIRED ${variant}_template ENVIRONMENT ${env})
  endforeach()
  pgvitals_discover_tests(test_fault VARIANT ${variant} TEST_SPEC "[matrix]"
                          LABELS integration fault matrix ${variant} TIMEOUT 120 RUN_SERIAL
                          FIXTURES_REQUIRED ${variant}_template ENVIRONMENT ${env})
endforeach()
