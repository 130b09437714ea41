# The email channel against a real Dovecot + Postfix (tests/integration/mailpeers.py):
# ingest, \Seen after commit, restarts, UIDVALIDITY changes, threaded replies,
# and an untrusted certificate refused. Skipped without root and the mail
# packages unless WB_REQUIRE_MAILPEERS=1.
find_program(PYTHON3 python3 REQUIRED)
add_test(NAME integration_email
         COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_email.py)
set_tests_properties(integration_email PROPERTIES LABELS integration TIMEOUT 600
  ENVIRONMENT "WB_SOURCE_DIR=${PROJECT_SOURCE_DIR};WARBLERD=$<TARGET_FILE:warblerd>")
