# Grafana dashboards (dashboards/*.json) checked against the metrics the agent exports
# (docs/metrics-sample.prom) and the rules every panel follows.
add_executable(test_dashboards
                               ${CMAKE_CURRENT_SOURCE_DIR}/unit/dashboard_test.cpp
                               ${CMAKE_CURRENT_SOURCE_DIR}/unit/dashboard_lint_test.cpp)
target_link_libraries(test_dashboards PRIVATE pgvitals_catch_main nlohmann_json::nlohmann_json)
target_compile_definitions(test_dashboards PRIVATE PGVITALS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
pgvitals_set_warnings(test_dashboards)
pgvitals_discover_tests(test_dashboards LABELS unit)
