# wb_email_send against the real Postfix + Dovecot harness (mailpeers.py),
# through tests/unit/email/email_send_driver. Skipped (exit 0) without root
# and the mail packages, unless WB_REQUIRE_MAILPEERS=1 makes it fail.
find_program(PYTHON3 python3 REQUIRED)
if(TARGET email_send_driver)
  add_test(NAME integration_email_smtp
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_email_smtp.py)
  set_tests_properties(integration_email_smtp PROPERTIES LABELS integration TIMEOUT 300
    ENVIRONMENT "WB_SOURCE_DIR=${PROJECT_SOURCE_DIR};EMAIL_SEND_DRIVER=$<TARGET_FILE:email_send_driver>")
endif()
