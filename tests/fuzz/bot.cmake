# The bot's knowledge-file parser harness (see tests/fuzz/fuzz_kb.c).
wb_fuzzer(fuzz_kb ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_kb.c wb_bot)
