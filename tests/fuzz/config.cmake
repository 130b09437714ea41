# Config loader harness; corpus in corpus/fuzz_config (from tests/fixtures/config).
wb_fuzzer(fuzz_config ${CMAKE_CURRENT_LIST_DIR}/fuzz_config.c wb_config)
# libconfig 1.5 leaks a string token on some syntax errors (see fuzz_config.lsan);
# a libFuzzer run needs the same LSAN_OPTIONS.
if(TARGET fuzz_config_replay)
  set_tests_properties(fuzz_config_replay PROPERTIES
    ENVIRONMENT "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/fuzz_config.lsan")
endif()
