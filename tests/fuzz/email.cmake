# The email channel's MIME-to-model parser (connectors/email/email_parse.c).
wb_fuzzer(fuzz_email_mime ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_email_mime.c wb_conn_email)
