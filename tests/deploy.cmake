# Deployment files (config/, Dockerfile): parsed and cross-checked by test_deploy, and the
# example configuration run through the agent's own validation.
add_executable(test_deploy
                           ${CMAKE_CURRENT_SOURCE_DIR}/unit/deploy_test.cpp
                           ${CMAKE_CURRENT_SOURCE_DIR}/unit/deploy_kubernetes_test.cpp)
target_link_libraries(test_deploy PRIVATE pgvitals_catch_main yaml-cpp)
# temp_dir.hpp only: the deploy checks need no agent, libpq or server support.
target_include_directories(test_deploy PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_compile_definitions(test_deploy PRIVATE PGVITALS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                               PGVITALS_BINARY="$<TARGET_FILE:pgvitals>")
add_dependencies(test_deploy pgvitals)
pgvitals_set_warnings(test_deploy)
pgvitals_discover_tests(test_deploy LABELS unit)

# As shipped; DATABASE_URL unset so the caller's environment cannot help or hurt.
add_test(NAME example_config_is_valid
         COMMAND ${CMAKE_COMMAND} -E env --unset=DATABASE_URL --unset=PGVITALS_CONFIG
                 $<TARGET_FILE:pgvitals> run --check-config
                 --config ${PROJECT_SOURCE_DIR}/config/pgvitals.yaml)
set_tests_properties(example_config_is_valid PROPERTIES LABELS unit)

# Syntax only: the rule files it loads are checked by the alert tests.
find_program(PGVITALS_PROMTOOL promtool)
if(PGVITALS_PROMTOOL)
  add_test(NAME deploy_prometheus_config_is_valid
           COMMAND ${PGVITALS_PROMTOOL} check config --syntax-only
                   ${PROJECT_SOURCE_DIR}/config/prometheus/prometheus.yml)
  set_tests_properties(deploy_prometheus_config_is_valid PROPERTIES LABELS unit)
endif()

# Only where systemd-analyze exists; the binary path is swapped for the built one, since
# /usr/local/bin/pgvitals is not installed here.
find_program(PGVITALS_SYSTEMD_ANALYZE systemd-analyze)
if(PGVITALS_SYSTEMD_ANALYZE)
  add_test(NAME deploy_systemd_unit_verifies
           COMMAND sh -c "d=$(mktemp -d) && sed 's#/usr/local/bin/pgvitals#$<TARGET_FILE:pgvitals>#g' \"$1\" > \"$d/pgvitals.service\" && \"$2\" verify \"$d/pgvitals.service\"; rc=$?; rm -rf \"$d\"; exit $rc"
                   sh ${PROJECT_SOURCE_DIR}/config/systemd/pgvitals.service
                   ${PGVITALS_SYSTEMD_ANALYZE})
  set_tests_properties(deploy_systemd_unit_verifies PROPERTIES LABELS unit)
endif()
