# libFuzzer harnesses for the config, DSN and HTTP request parsers (fuzz/), built with clang into
# build-fuzz/ and run over their seed corpora for a fixed number of inputs from a fixed
# seed, so the result is the same on every run (exploration: scripts/fuzz --seconds N). Needs clang-14 and
# libclang-rt-14-dev; `ctest -L fuzz` runs only this.
add_test(NAME fuzz_parsers COMMAND ${PROJECT_SOURCE_DIR}/scripts/fuzz --runs 40000 --seed 1)
set_tests_properties(fuzz_parsers PROPERTIES LABELS fuzz TIMEOUT 600)
