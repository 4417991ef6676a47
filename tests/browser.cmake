# The status page in a real browser (Debian's headless chromium, from scripts/install-deps)
# against a real agent and PostgreSQL. PGVITALS_ARTIFACTS=<dir> keeps its screenshot there:
#   PGVITALS_ARTIFACTS=$PWD/docs ctest --test-dir build -R test_browser
add_executable(test_browser
                            ${CMAKE_CURRENT_SOURCE_DIR}/browser/status_page_browser_test.cpp)
target_include_directories(test_browser PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
target_link_libraries(test_browser PRIVATE pgvitals_testsupport pgvitals_catch_main PkgConfig::HTTPLIB
                                           nlohmann_json::nlohmann_json)
pgvitals_set_warnings(test_browser)
# RUN_SERIAL: a Chromium render is the heaviest thing the suite runs, and the basic-auth
# case failed once in CI's ASan run with three other tests beside it; alone it takes ~25 s.
pgvitals_discover_tests(test_browser LABELS browser TIMEOUT 180 RUN_SERIAL FIXTURES_REQUIRED pg_template
                        ENVIRONMENT "PGVITALS_PG_TEMPLATE=${PGVITALS_PG_TEMPLATE}")
