# libFuzzer harnesses for the config and DSN parsers (fuzz/), built with clang into
# build-fuzz/ and run for a bounded time over their seed corpora. Needs clang-14 and
# libclang-rt-14-dev; `ctest -L fuzz` runs only this.
add_test(NAME fuzz_config_and_dsn COMMAND ${PROJECT_SOURCE_DIR}/scripts/fuzz --seconds 20)
set_tests_properties(fuzz_config_and_dsn PROPERTIES LABELS fuzz TIMEOUT 600)
