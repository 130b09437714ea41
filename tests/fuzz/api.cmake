wb_fuzzer(fuzz_api_parse ${CMAKE_CURRENT_LIST_DIR}/fuzz_api_parse.c wb_conn_api)
