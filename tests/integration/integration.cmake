# Whole-daemon tests (label: integration). They start warblerd from this
# build on ephemeral loopback ports.
find_program(PYTHON3 python3 REQUIRED)
foreach(t test_api_e2e test_durability test_llm)
  add_test(NAME integration_${t}
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/${t}.py)
  set_tests_properties(integration_${t} PROPERTIES LABELS integration TIMEOUT 600
    ENVIRONMENT "WB_SOURCE_DIR=${PROJECT_SOURCE_DIR};WARBLERD=$<TARGET_FILE:warblerd>")
endforeach()
