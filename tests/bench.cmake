# Smoke runs of the benchmarks (bench/compare --quick, bench/fleet --quick, render_cost,
# bench/replication_cost --quick): they must start everything, measure and print their
# table; each exits non-zero when a measurement is missing (a tool never answered, no
# samples, a statement not seen in pg_stat_statements). No figure is asserted here; the real
# runs and their results are in docs/BENCHMARKS.md. Serial, so that their load (wrk, a
# hundred targets) neither disturbs nor is disturbed by the timing-sensitive tests.
add_test(NAME bench_compare_smoke COMMAND compare --quick)
set_tests_properties(bench_compare_smoke PROPERTIES LABELS bench RUN_SERIAL TRUE TIMEOUT 600)
add_test(NAME bench_fleet_smoke COMMAND fleet --quick)
set_tests_properties(bench_fleet_smoke PROPERTIES LABELS bench RUN_SERIAL TRUE TIMEOUT 600)
add_test(NAME bench_replication_cost_smoke COMMAND replication_cost --quick)
set_tests_properties(bench_replication_cost_smoke PROPERTIES LABELS bench RUN_SERIAL TRUE
                     TIMEOUT 600)
add_test(NAME bench_pooler_cost_smoke COMMAND pooler_cost --quick)
set_tests_properties(bench_pooler_cost_smoke PROPERTIES LABELS bench RUN_SERIAL TRUE TIMEOUT 600)
add_test(NAME bench_render_cost_smoke COMMAND render_cost --targets 50 --runs 2)
set_tests_properties(bench_render_cost_smoke PROPERTIES LABELS bench RUN_SERIAL TRUE TIMEOUT 120)
