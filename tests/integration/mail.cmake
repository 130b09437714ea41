# The real Dovecot + Postfix harness (tests/integration/mailpeers.py) checks
# itself. Needs root and the packages dovecot-imapd dovecot-lmtpd postfix
# openssl; without them the test is skipped (exit 0), unless
# WB_REQUIRE_MAILPEERS=1 makes it fail.
find_program(PYTHON3 python3 REQUIRED)
add_test(NAME integration_mailpeers
         COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_mailpeers.py)
set_tests_properties(integration_mailpeers PROPERTIES LABELS integration TIMEOUT 300
  ENVIRONMENT "WB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
